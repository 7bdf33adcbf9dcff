"""The outbox: queueing messages to counsel with the change that causes them, and delivering each
exactly once.

Exactly once: a delivery first claims its message in one UPDATE (only one worker can move it from
queued or retrying to sending) and commits the claim before calling the provider. GC Notify is asked
first whether it already holds a message with our reference, so a send whose answer was lost is not
repeated. A message left "sending" by a worker that died is looked up the same way; by SMTP, where
nothing can be asked, it becomes "delivery uncertain" for a person to check instead of being resent.
"""

from datetime import timedelta
from typing import Any

from flask import current_app
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import or_, select, update

from backoffice import queue
from backoffice.extensions import db
from backoffice.integrations import notify, smtp
from backoffice.integrations.delivery import DeliveryFailure, OutgoingEmail, OutgoingSms, PermanentFailure
from backoffice.models import (
    Case,
    Channel,
    Counsel,
    Notification,
    NotificationEvent,
    NotificationStatus,
    Office,
    StaffUser,
    Submission,
)
from backoffice.models.types import utcnow
from backoffice.workflows.audit import SYSTEM, record_event
from backoffice.workflows.concurrency import compare_and_set
from backoffice.workflows.message_attachments import attachments_for
from backoffice.workflows.message_rendering import BILINGUAL, MASK, RenderedMessage, render_message
from backoffice.workflows.message_templates import HELP_DESK, TEMPLATES
from backoffice.workflows.refusals import Refused

WAITING = (NotificationStatus.QUEUED, NotificationStatus.RETRYING)
MAX_RETRY_DELAY = timedelta(hours=1)
NO_ADDRESS = _l("Counsel has no address for this way of sending. Correct the counsel record first.")
SWEEP_GRACE = timedelta(minutes=2)


def queue_message(
    template: str,
    values: dict[str, Any],
    *,
    counsel: Counsel,
    channel: Channel | None = None,
    case: Case | None = None,
    office_id: int | None = None,
    recipient: str | None = None,
) -> Notification:
    """Add a message to the outbox in the current transaction; it is sent after the commit.

    `recipient` overrides the counsel record's address (an access code goes to the verified mobile).
    """
    spec = TEMPLATES.get(template)
    if spec is None:
        raise ValueError(f"Unknown message template {template!r}")
    missing = set(spec.sample) - set(values)
    if missing:
        raise ValueError(f"Values missing for {template}: {', '.join(sorted(missing))}")
    channel = channel or _preferred_channel(counsel, spec.channels)
    if channel.value not in spec.channels:
        raise ValueError(f"{template} is not sent by {channel.value}")
    notification = Notification(
        counsel=counsel,
        case=case,
        office_id=office_id if office_id is not None else (case.office_id if case else None),
        channel=channel,
        template=template,
        language=counsel.preferred_language.value if counsel.preferred_language else BILINGUAL,
        recipient=recipient or _address(counsel, channel),
        values=values,
        status=NotificationStatus.TO_PRINT if channel.is_letter else NotificationStatus.QUEUED,
    )
    db.session.add(notification)
    db.session.flush()
    _history(notification, "queued")
    record_event(
        "notification.queued",
        actor=SYSTEM,
        record=notification,
        after={"template": template, "channel": channel.value},
    )
    if not channel.is_letter:
        queue.enqueue_after_commit(queue.JobName.DELIVER_MESSAGE, notification.id)
    return notification


def counsel_values(counsel: Counsel, office: Office) -> dict[str, Any]:
    """The values every message to counsel carries: who they are and which office to write to."""
    return {
        "counsel_name": counsel.full_name,
        "office_name": {"en": office.name_en, "fr": office.name_fr},
        "office_mailbox": office.mailbox,
        "help_desk": HELP_DESK,
    }


def _preferred_channel(counsel: Counsel, channels: tuple[str, ...]) -> Channel:
    for channel in (Channel.EMAIL, Channel.SMS, Channel.MAIL, Channel.FAX):
        if channel.value in channels and _address_or_none(counsel, channel):
            return channel
    raise Refused(NO_ADDRESS)


def _address(counsel: Counsel, channel: Channel) -> str:
    address = _address_or_none(counsel, channel)
    if not address:
        raise Refused(NO_ADDRESS)
    return address


def submission_details(submission: Submission) -> dict[str, Any]:
    """What a message about a submission names it by, in both languages: its kind of document, its subject
    and its files (the portal's submission id is only the reference line at the end)."""
    labels = {}
    for language in ("en", "fr"):
        with force_locale(language):
            labels[language] = submission.document_kind.label
    return {
        "document_kind": labels,
        "subject": submission.subject,
        "filenames": [attachment.filename for attachment in submission.attachments],
    }


def _address_or_none(counsel: Counsel, channel: Channel) -> str | None:
    return {
        Channel.EMAIL: counsel.email,
        Channel.SMS: counsel.mobile,
        Channel.MAIL: counsel.postal_address,
        Channel.FAX: counsel.fax,
    }[channel]


