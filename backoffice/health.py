"""Health for load balancers and orchestrators: open without sign-in, cheap, and never telling secrets.

`/healthz` says the process answers (restart it if not); `/readyz` says whether it can do its work now
(send it traffic if so): the database, Redis and the document store each answer. A failing part is named,
never its address or error text, which may hold a host name or a password.

/readyz is bounded in time and in cost: the database and Redis probes each give up after PROBE_SECONDS, and
each process probes at most once every ANSWER_KEPT_SECONDS, the requests meanwhile getting the last answer, so
that a flood of /readyz (load balancers, orchestrators, anyone) costs one probe per 2 seconds. The document
store's probe (check_reachable) has no time limit of its own here: bounding it would take a thread that could
not be stopped when the store hangs; its client's own timeouts bound it.
"""

import logging
import threading
import time
from collections.abc import Callable

from flask import Blueprint, Flask, Response, current_app, jsonify
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from sqlalchemy import text

from backoffice.extensions import csrf, db
from backoffice.integrations.storage import document_store
from backoffice.queue import redis_connection

logger = logging.getLogger(__name__)
bp = Blueprint("health", __name__)
csrf.exempt(bp)

PROBE_SECONDS = 2
ANSWER_KEPT_SECONDS = 2.0
_now = time.monotonic  # a module attribute, so that a test can move the clock


@bp.get("/healthz")
def alive() -> Response:
    return _answer({"status": "ok"}, 200)


@bp.get("/readyz")
def ready() -> Response:
    failing = _failing_parts(current_app._get_current_object())
    if failing:
        return _answer({"status": "unavailable", "failing": failing}, 503)
    return _answer({"status": "ok", "checked": list(PARTS)}, 200)


class _Readiness:
    """A process's last answer, and the lock that lets one thread probe while the others wait for its answer."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.probed_at: float | None = None
        self.failing: list[str] = []


def _failing_parts(app: Flask) -> list[str]:
    readiness = app.extensions.setdefault("readiness", _Readiness())
    with readiness.lock:
        if readiness.probed_at is None or _now() - readiness.probed_at >= ANSWER_KEPT_SECONDS:
            readiness.failing = [name for name, probe in PARTS.items() if not _answers(name, probe)]
            readiness.probed_at = _now()
        return list(readiness.failing)


def _database() -> None:
    if db.session.get_bind().dialect.name == "postgresql":
        # For this transaction only: the pool's connection keeps its own setting afterwards.
        db.session.execute(text(f"SET LOCAL statement_timeout = {PROBE_SECONDS * 1000}"))
    db.session.execute(text("SELECT 1"))
    db.session.rollback()


def _redis() -> None:
    _probing_redis(current_app).ping()


def _probing_redis(app: Flask) -> Redis:
    """A connection of the probe's own, with timeouts: the queue's waits as long as a job needs (a blocking
    read), which would hold /readyz as long as an unanswering Redis does. The embedded Redis (no REDIS_URL)
    is a local socket of this host, probed through the queue's connection."""
    if not app.config.get("REDIS_URL"):
        return redis_connection(app)
    connection = app.extensions.get("readiness_redis")
    if connection is None:
        connection = Redis.from_url(
            app.config["REDIS_URL"],
            socket_timeout=PROBE_SECONDS,
            socket_connect_timeout=PROBE_SECONDS,
            retry=Retry(NoBackoff(), 0),  # one try: redis-py retries 3 times by default, 4 timeouts in all
        )
        app.extensions["readiness_redis"] = connection
    return connection


def _document_store() -> None:
    document_store().check_reachable()


PARTS: dict[str, Callable[[], None]] = {
    "database": _database,
    "redis": _redis,
    "document_store": _document_store,
}


def _answers(name: str, probe: Callable[[], None]) -> bool:
    try:
        probe()
    except Exception as error:  # noqa: BLE001 (any failure means "not ready"; the kind is logged, not the text)
        logger.warning("Readiness: %s does not answer (%s).", name, type(error).__name__)
        return False
    return True


def _answer(body: dict, status: int) -> Response:
    response = jsonify(body)
    response.status_code = status
    response.headers["Cache-Control"] = "no-store"
    return response
