"""A Webex REST API emulator on 127.0.0.1: the part of the meetings and people APIs we call.

It answers as Webex does (bearer token, JSON bodies, `{"message", "errors", "trackingId"}` errors,
204 on delete) and keeps the meetings, their invitees and the emails Webex would have sent in
memory. Tests (and a person trying things) can make it fail the next calls (429 with Retry-After,
5xx) or answer slowly, in-process or through POST /_emulator/fail and /_emulator/delay; in-process, a call
can also be held until the caller releases it, and the caller can wait for the call to arrive.

Alone: python -m backoffice.devservices.webex_emulator --port 6013 --token dev-webex-token
"""

import argparse
import re
import secrets
import threading
import uuid
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from flask import Flask, jsonify, request
from werkzeug.exceptions import HTTPException
from werkzeug.serving import make_server

from backoffice.devservices.processes import serve_until_interrupted

SITE = "irb-cisr.webex.example"
EMAIL_ADDRESS = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
TITLE_MAX_LENGTH = 128
PERSON_ID = "Y2lzY29zcGFyazovL3VzL1BFT1BMRS9lbXVsYXRvci1ob3N0"
PLANNED_MESSAGES = {
    429: "Too many requests have been sent. Retry after the time given in Retry-After.",
    500: "Internal Server Error",
    502: "Bad Gateway",
    503: "Service Unavailable",
    504: "Gateway Timeout",
}
HOLD_LIMIT_SECONDS = 60.0  # a held call is answered after this even if never released


