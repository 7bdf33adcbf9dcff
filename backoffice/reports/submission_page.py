"""What the submission page reads beside the submission itself: who may be handed it, its timeline of
events and internal notes, the submissions before it on its case, and its chain of resubmissions."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import literal, select, union
from sqlalchemy.orm import aliased

from backoffice.extensions import db
from backoffice.models import (
    AuditEvent,
    Role,
    StaffUser,
    Submission,
    SubmissionNote,
)
from backoffice.workflows import access
from backoffice.workflows.queue_actions import QUEUES


def reassign_choices(submission: Submission) -> list[StaffUser]:
    """Who may be handed the submission: active staff of its office who work its queue."""
    role = QUEUES[submission.status][0]
    query = select(StaffUser).where(
        StaffUser.role == role,
        StaffUser.office_id == submission.office_id,
        StaffUser.is_active_account.is_(True),
    )
    if role is Role.DIVISION_MEMBER:
        query = query.where(StaffUser.division_id == submission.division_id)
    return list(db.session.scalars(query.order_by(StaffUser.full_name).limit(200)))


# ------------------------------------------------------------------------------------------------ timeline

# What each audit event of a submission means, as the timeline says it.
EVENT_LABELS = {
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


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    action: str
    text: str
    by: str
    details: dict[str, Any]
    note: str = ""


def timeline_of(submission: Submission, notes: dict[int, str], limit: int = 500) -> list[TimelineEntry]:
    """The submission's latest audit events in order, with the text of its internal notes."""
    events = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.record_type == "submissions", AuditEvent.record_id == str(submission.id))
        .order_by(AuditEvent.occurred_at.desc(), AuditEvent.id.desc())
        .limit(limit)
    ).all()
    return [
        TimelineEntry(
            at=event.occurred_at,
            action=event.action,
            text=str(EVENT_LABELS.get(event.action, event.action)),
            by=event.actor.full_name if event.actor else event.actor_label,
            details=_timeline_details(event),
            note=notes.get((event.after or {}).get("note"), ""),
        )
        for event in reversed(events)
    ]


def notes_of(submission: Submission) -> list[SubmissionNote]:
    return list(
        db.session.scalars(
            select(SubmissionNote)
            .where(SubmissionNote.submission_id == submission.id)
            .order_by(SubmissionNote.id)
        )
    )


def _timeline_details(event: AuditEvent) -> dict[str, Any]:
    """The facts worth a line on the timeline: who held it before and after, reasons, kinds."""
    before, after = event.before or {}, event.after or {}
    details = {}
    for key in ("claimed_by", "held_by", "document_kind"):
        if before.get(key) or after.get(key):
            details[key] = (before.get(key), after.get(key))
    if after.get("reasons"):
        details["reasons"] = after["reasons"]
    if after.get("why"):
        details["why"] = after["why"]
    return details


def previous_submissions(submission: Submission, user: StaffUser) -> list[Submission]:
    query = select(Submission).where(
        Submission.case_id == submission.case_id,
        Submission.id != submission.id,
        Submission.received_at <= submission.received_at,
    )
    query = access.scope_submissions(query, user).order_by(Submission.received_at.desc()).limit(50)
    return list(db.session.scalars(query))


def resubmission_chain(submission: Submission, limit: int = 20) -> list[Submission]:
    """The submissions this one replaced and those that replaced it, in the order they came, this one among
    them; [] when it stands alone. Two recursive walks in one statement, however long the chain."""
    earlier = (
        select(Submission.id, Submission.resubmission_of_id, literal(1).label("depth"))
        .where(Submission.id == submission.id)
        .cte("earlier", recursive=True)
    )
    parent = aliased(Submission)
    earlier = earlier.union_all(
        select(parent.id, parent.resubmission_of_id, earlier.c.depth + 1)
        .join(earlier, parent.id == earlier.c.resubmission_of_id)
        .where(earlier.c.depth < limit)
    )
    later = (
        select(Submission.id, literal(1).label("depth"))
        .where(Submission.id == submission.id)
        .cte("later", recursive=True)
    )
    child = aliased(Submission)
    later = later.union_all(
        select(child.id, later.c.depth + 1)
        .join(later, child.resubmission_of_id == later.c.id)
        .where(later.c.depth < limit)
    )
    related = union(select(earlier.c.id), select(later.c.id)).subquery()
    chain = db.session.scalars(
        select(Submission).where(Submission.id.in_(select(related.c.id))).order_by(Submission.id)
    ).all()
    return list(chain) if len(chain) > 1 else []
