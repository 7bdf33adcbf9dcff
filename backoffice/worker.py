"""The worker: rq's forking worker, with its scheduler, and database connections made per job."""

from flask import Flask
from rq import Worker
from rq.exceptions import SchedulerNotFound
from rq.job import Job
from rq.queue import Queue
from rq.scheduler import RQScheduler
from rq.scripts import release_lock
from rq.worker import BaseWorker

from backoffice.extensions import db
from backoffice.queue import job_queue, stopped_on_this_host
from backoffice.workflows.jobs import schedule_sweep
from backoffice.workflows.upkeep import sweep_once


class BackofficeWorker(Worker):
    """Each job runs in a forked work horse; it must not share the parent's database connections."""

    def main_work_horse(self, job: Job, queue: Queue) -> None:
        db.engine.dispose(close=False)
        super().main_work_horse(job, queue)


def run_worker(app: Flask, *, burst: bool = False, worker_class: type[BaseWorker] = BackofficeWorker) -> bool:
    """Work the back office queue until stopped (or, in burst mode, until it is empty).

    A worker that replaces one that died takes over at once what the dead one held: its scheduler's lock (so
    that due retries and the periodic sweep run) and its unfinished jobs (queued again by the sweep).
    `worker_class` may be rq's SimpleWorker, which runs each job in this process instead of a forked one."""
    queue = job_queue(app)
    release_lock_of_dead_scheduler(queue)
    with app.app_context():
        sweep_once()  # what Redis lost, or a dead worker left unfinished, while no worker was running
        schedule_sweep()
        db.session.remove()
    worker = worker_class([queue], connection=queue.connection)
    return worker.work(burst=burst, with_scheduler=True, logging_level="INFO")


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
