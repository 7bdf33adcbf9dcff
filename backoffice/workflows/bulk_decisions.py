"""Accepting several clean submissions of a work queue at once, after a confirmation screen.

A submission is clean when none of its checks failed, it is not on hold and nobody else holds it. Each
selected submission is accepted in its own transaction, through the same claim and decision as one
accepted alone, so that one refused (claimed by someone meanwhile, decided, out of scope) leaves the
others accepted. The selection comes from a form: it is checked again, row by row, under the row's lock.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from backoffice.extensions import db
from backoffice.models import StaffUser, Submission, SubmissionStatus
from backoffice.workflows import access, decisions
from backoffice.workflows.audit import record_event
from backoffice.workflows.concurrency import for_update
from backoffice.workflows.refusals import Refused

MAX_BATCH = 50

NOT_IN_QUEUE = _l("This submission is not in your queue.")
NO_LONGER_WAITING = _l("It no longer waits in this queue.")
HAS_FAILED_CHECKS = _l("Some of its checks failed: open it and decide on it alone.")
ON_HOLD = _l("It is on hold.")
CHECKS_RUNNING = _l("Its automated checks are running again.")

# What accepting does in each queue, said on the confirmation screen.
CONSEQUENCES = {
    SubmissionStatus.WITH_REGISTRY: (
        _l("Accept to the division"),
        _l("Each submission below is accepted to the division: it goes to the division's queue."),
    ),
    SubmissionStatus.WITH_DIVISION: (
        _l("Accept"),
        _l("Each submission below is accepted by the division, and counsel is told."),
    ),
}


@dataclass(frozen=True)
class LeftOut:
    """A selected submission that is not accepted, and why. `file_number` is "" when the user may not see it."""

    submission_id: int
    file_number: str
    why: Any


@dataclass
class Selection:
    """The selected submissions that may be accepted together, those left out, and the ids out of scope."""

    clean: list[Submission] = field(default_factory=list)
    left: list[LeftOut] = field(default_factory=list)
    out_of_scope: list[int] = field(default_factory=list)


@dataclass
class BulkResult:
    accepted: dict[int, str] = field(default_factory=dict)  # id: file number, in the queue's order
    left: list[LeftOut] = field(default_factory=list)
    out_of_scope: list[int] = field(default_factory=list)


def selected_ids(values: Iterable[int]) -> list[int]:
    """The ids of a selection without repeats, in their order; refused when empty or above MAX_BATCH."""
    ids = list(dict.fromkeys(values))
    if not ids:
        raise Refused(_l("Select at least one submission to accept."))
    if len(ids) > MAX_BATCH:
        raise Refused(_l("Select at most %(count)d submissions at a time.", count=MAX_BATCH))
    return ids


def why_not_clean(submission: Submission, staff: StaffUser, status: SubmissionStatus) -> Any:
    """Why the submission cannot be accepted with others from this queue, or None when it can."""
    if submission.status is not status:
        return NO_LONGER_WAITING
    if submission.screening_outcome is None:
        return CHECKS_RUNNING
    if submission.failed_checks:
        return HAS_FAILED_CHECKS
    if submission.held_at is not None:
        return ON_HOLD
    if submission.claimed_by_id not in (None, staff.id):
        return _l("%(name)s is working on this submission.", name=submission.claimed_by.full_name)
    return None


def is_clean(submission: Submission, staff: StaffUser, status: SubmissionStatus) -> bool:
    return why_not_clean(submission, staff, status) is None


def screen_selection(status: SubmissionStatus, ids: list[int], staff: StaffUser) -> Selection:
    """Sort the selected ids into the clean submissions in the user's scope and the others (two statements)."""
    query = select(Submission).where(Submission.id.in_(ids)).options(joinedload(Submission.claimed_by))
    query = access.scope_submissions(query, staff).order_by(Submission.received_at, Submission.id)
    visible = list(db.session.scalars(query).unique())
    selection = Selection()
    for submission in visible:
        why = why_not_clean(submission, staff, status)
        if why is None:
            selection.clean.append(submission)
        else:
            selection.left.append(LeftOut(submission.id, submission.case.file_number, why))
    seen = {submission.id for submission in visible}
    unseen = [submission_id for submission_id in ids if submission_id not in seen]
    if unseen:
        selection.out_of_scope = list(
            db.session.scalars(select(Submission.id).where(Submission.id.in_(unseen)))
        )
        selection.left += [LeftOut(submission_id, "", NOT_IN_QUEUE) for submission_id in unseen]
    return selection


def accept_in_bulk(status: SubmissionStatus, ids: list[int], staff: StaffUser) -> BulkResult:
    """Accept each clean submission of the selection in its own transaction; commits as it goes."""
    selection = screen_selection(status, ids, staff)
    file_numbers = {submission.id: submission.case.file_number for submission in selection.clean}
    result = BulkResult(left=list(selection.left), out_of_scope=selection.out_of_scope)
    for submission_id, file_number in file_numbers.items():
        try:
            _accept_one(submission_id, status, staff)
        except Refused as refused:
            db.session.rollback()
            result.left.append(LeftOut(submission_id, file_number, refused.message))
            continue
        db.session.commit()
        result.accepted[submission_id] = file_number
    _record_batch(status, staff, result)
    return result


def _accept_one(submission_id: int, status: SubmissionStatus, staff: StaffUser) -> None:
    """Checked again under the row's lock, then claimed and accepted as one would be alone."""
    submission = db.session.scalar(
        for_update(select(Submission).where(Submission.id == submission_id), of=Submission)
    )
    why = NOT_IN_QUEUE if submission is None else why_not_clean(submission, staff, status)
    if why is not None:
        raise Refused(why)
    decisions.claim(submission_id, staff)
    decisions.decide(submission_id, staff, True, [], "")


def _record_batch(status: SubmissionStatus, staff: StaffUser, result: BulkResult) -> None:
    """One event for the batch, naming submissions by id only; each acceptance has its own events too."""
    record_event(
        "submission.bulk_accepted",
        actor=staff,
        office_id=staff.office_id,
        after={
            "queue": status.value,
            "accepted": list(result.accepted),
            "refused": sorted(left.submission_id for left in result.left),
        },
    )
    db.session.commit()
