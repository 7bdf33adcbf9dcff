"""What the submission page shows and offers about its place in a work queue: who holds it, the actions
allowed by its state and the reader's role, the reasons to choose from, and the submissions around it."""

from collections.abc import Callable
from typing import Any

from flask import flash
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.models import (
    DocumentKind,
    Reason,
    Role,
    StaffUser,
    Submission,
    SubmissionStatus,
)
from backoffice.reports.submission_page import (
    notes_of,
    previous_submissions,
    reassign_choices,
    resubmission_chain,
    timeline_of,
)
from backoffice.workflows.decisions import NOTE_WRITERS, QUEUES, DecisionRefused


def _language() -> str:
    locale = get_locale()
    return "fr" if locale is not None and locale.language == "fr" else "en"


QUEUE_ENDPOINTS = {
    SubmissionStatus.WITH_REGISTRY: "registry_queue",
    SubmissionStatus.WITH_DIVISION: "division_queue",
}
ACCEPT_LABELS = {
    SubmissionStatus.WITH_REGISTRY: _l("Accept to the division"),
    SubmissionStatus.WITH_DIVISION: _l("Accept"),
}


def apply(action: Callable[[], Any], done: str) -> bool:
    """Run one decision workflow call: commit and say `done`, or roll back and say why it was refused."""
    try:
        action()
    except DecisionRefused as error:
        db.session.rollback()
        flash(str(error.message), "error")
        return False
    db.session.commit()
    flash(done, "success")
    return True


def queue_context(submission: Submission, user: StaffUser) -> dict[str, Any]:
    """What the submission page shows about its queue: the holder, the actions, the history."""
    queue = QUEUES.get(submission.status)
    may_work = queue is not None and user.role is queue[0]
    holds_it = may_work and submission.claimed_by_id == user.id
    supervises = queue is not None and user.role is Role.SUPERVISOR
    reasons = []
    if holds_it:
        reasons = db.session.scalars(
            select(Reason).where(Reason.used_by == queue[1], Reason.active.is_(True)).order_by(Reason.code)
        ).all()
    held = submission.held_at is not None
    notes = notes_of(submission)
    return {
        "queue_endpoint": QUEUE_ENDPOINTS.get(submission.status) if may_work else None,
        "accept_label": ACCEPT_LABELS.get(submission.status),
        "queue_reasons": reasons,
        "may_hold": holds_it and not held,
        "may_take_off_hold": held and (holds_it or supervises),
        "may_decide_by_file": holds_it
        and submission.status is SubmissionStatus.WITH_DIVISION
        and len(submission.attachments) > 1,
        "may_note": user.role in NOTE_WRITERS,
        "kinds": [(kind.value, kind.label) for kind in DocumentKind] if holds_it else [],
        "reassign_choices": reassign_choices(submission) if supervises else None,
        "lang": _language(),
        "timeline": timeline_of(submission, {note.id: note.body for note in notes}),
        "hold_note": next((note for note in reversed(notes) if note.is_hold), None) if held else None,
        "previous_submissions": previous_submissions(submission, user),
        "resubmission_chain": resubmission_chain(submission),
    }
