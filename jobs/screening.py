"""Job: screen one submission's attachments with the automated checks, then hand it to registry."""

from backoffice.screening import workflow as screening
from jobs.context import job_context


def screen_submission(submission_id: int) -> str | None:
    with job_context():
        status = screening.screen_submission(submission_id)
        return status.value if status is not None else None


def check_again(submission_id: int) -> str | None:
    """Run the checks again on a submission whose kind of document was corrected."""
    with job_context():
        outcome = screening.check_again(submission_id)
        return outcome.value if outcome is not None else None
