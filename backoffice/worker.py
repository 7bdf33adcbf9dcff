"""The worker: rq's forking worker, with its scheduler, and database connections made per job."""

import os

from flask import Flask
from rq import Worker
from rq.exceptions import NoSuchJobError, SchedulerNotFound
from rq.job import Job, JobStatus
from rq.queue import Queue
from rq.scheduler import RQScheduler
from rq.scripts import release_lock
from rq.worker import BaseWorker

from backoffice.extensions import db
from backoffice.integrations.storage import remove_stale_temporary_files
from backoffice.observability.jobs import ObservedJob
from backoffice.observability.metrics import mark_work_horse
from backoffice.queue import (
    JOB_TIMEOUT,
    ON_FAILURE,
    JobName,
    job_queue,
    stopped_on_this_host,
    worker_is_alive,
)
from backoffice.workflows.jobs import SWEEP_JOB_ID, schedule_sweep
from backoffice.workflows.upkeep import sweep_once

# rq's defaults (a worker known dead 7 minutes after its last heartbeat, its maintenance every 10 minutes, so
# long before a worker of another host takes over the scheduler of one that crashed) are shortened so that,
# whatever host a worker crashed on, the others take over its scheduler and its jobs within about two minutes.
WORKER_TTL_SECONDS = 60
MAINTENANCE_SECONDS = 60


class BackofficeWorker(Worker):
    """Each job runs in a forked work horse; it must not share the parent's database connections, and it writes
    its metrics where this worker's horses write theirs."""

    def main_work_horse(self, job: Job, queue: Queue) -> None:
        mark_work_horse(os.getppid())
        db.engine.dispose(close=False)
        super().main_work_horse(job, queue)

    def run_maintenance_tasks(self) -> None:
        super().run_maintenance_tasks()
        for queue in self.queues:
            keep_the_sweep_going(queue)


def keep_the_sweep_going(queue: Queue) -> bool:
    """The sweep schedules its next run at the end of each; a Redis that restarted empty has lost that schedule,
    and with it the one thing that queues again what Redis lost. Queue a sweep now when none is scheduled,
    queued or running. Returns whether one was queued; of workers doing this at once, one does (a key set only
    if absent, for a maintenance interval)."""
    if SWEEP_JOB_ID in queue.scheduled_job_registry or SWEEP_JOB_ID in queue.get_job_ids():
        return False  # (its job record says "finished" while its next run is scheduled under the same id)
    try:
        job = Job.fetch(SWEEP_JOB_ID, connection=queue.connection)
    except NoSuchJobError:
        job = None
    if (
        job is not None
        and job.get_status() is JobStatus.STARTED
        and worker_is_alive(job.worker_name, queue.connection)
    ):
        return False
    if not queue.connection.set(f"{queue.key}:sweep-restored", 1, nx=True, ex=MAINTENANCE_SECONDS):
        return False
    queue.enqueue(JobName.SWEEP.value, job_id=SWEEP_JOB_ID, job_timeout=JOB_TIMEOUT, on_failure=ON_FAILURE)
    return True


def run_worker(app: Flask, *, burst: bool = False, worker_class: type[BaseWorker] = BackofficeWorker) -> bool:
    """Work the back office queue until stopped (or, in burst mode, until it is empty).

    A worker that replaces one that died takes over at once what the dead one held: its scheduler's lock (so
    that due retries and the periodic sweep run) and its unfinished jobs (queued again by the sweep).
    `worker_class` may be rq's SimpleWorker, which runs each job in this process instead of a forked one."""
    queue = job_queue(app)
    release_lock_of_dead_scheduler(queue)
    remove_stale_temporary_files(app.config)  # what a worker of this host left when it died
    with app.app_context():
        sweep_once()  # what Redis lost, or a dead worker left unfinished, while no worker was running
        schedule_sweep()
        db.session.remove()
    worker = worker_class(
        [queue],
        connection=queue.connection,
        worker_ttl=WORKER_TTL_SECONDS,
        maintenance_interval=MAINTENANCE_SECONDS,
        job_class=ObservedJob,  # a log line and metrics per job, with the request id it carries
    )
    return worker.work(burst=burst, with_scheduler=True, logging_level=app.config["LOG_LEVEL"])


def release_lock_of_dead_scheduler(queue: Queue) -> bool:
    """rq's scheduler holds a lock per queue for a minute after its last heartbeat, and a new worker tries for
    it only at start and at its maintenance, ten minutes or more later; so a worker restarted at once would run
    no scheduled job (no retry, no sweep) for that long. A lock whose scheduler is known dead (it ran on this
    host, its process is gone) is released so that this worker takes it. Returns whether one was."""
    key = RQScheduler.get_locking_key(queue.name)
    owner = queue.connection.get(key)
    if owner is None:
        return False
    try:
        scheduler = RQScheduler.fetch(owner.decode(), queue.connection)
    except (SchedulerNotFound, KeyError):  # starting, gone or half written: its lock runs out within a minute
        return False
    if scheduler.last_heartbeat is None or not stopped_on_this_host(
        scheduler.hostname, scheduler.pid, scheduler.last_heartbeat
    ):
        return False
    return release_lock(queue.connection, key, scheduler.name)
