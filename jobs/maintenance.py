"""Job: the periodic sweep that queues again what Redis lost, then schedules itself again."""

from backoffice.workflows.decisions import release_idle_claims
from backoffice.workflows.jobs import requeue_lost_runs, schedule_sweep
from backoffice.workflows.notifications import requeue_waiting_notifications
from backoffice.workflows.screening import requeue_lost_screenings
from jobs.context import job_context
from jobs.registration import upkeep_once


def sweep_once() -> dict[str, list[int]]:
    """Queue again the job runs, messages and screenings that are waiting with no job to carry them; then the
    registration upkeep (code expiries and reminders, meeting reminders)."""
    return {
        "job_runs": requeue_lost_runs(),
        "notifications": requeue_waiting_notifications(),
        "screenings": requeue_lost_screenings(),
        "claims_released": release_idle_claims(),
        **upkeep_once(),
    }


def sweep() -> dict[str, list[int]]:
    with job_context():
        found = sweep_once()
        schedule_sweep()
        return found
