"""rq's failure callback for every job: the staff-facing record of the job says it failed."""

from backoffice.workflows.jobs import record_job_failure
from jobs.context import job_context


def on_job_failure(job, connection, error_type, error_value, traceback) -> None:
    with job_context():
        record_job_failure(job.id, error_type.__name__)