def _history(notification: Notification, event: str, detail: str | None = None) -> None:
    db.session.add(
        NotificationEvent(
            notification=notification, event=event, attempt=notification.attempts or None, detail=detail
        )
    )


def deliver(notification_id: int) -> NotificationStatus | None:
    """The job: send one message if this worker wins its claim; otherwise do nothing."""
    notification = db.session.get(Notification, notification_id)
    if notification is None or notification.status not in WAITING:
        return None
    try:  # before the claim: a message that cannot be rendered is a failure, never "uncertain"
        rendered = render_message(
            notification.template, notification.channel.value, notification.language, notification.values
        )
    except Exception as error:  # noqa: BLE001  (only the kind of error is kept: values may be personal)
        _record_failure(notification, PermanentFailure(f"Template error: {type(error).__name__}"))
        db.session.commit()
        return notification.status
    if not _claim(notification_id):
        _come_back_when_due(notification)
        return None
    db.session.refresh(notification)
    try:
        provider, reference = _send(notification, rendered)
    except DeliveryFailure as failure:
        _record_failure(notification, failure)
    else:
        _record_sent(notification, provider, reference)
    db.session.commit()
    if notification.status is NotificationStatus.RETRYING:
        _schedule_retry(notification)
    return notification.status


def _come_back_when_due(notification: Notification) -> None:
    """A scheduled retry may start a moment early (rq counts whole seconds; clocks differ): wait again."""
    db.session.refresh(notification)
    if (
        notification.status in WAITING
        and notification.next_attempt_at
        and notification.next_attempt_at > utcnow()
    ):
        _schedule_retry(notification)


