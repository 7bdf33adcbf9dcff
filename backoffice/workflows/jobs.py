"""What staff see of a job that stopped on an unexpected error."""

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.models import JobRun, JobStatus
from backoffice.models.types import utcnow
from backoffice.workflows.audit import record_event
from backoffice.workflows.i18n import in_both_languages


def record_job_failure(rq_job_id: str, error_name: str) -> JobRun | None:
    """Mark the job's run as failed, naming only the kind of error (its text may hold personal data)."""
    run = db.session.scalar(select(JobRun).where(JobRun.rq_job_id == rq_job_id))
    if run is None or run.status in (JobStatus.FINISHED, JobStatus.FAILED):
        return run
    message = in_both_languages(
        _l(
            "The job stopped on an unexpected error (%(error)s). Nothing after row %(done)d was imported.",
            error=error_name,
            done=run.done,
        )
    )
    run.status = JobStatus.FAILED
    run.finished_at = utcnow()
    run.errors = [
        *run.errors,
        {"row": None, "column": None, "message_en": message["en"], "message_fr": message["fr"]},
    ]
    record_event("job.failed", record=run, after={"error": error_name})
    db.session.commit()
    return run
