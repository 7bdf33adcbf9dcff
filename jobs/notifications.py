"""Job: deliver one message of the outbox (a no-op unless this worker wins its claim)."""

from backoffice.workflows import notifications
from jobs.context import job_context


def deliver(notification_id: int) -> str | None:
    with job_context():
        status = notifications.deliver(notification_id)
        return status.value if status is not None else None
