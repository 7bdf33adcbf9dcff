"""Keeping background jobs honest: a job that stopped on an error shows as failed, and a job that
Redis lost (down at commit, or a worker killed mid-way) is queued again by the sweep."""

from datetime import timedelta

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from backoffice import queue
from backoffice.extensions import db
from backoffice.models import JobRun, JobStatus
from backoffice.models.types import utcnow
from backoffice.workflows.audit import SYSTEM, record_event
from backoffice.workflows.i18n import in_both_languages

# The job that carries out each kind of run; each is idempotent, so queueing it again is safe.
RUN_JOBS = {"case_import": queue.JobName.IMPORT_CASES}
SWEEP_EVERY = timedelta(minutes=1)  # a cheap pass; what a crash or a Redis restart lost waits no longer
SWEEP_JOB_ID = "maintenance-sweep"
MAX_REQUEUES = 3


def record_job_failure(rq_job_id: str, error_name: str) -> JobRun | None:
    """Mark the job's run as failed, naming only the kind of error (its text may hold personal data)."""
    run = db.session.scalar(select(JobRun).where(JobRun.rq_job_id == rq_job_id))
    if run is None or run.status in (JobStatus.FINISHED, JobStatus.FAILED):
        return run
    message = _l(
        "The job stopped on an unexpected error (%(error)s). Nothing after row %(done)d was imported.",
        error=error_name,
        done=run.done + 1,  # numbered as in the file, whose row 1 is the header
    )
    fail_run(run, message, error_name)
    db.session.commit()
    return run


def requeue_lost_runs() -> list[int]:
    """Queue again every unfinished run whose job Redis no longer holds; give up after a few tries."""
    requeued = []
    unfinished = select(JobRun).where(JobRun.status.in_([JobStatus.QUEUED, JobStatus.RUNNING]))
    for run in db.session.scalars(unfinished):
        if run.rq_job_id is None or queue.job_is_waiting_or_running(run.rq_job_id):
            continue
        attempts = run.summary.get("requeued", 0)
        if attempts >= MAX_REQUEUES:
            fail_run(run, _l("The job was lost %(count)d times and was stopped.", count=attempts), "lost")
            continue
        run.summary = {**run.summary, "requeued": attempts + 1}
        record_event("job.requeued", actor=SYSTEM, record=run, after={"attempt": attempts + 1})
        queue.enqueue_after_commit(RUN_JOBS[run.kind], run.id, job_id=run.rq_job_id)
        requeued.append(run.id)
    db.session.commit()
    return requeued


def schedule_sweep() -> None:
    queue.enqueue_in(SWEEP_EVERY, queue.JobName.SWEEP, job_id=SWEEP_JOB_ID)


def fail_run(run: JobRun, message, reason: str) -> None:
    """Mark a run failed with a message for staff in both languages; the caller commits."""
    both = in_both_languages(message)
    run.status = JobStatus.FAILED
    run.finished_at = utcnow()
    run.errors = [
        *run.errors,
        {"row": None, "column": None, "message_en": both["en"], "message_fr": both["fr"]},
    ]
    record_event("job.failed", actor=SYSTEM, record=run, after={"error": reason})
