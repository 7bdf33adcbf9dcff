"""What the submission page reads beside the submission itself: who may be handed it, its timeline of
events and internal notes, the submissions before it on its case, and its chain of resubmissions."""

from dataclasses import replace
from typing import Any

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
from backoffice.reports.timeline import SUBMISSION_EVENTS, TimelineEntry, audit_entries
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


def timeline_of(submission: Submission, notes: dict[int, str], limit: int = 500) -> list[TimelineEntry]:
    """The submission's latest audit events in order, with their details and the text of its internal notes."""
    return [
        replace(
            entry,
            details=_timeline_details(entry.record),
            note=notes.get((entry.record.after or {}).get("note"), ""),
        )
        for entry in audit_entries(submission, SUBMISSION_EVENTS, limit)
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
