"""What the submission page reads beside the submission itself: who may be handed it, its timeline of
events and internal notes, the submissions before it on its case, and its chain of resubmissions."""

from dataclasses import dataclass, fields, replace
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import literal, select, union
from sqlalchemy.orm import aliased

from backoffice.extensions import db
from backoffice.i18n import localised
from backoffice.models import (
    AuditEvent,
    DocumentKind,
    Reason,
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


@dataclass(frozen=True)
class TimelineRow(TimelineEntry):
    """A line of the submission's timeline: one event, or the same event repeated `count` times in a row by
    the same person (a PDF viewed again and again), from `at` to `until`."""

    count: int = 1
    until: datetime | None = None

    @property
    def is_note(self) -> bool:
        """An internal note written by staff (a note, the reason for a hold or a correction), not an event."""
        return bool(self.note)


# Who acted, said in words, when no staff member did: the portal, or the back office on its own.
FORMER_STAFF = _l("A former staff member")


def timeline_of(submission: Submission, notes: dict[int, str], limit: int = 500) -> list[TimelineRow]:
    """The submission's latest audit events in order, with their details and the text of its internal notes,
    everyone named (staff by their names), and repeats of an event by the same person folded into one row."""
    entries = audit_entries(submission, SUBMISSION_EVENTS, limit)
    names = _staff_names(entries)
    reasons = _reason_texts(entries)
    rows = [
        TimelineRow(
            **{
                **{item.name: getattr(entry, item.name) for item in fields(TimelineEntry)},
                "details": _timeline_details(entry.record, names, reasons),
                "note": notes.get((entry.record.after or {}).get("note"), ""),
            }
        )
        for entry in entries
    ]
    return fold_repeats(rows)


def fold_repeats(rows: list[TimelineRow]) -> list[TimelineRow]:
    """Consecutive rows of the same action by the same person, with the same details and no note, as one row
    that counts them and spans their times."""
    folded: list[TimelineRow] = []
    for row in rows:
        last = folded[-1] if folded else None
        if last is not None and _repeats(last, row):
            folded[-1] = replace(last, count=last.count + row.count, until=row.until or row.at)
        else:
            folded.append(row)
    return folded


def _repeats(last: TimelineRow, row: TimelineRow) -> bool:
    return (
        not last.note
        and not row.note
        and last.action == row.action
        and last.by == row.by
        and last.details == row.details
        and getattr(last.record, "actor_label", None) == getattr(row.record, "actor_label", None)
    )


def _staff_names(entries: list[TimelineEntry]) -> dict[str, str]:
    """The names of the staff that events name by their email address (who held it before and after): one
    statement for the whole timeline."""
    emails = {
        value
        for entry in entries
        for side in (entry.record.before or {}, entry.record.after or {})
        for key in ("claimed_by", "held_by")
        if isinstance(value := side.get(key), str)
    }
    if not emails:
        return {}
    return dict(
        db.session.execute(
            select(StaffUser.email, StaffUser.full_name).where(StaffUser.email.in_(emails))
        ).all()
    )


def _reason_texts(entries: list[TimelineEntry]) -> dict[str, str]:
    """The reader's words for the reasons the decisions on the timeline give, by code: one statement."""
    codes = {
        code
        for entry in entries
        for code in (entry.record.after or {}).get("reasons") or []
        if isinstance(code, str)
    }
    if not codes:
        return {}
    return {
        reason.code: localised(reason.text_en, reason.text_fr)
        for reason in db.session.scalars(select(Reason).where(Reason.code.in_(codes)))
    }


def notes_of(submission: Submission) -> list[SubmissionNote]:
    return list(
        db.session.scalars(
            select(SubmissionNote)
            .where(SubmissionNote.submission_id == submission.id)
            .order_by(SubmissionNote.id)
        )
    )


def _timeline_details(event: AuditEvent, names: dict[str, str], reasons: dict[str, str]) -> dict[str, Any]:
    """The facts worth a line on the timeline, in words: who held it before and after (by name), reasons,
    kinds of document (by label)."""
    before, after = event.before or {}, event.after or {}
    details = {}
    for key in ("claimed_by", "held_by"):
        if before.get(key) or after.get(key):
            details[key] = tuple(_staff_name(side.get(key), names) for side in (before, after))
    if before.get("document_kind") or after.get("document_kind"):
        details["document_kind"] = tuple(_kind_label(side.get("document_kind")) for side in (before, after))
    if after.get("reasons"):
        details["reasons"] = [reasons.get(code, code) for code in after["reasons"] if isinstance(code, str)]
    if after.get("why"):
        details["why"] = after["why"]
    return details


def _staff_name(email: Any, names: dict[str, str]) -> str | None:
    """A staff member's name for the address an event keeps (never the address itself)."""
    if not email:
        return None
    return names.get(email) or str(FORMER_STAFF)


def _kind_label(value: Any) -> str | None:
    if not value:
        return None
    try:
        return DocumentKind(value).label
    except ValueError:
        return str(value)


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
