"""The web side: logging set up, one log line and the metrics of each request, and /metrics for Prometheus."""

import hmac
import logging
import time

from flask import Flask, Response, current_app, g, request
from flask.typing import ResponseReturnValue
from flask_login import AnonymousUserMixin
from sqlalchemy import inspect
from sqlalchemy.exc import SQLAlchemyError

from backoffice.extensions import csrf
from backoffice.observability.exposition import scrape
from backoffice.observability.logs import configure_logging
from backoffice.observability.metrics import REQUESTS_IN_PROGRESS, count_request

logger = logging.getLogger("backoffice.requests")
STARTED = "request_started"
NOT_FOUND = ("Not Found\n", 404, {"Content-Type": "text/plain; charset=utf-8"})


def init_observability(app: Flask) -> None:
    """Called first in create_app, so that the request's clock starts before any other hook runs."""
    configure_logging(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
    app.before_request(_start_clock)
    app.after_request(_observe_request)  # the last after_request to run: it sees the final status
    app.teardown_request(_stop_clock)
    app.add_url_rule("/metrics", "metrics", metrics, methods=["GET"], provide_automatic_options=False)
    csrf.exempt(metrics)


def metrics() -> ResponseReturnValue:
    """Prometheus' scrape, for a scraper that sends METRICS_TOKEN as its bearer token; anyone else (and
    everyone while no token is configured) is told there is nothing here, in a plain 404 that costs nothing
    (the front proxy refuses the address anyway). No sign-in, no CSRF token, no session: no cookie is set."""
    if not _bearer_is(current_app.config["METRICS_TOKEN"]):
        return NOT_FOUND
    body, content_type = scrape(current_app, request.headers.get("Accept"))
    return Response(body, content_type=content_type)


def _bearer_is(token: str | None) -> bool:
    return authorization_carries(request.headers.get("Authorization", ""), token)


def authorization_carries(authorization: str, token: str | None) -> bool:
    """Whether an Authorization header is `Bearer <token>` (compared in constant time); never without a token."""
    scheme, _, given = authorization.partition(" ")
    if not token or scheme.lower() != "bearer":
        return False
    return hmac.compare_digest(given.strip().encode(), token.encode())


def _start_clock() -> None:
    setattr(g, STARTED, time.perf_counter())
    REQUESTS_IN_PROGRESS.inc()


def _stop_clock(_error: BaseException | None) -> None:
    if g.pop(STARTED, None) is not None:
        REQUESTS_IN_PROGRESS.dec()


def _observe_request(response: Response) -> Response:
    started = g.get(STARTED)
    if started is None:
        return response
    seconds = time.perf_counter() - started
    count_request(request.endpoint, request.method, response.status_code, seconds)
    if current_app.config["LOG_FORMAT"] == "json":  # in text mode, the server's own line says it
        logger.info("request", extra={"fields": request_fields(response, seconds)})
    return response


def request_fields(response: Response, seconds: float) -> dict:
    """What the request's log line says: never its query string, form, cookies or body."""
    fields = {
        "method": request.method[:16],
        "route": request.url_rule.rule if request.url_rule else None,
        "endpoint": request.endpoint,
        "status": response.status_code,
        "duration_ms": round(seconds * 1000, 1),
        "staff_user_id": _staff_user_id(),
        "portal_client": _portal_client_name(),
        "remote_addr": request.remote_addr,  # the client's, once ProxyFix has read X-Forwarded-For
    }
    return {name: value for name, value in fields.items() if value is not None}


def _staff_user_id() -> int | None:
    """The signed-in staff user's id, if this request loaded one: read from the identity the session keeps,
    so that writing the line never queries the database."""
    user = g.get("_login_user")  # where Flask-Login keeps the user it loaded for this request
    if user is None or isinstance(user, AnonymousUserMixin):
        return None
    state = inspect(user, raiseerr=False)
    return state.identity[0] if state is not None and state.identity else None


def _portal_client_name() -> str | None:
    client = g.get("portal_client")
    if client is None:
        return None
    try:
        return client.name  # read again if the request's commit expired it: one lookup by primary key
    except SQLAlchemyError:
        return None
