"""Job: the periodic sweep (workflows.upkeep), which then schedules itself again."""

from backoffice.workflows.jobs import schedule_sweep
from backoffice.workflows.upkeep import sweep_once
from jobs.context import job_context


def sweep() -> dict[str, list]:
    with job_context():
        found = sweep_once()
        schedule_sweep()
        return found