class WebexEmulator:
    def __init__(
        self,
        access_token: str,
        display_name: str = "IRB Hearings Scheduling (emulator)",
        email: str = f"hearings-scheduling@{SITE}",
    ) -> None:
        self.access_token = access_token
        self.person = {
            "id": PERSON_ID,
            "emails": [email],
            "displayName": display_name,
            "nickName": display_name.split()[0],
            "orgId": "Y2lzY29zcGFyazovL3VzL09SR0FOSVpBVElPTi9lbXVsYXRvcg",
            "type": "person",
            "created": "2024-01-15T14:00:00.000Z",
        }
        self.meetings: dict[str, dict[str, Any]] = {}  # id -> the resource, plus "invitees"
        self.calls: list[tuple[str, str]] = []  # (method, path) of every API call, answered or not
        self.emails_sent: list[dict[str, str]] = []  # what Webex itself would have emailed
        self.planned_failures: list[tuple[int, float | None]] = []
        self.planned_delays: list[float] = []
        self.lock = threading.Lock()
        self.held = threading.Condition(self.lock)
        self._waiting: list[threading.Event] = []  # one per call being delayed or held now
        self.app = self._build_app()

    def fail_next(self, status: int, times: int = 1, retry_after: float | None = None) -> None:
        """The next `times` API calls are answered with `status` (and Retry-After, when given)."""
        with self.lock:
            self.planned_failures.extend([(status, retry_after)] * times)

    def delay_next(self, seconds: float, times: int = 1) -> None:
        """The next `times` API calls are answered only after `seconds` (a slow or stuck Webex)."""
        with self.lock:
            self.planned_delays.extend([seconds] * times)

    def hold_next(self, times: int = 1) -> None:
        """The next `times` API calls are answered only when `release()` is called (a Webex busy for as long as
        a test needs), or after HOLD_LIMIT_SECONDS."""
        self.delay_next(HOLD_LIMIT_SECONDS, times)

    def wait_until_held(self, count: int = 1, timeout: float = 30) -> bool:
        """Wait until `count` calls are being delayed or held; whether they were before `timeout` ran out."""
        with self.held:
            return self.held.wait_for(lambda: len(self._waiting) >= count, timeout)

    @property
    def holding(self) -> int:
        """How many calls are being delayed or held, not answered yet."""
        with self.lock:
            return len(self._waiting)

    def release(self) -> None:
        """Answer at once every call being delayed or held."""
        with self.lock:
            waiting, self._waiting = self._waiting, []
        for answer in waiting:
            answer.set()

    def reset(self) -> None:
        with self.lock:
            self.meetings.clear()
            self.calls.clear()
            self.emails_sent.clear()
            self.planned_failures.clear()
            self.planned_delays.clear()
        self.release()

    def _build_app(self) -> Flask:
        app = Flask("webex_emulator")

        @app.before_request
        def _intercept():
            if request.path.startswith("/_emulator"):
                return None
            return self._planned_answer() or self._authentication_problem()

        @app.post("/v1/meetings")
        def create_meeting():
            return self._create(_json_body())

        @app.get("/v1/meetings/<meeting_id>")
        def get_meeting(meeting_id: str):
            with self.lock:
                meeting = self.meetings.get(meeting_id)
                return (jsonify(_resource(meeting)), 200) if meeting else _not_found()

        @app.put("/v1/meetings/<meeting_id>")
        def update_meeting(meeting_id: str):
            return self._update(meeting_id, _json_body())

        @app.delete("/v1/meetings/<meeting_id>")
        def delete_meeting(meeting_id: str):
            with self.lock:
                meeting = self.meetings.pop(meeting_id, None)
                if meeting is None:
                    return _not_found()
                if request.args.get("sendEmail", "true").lower() != "false":
                    self._email_invitees("cancellation", meeting)
            return "", 204

        @app.get("/v1/people/me")
        def me():
            return jsonify(self.person)

        @app.post("/_emulator/fail")
        def plan_failure():
            body = request.get_json(force=True)
            if not isinstance(body, dict) or not str(body.get("status", "")).isdigit():
                return _error(400, 'expected {"status": 503, "times": 1, "retry_after": null}')
            self.fail_next(int(body["status"]), int(body.get("times", 1)), body.get("retry_after"))
            return jsonify({"planned": len(self.planned_failures)})

        @app.post("/_emulator/delay")
        def plan_delay():
            body = request.get_json(force=True)
            if not isinstance(body, dict) or not isinstance(body.get("seconds"), int | float):
                return _error(400, 'expected {"seconds": 5, "times": 1}')
            self.delay_next(float(body["seconds"]), int(body.get("times", 1)))
            return jsonify({"planned": len(self.planned_delays)})

        @app.post("/_emulator/reset")
        def reset():
            self.reset()
            return jsonify({"reset": True})

        @app.get("/_emulator/meetings")
        def everything():
            with self.lock:
                return jsonify(list(self.meetings.values()))

        @app.errorhandler(HTTPException)
        def _http_error(error: HTTPException):
            return _error(error.code or 500, error.description or error.name)

        return app

    def _planned_answer(self):
        with self.lock:
            self.calls.append((request.method, request.path))
            delay = self.planned_delays.pop(0) if self.planned_delays else 0.0
            failure = self.planned_failures.pop(0) if self.planned_failures else None
        if delay:
            self._wait(delay)
        if failure is None:
            return None
        status, retry_after = failure
        response = _error(status, PLANNED_MESSAGES.get(status, "Planned failure"))
        if retry_after is not None:
            response[0].headers["Retry-After"] = str(retry_after)
        return response

    def _wait(self, seconds: float) -> None:
        answer = threading.Event()
        with self.held:
            self._waiting.append(answer)
            self.held.notify_all()
        answer.wait(seconds)
        with self.lock:
            if answer in self._waiting:
                self._waiting.remove(answer)

    def _authentication_problem(self):
        if request.headers.get("Authorization", "") != f"Bearer {self.access_token}":
            return _error(
                401, "The request requires a valid access token set in the Authorization request header."
            )
        return None

    def _create(self, body: dict[str, Any]):
        times, problem = _schedule_from(body)
        invitees = body.get("invitees") or []
        problem = problem or _invitees_problem(invitees)
        if problem:
            return _error(400, problem)
        number = str(secrets.randbelow(9 * 10**10) + 10**10)
        meeting = {
            "id": uuid.uuid4().hex,
            "meetingNumber": number,
            "title": body["title"],
            "password": body.get("password") or _meeting_password(),
            "meetingType": "meetingSeries",
            "state": "active",
            "timezone": times["timezone"],
            "start": times["start"],
            "end": times["end"],
            "hostUserId": self.person["id"],
            "hostDisplayName": self.person["displayName"],
            "hostEmail": self.person["emails"][0],
            "siteUrl": SITE,
            "webLink": f"https://{SITE}/meet/j.php?MTID=m{secrets.token_hex(16)}",
            "sipAddress": f"{number}@{SITE}",
            "scheduledType": "meeting",
            "enabledJoinBeforeHost": False,
            "enabledAutoRecordMeeting": False,
            "invitees": [
                {"id": uuid.uuid4().hex, "email": i["email"], "displayName": i.get("displayName", i["email"])}
                for i in invitees
            ],
        }
        with self.lock:
            self.meetings[meeting["id"]] = meeting
            if body.get("sendEmail", True):
                self._email_invitees("invitation", meeting)
        return jsonify(_resource(meeting)), 200

    def _update(self, meeting_id: str, body: dict[str, Any]):
        times, problem = _schedule_from(body)
        if not problem and not body.get("password"):
            problem = "password is required"
        if problem:
            return _error(400, problem)
        with self.lock:
            meeting = self.meetings.get(meeting_id)
            if meeting is None:
                return _not_found()
            meeting.update(title=body["title"], password=body["password"], **times)
            if body.get("sendEmail", True):
                self._email_invitees("update", meeting)
            return jsonify(_resource(meeting)), 200

    def _email_invitees(self, kind: str, meeting: dict[str, Any]) -> None:
        self.emails_sent.extend(
            {"kind": kind, "meeting_id": meeting["id"], "to": invitee["email"]}
            for invitee in meeting["invitees"]
        )


