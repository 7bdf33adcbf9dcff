"""Job: screen one submission's attachments with the automated checks, then hand it to registry."""

from backoffice.workflows import screening
from jobs.context import job_context


def screen_submission(submission_id: int) -> str | None:
    with job_context():
        status = screening.screen_submission(submission_id)
        return status.value if status is not None else None
