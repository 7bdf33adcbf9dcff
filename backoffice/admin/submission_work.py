"""What the submission page shows and offers about its place in a work queue: who holds it, the actions
allowed by its state and the reader's role, the reasons to choose from, and the submissions around it."""

from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.models import (
    DocumentKind,
    Reason,
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
from backoffice.workflows.queue_actions import QUEUES, allowed_actions, works_queue

QUEUE_ENDPOINTS = {
    SubmissionStatus.WITH_REGISTRY: "registry_queue",
    SubmissionStatus.WITH_DIVISION: "division_queue",
}
ACCEPT_LABELS = {
    SubmissionStatus.WITH_REGISTRY: _l("Accept to the division"),
    SubmissionStatus.WITH_DIVISION: _l("Accept"),
}


def queue_context(submission: Submission, user: StaffUser) -> dict[str, Any]:
    """What the submission page shows about its queue: the holder, the actions the reader may take (the same
    answer the actions' guards give), the reasons to choose from, the history."""
    actions = allowed_actions(submission, user)
    reasons = []
    if "decide" in actions:
        used_by = QUEUES[submission.status][1]
        reasons = db.session.scalars(
            select(Reason).where(Reason.used_by == used_by, Reason.active.is_(True)).order_by(Reason.code)
        ).all()
    held = submission.held_at is not None
    notes = notes_of(submission)
    return {
        "actions": actions,
        "queue_endpoint": QUEUE_ENDPOINTS.get(submission.status) if works_queue(submission, user) else None,
        "accept_label": ACCEPT_LABELS.get(submission.status),
        "queue_reasons": reasons,
        "may_hold": "hold" in actions,
        "may_take_off_hold": "take_off_hold" in actions,
        "may_decide_by_file": "decide_by_file" in actions and len(submission.attachments) > 1,
        "may_note": "note" in actions,
        "kinds": [(kind.value, kind.label) for kind in DocumentKind] if "change_kind" in actions else [],
        "reassign_choices": reassign_choices(submission) if "reassign" in actions else None,
        "timeline": timeline_of(submission, {note.id: note.body for note in notes}),
        "hold_note": next((note for note in reversed(notes) if note.is_hold), None) if held else None,
        "previous_submissions": previous_submissions(submission, user),
        "resubmission_chain": resubmission_chain(submission),
    }
