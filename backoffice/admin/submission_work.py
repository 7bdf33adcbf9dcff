"""What the submission page shows and offers about its place in a work queue: who holds it, the actions
allowed by its state and the reader's role, the reasons to choose from, and the submissions around it."""

from typing import Any

from flask_babel import get_locale
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.models import Reason, StaffUser, Submission, SubmissionStatus
from backoffice.workflows import access
from backoffice.workflows.decisions import QUEUES


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


def queue_context(submission: Submission, user: StaffUser) -> dict[str, Any]:
    """What the submission page shows about its queue: the holder, the actions, the history."""
    queue = QUEUES.get(submission.status)
    may_work = queue is not None and user.role is queue[0]
    reasons = []
    if may_work and submission.claimed_by_id == user.id:
        reasons = db.session.scalars(
            select(Reason).where(Reason.used_by == queue[1], Reason.active.is_(True)).order_by(Reason.code)
        ).all()
    return {
        "queue_endpoint": QUEUE_ENDPOINTS.get(submission.status) if may_work else None,
        "accept_label": ACCEPT_LABELS.get(submission.status),
        "queue_reasons": reasons,
        "lang": _language(),
        "previous_submissions": previous_submissions(submission, user),
        "resubmission_chain": resubmission_chain(submission),
    }


def previous_submissions(submission: Submission, user: StaffUser) -> list[Submission]:
    query = select(Submission).where(
        Submission.case_id == submission.case_id,
        Submission.id != submission.id,
        Submission.received_at <= submission.received_at,
    )
    query = access.scope_submissions(query, user).order_by(Submission.received_at.desc())
    return list(db.session.scalars(query))


def resubmission_chain(submission: Submission, limit: int = 20) -> list[Submission]:
    """The first submission, each resubmission in turn, and this one among them; [] when it stands alone."""
    chain = [submission]
    while chain[0].resubmission_of is not None and len(chain) < limit:
        chain.insert(0, chain[0].resubmission_of)
    while len(chain) < limit:
        following = db.session.scalar(
            select(Submission).where(Submission.resubmission_of_id == chain[-1].id).order_by(Submission.id)
        )
        if following is None:
            break
        chain.append(following)
    return chain if len(chain) > 1 else []