def _json_body() -> dict[str, Any]:
    body = request.get_json(silent=True)
    return body if isinstance(body, dict) else {}


def _schedule_from(body: dict[str, Any]) -> tuple[dict[str, str], str | None]:
    """Title, start, end and timezone checked as Webex does; start/end given back in the meeting's
    time zone. Times without an offset are in `timezone` (UTC when none is given)."""
    title = body.get("title")
    if not isinstance(title, str) or not title.strip():
        return {}, "title is required"
    if len(title) > TITLE_MAX_LENGTH:
        return {}, f"title must be at most {TITLE_MAX_LENGTH} characters"
    try:
        zone = ZoneInfo(body.get("timezone") or "UTC")
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        return {}, "timezone is not a valid IANA time zone"
    start, end = _moment(body.get("start"), zone), _moment(body.get("end"), zone)
    if start is None or end is None:
        return {}, "start and end are required, in ISO 8601 format"
    if end <= start:
        return {}, "end must be later than start"
    return {
        "timezone": zone.key,
        "start": start.astimezone(zone).isoformat(timespec="seconds"),
        "end": end.astimezone(zone).isoformat(timespec="seconds"),
    }, None


def _moment(value: Any, zone: ZoneInfo) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=zone)


def _invitees_problem(invitees: Any) -> str | None:
    if not isinstance(invitees, list):
        return "invitees must be a list"
    for invitee in invitees:
        email = invitee.get("email") if isinstance(invitee, dict) else None
        if not isinstance(email, str) or not EMAIL_ADDRESS.match(email):
            # Webex quotes the address back; our adapter must not pass this on.
            return f"Invalid invitee email: {email}"
    return None


def _meeting_password() -> str:
    return secrets.token_urlsafe(6)[:8] + "1a"


def _resource(meeting: dict[str, Any]) -> dict[str, Any]:
    """The meeting as the API shows it: invitees are a separate resource (meetingInvitees)."""
    return {key: value for key, value in meeting.items() if key != "invitees"}


def _error(status: int, message: str):
    body = {
        "message": message,
        "errors": [{"description": message}],
        "trackingId": f"ROUTER_{uuid.uuid4()}".upper(),
    }
    return jsonify(body), status


def _not_found():
    return _error(404, "The requested resource could not be found.")


def serve_in_thread(emulator: WebexEmulator, port: int = 0):
    """Start the emulator on 127.0.0.1; returns the server (its port is server.server_port)."""
    server = make_server("127.0.0.1", port, emulator.app, threaded=True)
    # A short poll interval lets shutdown() return at once rather than after up to half a second.
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    return server


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Webex REST API emulator on 127.0.0.1")
    parser.add_argument("--port", type=int, default=6013)
    parser.add_argument("--token", default="dev-webex-token", help="the bearer token it accepts")
    arguments = parser.parse_args(argv)
    server = make_server("127.0.0.1", arguments.port, WebexEmulator(arguments.token).app, threaded=True)
    serve_until_interrupted(server, f"Webex API emulator on http://127.0.0.1:{server.server_port}/v1/")


if __name__ == "__main__":
    main()
