"""Jobs of the registration of counsel: carry a meeting change to Webex, and the upkeep of reminders and expiries."""

from backoffice.extensions import db
from backoffice.workflows import invitation_codes, meetings
from jobs.context import job_context


def sync_meeting(meeting_id: int) -> str | None:
    with job_context():
        status = meetings.sync_meeting(meeting_id)
        return status.value if status is not None else None


def upkeep_once() -> dict[str, list[int]]:
    """Expire invitation codes past their date, remind counsel of codes expiring within a week and of
    meetings within a day. Each reminder is sent once, so running it often does no harm."""
    found = invitation_codes.expire_and_remind()
    found["meeting_reminders"] = meetings.queue_meeting_reminders()
    db.session.commit()
    found["meetings_requeued"] = meetings.requeue_stalled_meetings()
    return found
