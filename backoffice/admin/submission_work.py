"""What the submission page shows and offers about its place in a work queue: who holds it, the actions
allowed by its state and the reader's role, the reasons to choose from (those the failed checks suggest
ticked), the pages the checks name, and the submissions around it."""

from datetime import datetime
from typing import Any

from flask import url_for
from flask_babel import lazy_gettext as _l
from flask_babel import pgettext
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from backoffice.admin.base import way_back
from backoffice.edge import page_number
from backoffice.extensions import db
from backoffice.models import (
    DocumentKind,
    Reason,
    StaffUser,
    Submission,
    SubmissionStatus,
)
from backoffice.reports.queues import QueueFilters
from backoffice.reports.submission_page import (
    notes_of,
    previous_submissions,
    reassign_choices,
    resubmission_chain,
    timeline_of,
)
from backoffice.workflows import access
from backoffice.workflows.queue_actions import QUEUES, allowed_actions, claim_is_idle, local_time, works_queue
from backoffice.workflows.review_aids import MOST_PAGE_LINKS, check_name, pages_named, suggested_reasons

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
        "suggested": _suggested(submission, reasons),
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


def _suggested(submission: Submission, reasons: list[Reason]) -> dict[str, list[str]]:
    """Reason code → the names of the failed checks that suggest it, among the reasons offered."""
    suggestions = suggested_reasons(
        ((result.code, result.outcome) for result in submission.check_results),
        (reason.code for reason in reasons),
    )
    return {reason: [check_name(code) for code in checks] for reason, checks in suggestions.items()}


def review_context(submission: Submission, user: StaffUser, args: MultiDict[str, str]) -> dict[str, Any]:
    """What the review screen adds: the page of the PDF to open, the queue the reader came from, whether
    someone else holds it, and the pages each check names."""
    holder = submission.claimed_by
    results = submission.check_results
    back = queue_page(args.get("back"))
    return {
        "page": args.get("page", type=page_number) or None,
        "back": back,
        "next_args": QueueFilters.of_page(back, access.has_national_scope(user)).as_args(),
        "held_by_other": holder is not None and holder.id != user.id,
        "held_since": local_time(submission.claimed_at, user),
        "claim_is_idle": holder is not None and claim_is_idle(submission),
        "proof": proof_of_service(submission),
        "pages_of_result": {
            result.id: pages_named(result.details)[:MOST_PAGE_LINKS]
            for result in results
            if result.attachment_id is not None
        },
    }


def proof_of_service(submission: Submission) -> dict[str, Any] | None:
    """The proof of service counsel declared, in words: whom they served, when, and how (their own words)."""
    proof = submission.proof_of_service
    if not proof:
        return None
    return {
        "parties": [_served_on(party) for party in proof["served_on"]],
        "served_at": datetime.fromisoformat(proof["served_at"]),
        "method": proof["method"],
    }


def _served_on(party: str) -> str:
    """Whom counsel served, as the words after "Served on" (in French, the preposition goes with each party)."""
    if party == "minister":
        return pgettext("served on", "the Minister")
    if party == "other_party":
        return pgettext("served on", "the other party")
    return party


def queue_page(value: Any) -> str | None:
    """The page of a work queue the reader came from (with its filters), to go back to; None for anything
    else."""
    return way_back(value, *(url_for(f"{endpoint}.index") for endpoint in QUEUE_ENDPOINTS.values()))
