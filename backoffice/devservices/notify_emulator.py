"""A GC Notify API emulator on 127.0.0.1: the endpoints our client calls, with JWT authentication.

It keeps what it was sent in memory. Tests (and a person trying things) can ask it to fail the next
sends with a given status (500, 503, 429 with Retry-After) through POST /_emulator/fail.
"""

import re
import threading
import time
import uuid
from typing import Any

import jwt
from flask import Flask, jsonify, request
from werkzeug.serving import make_server

EMAIL_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
PHONE_NUMBER = re.compile(r"^\+?1?\d{10}$")
TOKEN_LEEWAY_SECONDS = 30


class NotifyEmulator:
    def __init__(self, service_id: str, secret: str, email_template_id: str, sms_template_id: str) -> None:
        self.service_id, self.secret = service_id, secret
        self.templates = {email_template_id: "email", sms_template_id: "sms"}
        self.notifications: dict[str, dict[str, Any]] = {}
        self.planned_failures: list[tuple[int, int | None]] = []
        self.lock = threading.Lock()
        self.app = self._build_app()

    def fail_next(self, status: int, times: int = 1, retry_after: int | None = None) -> None:
        with self.lock:
            self.planned_failures.extend([(status, retry_after)] * times)

    def sent(self, kind: str | None = None) -> list[dict[str, Any]]:
        with self.lock:
            return [n for n in self.notifications.values() if kind in (None, n["type"])]

    def _build_app(self) -> Flask:
        app = Flask("notify_emulator")

        @app.before_request
        def _authenticate():
            if request.path.startswith("/_emulator"):
                return None
            problem = self._token_problem(request.headers.get("Authorization", ""))
            if problem:
                return _error(403, "AuthError", problem)
            return None

        @app.post("/v2/notifications/<kind>")
        def send(kind: str):
            return self._send(kind, request.get_json(silent=True) or {})

        @app.get("/v2/notifications/<notification_id>")
        def get_one(notification_id: str):
            with self.lock:
                found = self.notifications.get(notification_id)
            return jsonify(found) if found else _error(404, "NoResultFound", "No result found")

        @app.get("/v2/notifications")
        def get_all():
            reference = request.args.get("reference")
            with self.lock:
                found = [n for n in self.notifications.values() if reference in (None, n["reference"])]
            return jsonify({"notifications": found, "links": {"current": request.url}})

        @app.post("/_emulator/fail")
        def plan_failure():
            body = request.get_json(force=True)
            self.fail_next(int(body["status"]), int(body.get("times", 1)), body.get("retry_after"))
            return jsonify({"planned": len(self.planned_failures)})

        @app.get("/_emulator/notifications")
        def everything():
            return jsonify(self.sent())

        return app

    def _token_problem(self, header: str) -> str | None:
        if not header.startswith("Bearer "):
            return "Unauthorized: authentication token must be provided"
        try:
            claims = jwt.decode(header[7:], self.secret, algorithms=["HS256"], options={"verify_iat": False})
        except jwt.InvalidTokenError:
            return "Invalid token: signature, api token not found"
        if claims.get("iss") != self.service_id:
            return "Invalid token: service not found"
        if abs(time.time() - float(claims.get("iat", 0))) > TOKEN_LEEWAY_SECONDS:
            return "Error: Your system clock must be accurate to within 30 seconds"
        return None

    def _send(self, kind: str, body: dict[str, Any]):
        with self.lock:
            if self.planned_failures:
                status, retry_after = self.planned_failures.pop(0)
                response = _error(
                    status, "ServerError" if status >= 500 else "RateLimitError", "Planned failure"
                )
                if retry_after is not None:
                    response[0].headers["Retry-After"] = str(retry_after)
                return response
        if self.templates.get(body.get("template_id")) != kind:
            return _error(400, "BadRequestError", "Template not found")
        recipient = body.get("email_address") if kind == "email" else body.get("phone_number")
        pattern = EMAIL_ADDRESS if kind == "email" else PHONE_NUMBER
        if not recipient or not pattern.match(str(recipient).replace(" ", "").replace("-", "")):
            field = "email_address" if kind == "email" else "phone_number"
            return _error(
                400,
                "ValidationError",
                f"{field} Not a valid {'email address' if kind == 'email' else 'phone number'}",
            )
        notification = {
            "id": str(uuid.uuid4()),
            "reference": body.get("reference"),
            "type": kind,
            "status": "delivered",
            "recipient": recipient,
            "personalisation": body.get("personalisation", {}),
            "template": {"id": body["template_id"], "version": 1},
            "created_at": time.strftime("%Y-%m-%dT%H:%M:%S.000000Z", time.gmtime()),
        }
        with self.lock:
            self.notifications[notification["id"]] = notification
        return jsonify(
            {k: notification[k] for k in ("id", "reference", "template")}
            | {"content": notification["personalisation"]}
        ), 201


def _error(status: int, error: str, message: str):
    return jsonify({"status_code": status, "errors": [{"error": error, "message": message}]}), status


def api_key_parts(api_key: str) -> tuple[str, str]:
    """(service id, secret) from a Notify API key, as the client reads them."""
    return api_key[-73:-37], api_key[-36:]


def serve_in_thread(emulator: NotifyEmulator, port: int = 0):
    """Start the emulator on 127.0.0.1; returns the server (its port is server.server_port)."""
    server = make_server("127.0.0.1", port, emulator.app, threaded=True)
    # A short poll interval lets shutdown() return at once rather than after up to half a second.
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server
