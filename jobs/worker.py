"""The worker: rq's forking worker, with its scheduler, and database connections made per job."""

from flask import Flask
from rq import Worker
from rq.job import Job
from rq.queue import Queue

from backoffice.extensions import db
from backoffice.queue import job_queue
from backoffice.workflows.jobs import schedule_sweep
from jobs.maintenance import sweep_once


class BackofficeWorker(Worker):
    """Each job runs in a forked work horse; it must not share the parent's database connections."""

    def main_work_horse(self, job: Job, queue: Queue) -> None:
        db.engine.dispose(close=False)
        super().main_work_horse(job, queue)


def run_worker(app: Flask, *, burst: bool = False) -> bool:
    """Work the back office queue until stopped (or, in burst mode, until it is empty)."""
    queue = job_queue(app)
    with app.app_context():
        sweep_once()  # what Redis lost while no worker was running
        schedule_sweep()
        db.session.remove()
    worker = BackofficeWorker([queue], connection=queue.connection)
    return worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
