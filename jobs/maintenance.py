"""Job: the periodic sweep that queues again what Redis lost, then schedules itself again."""

from backoffice.workflows.jobs import requeue_lost_runs, schedule_sweep
from jobs.context import job_context


def sweep() -> list[int]:
    with job_context():
        requeued = requeue_lost_runs()
        schedule_sweep()
        return requeued