def _claim(notification_id: int) -> bool:
    now = utcnow()
    lease = timedelta(seconds=current_app.config["DELIVERY_LEASE_SECONDS"])
    claimed = db.session.execute(
        update(Notification)
        .where(
            Notification.id == notification_id,
            Notification.status.in_(WAITING),
            or_(Notification.next_attempt_at.is_(None), Notification.next_attempt_at <= now),
        )
        .values(
            status=NotificationStatus.SENDING, attempts=Notification.attempts + 1, claimed_until=now + lease
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return claimed == 1


def _send(notification: Notification, rendered: RenderedMessage) -> tuple[str, str]:
    settings = current_app.config
    if notification.channel is Channel.SMS:
        return "notify", _through_notify(
            notification, lambda: notify.send_sms(settings, _sms(notification, rendered))
        )
    if settings["EMAIL_PROVIDER"] == "notify":
        return "notify", _through_notify(
            notification, lambda: notify.send_email(settings, _email(notification, rendered))
        )
    return "smtp", smtp.send_email(settings, _email(notification, rendered))


def _through_notify(notification: Notification, send) -> str:
    """Ask GC Notify first: a send whose answer was lost must not be sent again."""
    already = notify.find_by_reference(current_app.config, notification.reference)
    return already if already is not None else send()


def _email(notification: Notification, rendered: RenderedMessage) -> OutgoingEmail:
    return OutgoingEmail(
        notification.recipient,
        rendered.subject,
        rendered.text,
        rendered.html,
        notification.reference,
        attachments=attachments_for(notification),
    )


def _sms(notification: Notification, rendered: RenderedMessage) -> OutgoingSms:
    return OutgoingSms(notification.recipient, rendered.sms, notification.reference)


def _record_sent(notification: Notification, provider: str, reference: str) -> None:
    notification.status = NotificationStatus.SENT
    notification.provider, notification.provider_reference = provider, reference
    notification.sent_at = utcnow()
    notification.claimed_until = None
    notification.last_error = None
    erase_secrets(notification)
    _history(notification, "sent", f"{provider} {reference}")


def _record_failure(notification: Notification, failure: DeliveryFailure) -> None:
    notification.last_error = failure.reason
    notification.claimed_until = None
    gave_up = notification.attempts >= current_app.config["DELIVERY_MAX_ATTEMPTS"]
    if failure.temporary and not gave_up:
        delay = _retry_delay(notification.attempts, failure.retry_after)
        notification.status = NotificationStatus.RETRYING
        notification.next_attempt_at = utcnow() + delay
        _history(
            notification, "temporary_failure", f"{failure.reason}; next try in {int(delay.total_seconds())} s"
        )
        return
    notification.status = NotificationStatus.FAILED
    erase_secrets(notification)  # a code that did not go out is not kept either: staff issue a new one
    _history(notification, "failed", failure.reason)
    record_event("notification.failed", actor=SYSTEM, record=notification, after={"reason": failure.reason})


def _retry_delay(attempts: int, retry_after: float | None) -> timedelta:
    base = current_app.config["DELIVERY_RETRY_BASE_SECONDS"] * 2 ** (attempts - 1)
    return min(timedelta(seconds=max(base, retry_after or 0)), MAX_RETRY_DELAY)


def _schedule_retry(notification: Notification) -> None:
    delay = max(notification.next_attempt_at - utcnow(), timedelta(0)) + timedelta(seconds=1)
    queue.enqueue_in(delay, queue.JobName.DELIVER_MESSAGE, notification.id)


def erase_secrets(notification: Notification) -> None:
    """Codes are kept only until the message has gone out."""
    secret = TEMPLATES[notification.template].secret
    if secret:
        notification.values = {
            name: (MASK if name in secret else value) for name, value in notification.values.items()
        }


def resend(notification: Notification, staff: StaffUser) -> None:
    """Staff send a failed (or uncertain) message again; audited."""
    if notification.status not in (NotificationStatus.FAILED, NotificationStatus.UNCERTAIN):
        raise Refused(_l("Only a failed or uncertain message can be sent again."))
    if MASK in notification.values.values():
        raise Refused(_l("Its code was erased when it failed: issue a new code instead."))
    before = notification.status.value
    # A fresh series of attempts, with its retries; sent twice at once (two clicks), it is queued once.
    if not compare_and_set(
        notification,
        {"status": notification.status},
        status=NotificationStatus.QUEUED,
        next_attempt_at=None,
        attempts=0,
    ):
        raise Refused(_l("This message changed while you were acting on it: look at it again."))
    _history(notification, "resent", staff.email)
    record_event(
        "notification.resent",
        record=notification,
        actor=staff,
        before={"status": before},
        after={"status": "queued"},
    )
    queue.enqueue_after_commit(queue.JobName.DELIVER_MESSAGE, notification.id)


def mark_letter_sent(notification: Notification, staff: StaffUser) -> None:
    if notification.status is not NotificationStatus.TO_PRINT or not compare_and_set(
        notification,
        {"status": NotificationStatus.TO_PRINT},
        status=NotificationStatus.LETTER_SENT,
        sent_at=utcnow(),
        sent_by_id=staff.id,
    ):
        raise Refused(_l("Only a letter waiting to be sent can be marked sent."))
    erase_secrets(notification)
    _history(notification, "letter_sent", staff.email)
    record_event(
        "notification.letter_sent",
        record=notification,
        actor=staff,
        after={"channel": notification.channel.value},
    )


def requeue_waiting_notifications() -> list[int]:
    """The sweep: queue again what is due and waiting (Redis or a worker was down), and settle
    messages left "sending" by a worker that died."""
    now = utcnow()
    due = select(Notification.id).where(
        or_(
            (Notification.status == NotificationStatus.QUEUED)
            & (Notification.created_at <= now - SWEEP_GRACE),
            (Notification.status == NotificationStatus.RETRYING)
            & (Notification.next_attempt_at <= now - SWEEP_GRACE),
        )
    )
    requeued = list(db.session.scalars(due))
    for notification_id in requeued:
        queue.enqueue(queue.JobName.DELIVER_MESSAGE, notification_id)
    abandoned = select(Notification).where(
        Notification.status == NotificationStatus.SENDING, Notification.claimed_until < now
    )
    for notification in db.session.scalars(abandoned).all():
        if _reclaim(notification):
            _settle_abandoned(notification)
            db.session.commit()
    db.session.commit()
    return requeued


def _reclaim(notification: Notification) -> bool:
    """Take over an abandoned message only if it is still abandoned (its worker may just have finished)."""
    lease = timedelta(seconds=current_app.config["DELIVERY_LEASE_SECONDS"])
    taken = db.session.execute(
        update(Notification)
        .where(
            Notification.id == notification.id,
            Notification.status == NotificationStatus.SENDING,
            Notification.claimed_until < utcnow(),
        )
        .values(claimed_until=utcnow() + lease)
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    db.session.refresh(notification)
    return taken == 1


def _settle_abandoned(notification: Notification) -> None:
    if notification.provider == "smtp" or (
        notification.channel is Channel.EMAIL and current_app.config["EMAIL_PROVIDER"] == "smtp"
    ):
        notification.status = NotificationStatus.UNCERTAIN
        _history(
            notification,
            "uncertain",
            "The worker stopped while sending; check with the recipient before resending.",
        )
        return
    try:
        found = notify.find_by_reference(current_app.config, notification.reference)
    except DeliveryFailure as failure:  # GC Notify cannot say now: the next sweep asks again
        notification.claimed_until = utcnow()
        current_app.logger.warning(
            "Sweep: notification %s not settled (%s).", notification.id, failure.reason
        )
        return
    if found:
        _record_sent(notification, "notify", found)
    else:
        notification.status = NotificationStatus.RETRYING
        notification.next_attempt_at = utcnow()
        _history(
            notification, "temporary_failure", "The worker stopped while sending; not found at GC Notify."
        )
