"""The timelines of the submission and registration pages: the record's audit events in order, each with what it
means in words and who acted, and (for a registration) the messages sent to counsel and the meetings."""

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from flask import url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.models import AuditEvent, Notification, Registration, StaffUser
from backoffice.workflows import access
from backoffice.workflows.audit import COMMAND_LINE, SYSTEM
from backoffice.workflows.message_templates import template_label

SCREENING_ACTIONS = frozenset(
    {"submission.start_screening", "submission.finish_screening", "submission.screening_requeued"}
)
PORTAL = _l("My Case portal")
SCREENING = _l("Automated screening")
BACK_OFFICE = _l("The back office, automatically")
BY_COMMAND = _l("An administrator, on the command line")


def who_acted(staff: StaffUser | None, label: str | None, action: str | None = None) -> str:
    """Who acted, or asked for a job: the staff member's name, else what acted in words (the portal and its
    client, automated screening, the back office itself, the command line), else the label the event keeps
    (the domain of an unknown address at a refused sign-in). Never an address or a code."""
    if staff is not None:
        return staff.full_name
    label = label or ""
    if label.startswith("portal"):
        client = label.removeprefix("portal").removeprefix(":").strip()
        return f"{PORTAL} ({client})" if client else str(PORTAL)
    if label == COMMAND_LINE:
        return str(BY_COMMAND)
    if label == SYSTEM:
        return str(SCREENING if action in SCREENING_ACTIONS else BACK_OFFICE)
    return label


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # event | message | meeting
    text: str
    by: str = ""
    action: str = ""
    details: dict[str, Any] = field(default_factory=dict)
    note: str = ""
    url: str | None = None
    record: Any = None


# What each audit event of a submission means, as the timeline says it.
SUBMISSION_EVENTS = {
    "submission.received": _l("Received through My Case"),
    "submission.start_screening": _l("Automated checks started"),
    "submission.finish_screening": _l("Automated checks finished; sent to registry"),
    "submission.screening_requeued": _l("Automated checks started again"),
    "submission.claimed": _l("Claimed"),
    "submission.released": _l("Released to the queue"),
    "submission.claim_expired": _l("Claim left idle: released to the queue"),
    "submission.reassigned": _l("Reassigned by a supervisor"),
    "submission.returned_to_queue": _l("Returned to the queue by a supervisor"),
    "submission.put_on_hold": _l("Put on hold"),
    "submission.taken_off_hold": _l("Taken off hold"),
    "submission.note_added": _l("Internal note"),
    "submission.kind_changed": _l("Kind of document corrected; checks run again"),
    "submission.checked_again": _l("Automated checks run again"),
    "submission.received_time_corrected": _l("Received time corrected"),
    "submission.accept_to_division": _l("Accepted by registry and sent to the division"),
    "submission.reject_by_registry": _l("Rejected by registry; counsel asked to resubmit"),
    "submission.accept_by_division": _l("Accepted by the division"),
    "submission.reject_by_division": _l("Rejected by the division"),
    "attachment.viewed": _l("PDF viewed"),
    "attachment.downloaded": _l("PDF downloaded"),
}


REGISTRATION_EVENTS = {
    "registration.invited": _l("Invitation sent"),
    "registration.requested": _l("Counsel asked to register"),
    "registration.send_invitation": _l("Invitation sent"),
    "registration.form_uploaded": _l("Returned form uploaded"),
    "registration.form_downloaded": _l("Returned form downloaded"),
    "registration.receive_form": _l("Form received"),
    "registration.mark_form_incomplete": _l("Form incomplete: counsel asked to complete it"),
    "registration.schedule_verification": _l("Identity verification scheduled"),
    "registration.reschedule_verification": _l("Identity verification rescheduled"),
    "registration.cancel_verification": _l("Meeting cancelled"),
    "registration.record_missed_verification": _l("Counsel missed the meeting"),
    "registration.verify_identity": _l("Identity verified"),
    "registration.record_identity_not_confirmed": _l("Identity not confirmed"),
    "registration.issue_invitation_code": _l("Invitation code issued"),
    "registration.expire_invitation_code": _l("Invitation code expired"),
    "registration.activate": _l("Portal account active"),
    "registration.put_on_hold": _l("Put on hold"),
    "registration.resume": _l("Resumed"),
    "registration.withdraw": _l("Withdrawn"),
    "meeting.webex_created": _l("Meeting made in Webex"),
    "meeting.webex_updated": _l("Meeting changed in Webex"),
    "meeting.webex_deleted": _l("Meeting removed from Webex"),
    "meeting.webex_failed": _l("Webex could not be reached"),
    "meeting.entered_by_hand": _l("Meeting link entered by hand"),
    "meeting.retried": _l("Webex tried again"),
    "invitation_code.redeemed": _l("Invitation code entered in the portal"),
}


def audit_entries(record: Any, labels: dict[str, Any], limit: int | None = None) -> list[TimelineEntry]:
    """The record's audit events (the latest `limit` when given), oldest first, each said in words (`labels`)
    with who acted."""
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.record_type == record.__tablename__, AuditEvent.record_id == str(record.id))
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    ).all()
    return [
        TimelineEntry(
            at=event.occurred_at,
            kind="event",
            action=event.action,
            text=str(labels.get(event.action, event.action)),
            by=who_acted(event.actor, event.actor_label, event.action),
            record=event,
        )
        for event in reversed(events)
    ]


def registration_timeline(registration: Registration, reader: StaffUser) -> list[TimelineEntry]:
    """The audit events of the registration, the messages sent to its counsel since it started (as the reader
    may see them), and its meetings, in the order they happened."""
    entries = [*audit_entries(registration, REGISTRATION_EVENTS), *_message_entries(registration, reader)]
    entries += [
        TimelineEntry(meeting.created_at, "meeting", _("Verification meeting"), record=meeting)
        for meeting in registration.meetings
    ]
    return sorted(entries, key=lambda entry: entry.at)


def _message_entries(registration: Registration, reader: StaffUser) -> list[TimelineEntry]:
    query = select(Notification).where(
        Notification.counsel_id == registration.counsel_id,
        Notification.created_at >= registration.created_at,
    )
    messages = db.session.scalars(
        access.scope_notifications(query, reader).order_by(Notification.created_at, Notification.id)
    )
    may_open_messages = access.may_open(reader, "messages")
    return [
        TimelineEntry(
            message.created_at,
            "message",
            template_label(message.template),
            url=url_for("notification.details_view", id=message.id) if may_open_messages else None,
            record=message,
        )
        for message in messages
    ]
