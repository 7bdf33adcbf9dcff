"""Job of the registration of counsel: carry a meeting change to Webex."""

from backoffice.workflows.registration import meetings
from jobs.context import job_context


def sync_meeting(meeting_id: int) -> str | None:
    with job_context():
        status = meetings.sync_meeting(meeting_id)
        return status.value if status is not None else None
