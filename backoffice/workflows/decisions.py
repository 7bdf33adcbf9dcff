"""Decisions on submissions in the work queues: a claim before acting, then accept or reject with coded reasons.

Two people can never hold or decide the same submission: the claim and the decision lock the submission's
row (PostgreSQL) and check who holds it; a claim left idle is released. Counsel is told through the outbox.
"""

from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select, update

from backoffice.extensions import db
from backoffice.models import Decision, Reason, ReasonUse, Role, StaffUser, Submission, SubmissionStatus
from backoffice.models.types import utcnow
from backoffice.workflows import submissions
from backoffice.workflows.audit import record_event
from backoffice.workflows.notifications import counsel_values, queue_message
from backoffice.workflows.timeliness import EASTERN

# Who works which queue, and the transitions of each decision.
QUEUES = {
    SubmissionStatus.WITH_REGISTRY: (
        Role.CLERK,
        ReasonUse.REGISTRY,
        "accept_to_division",
        "reject_by_registry",
    ),
    SubmissionStatus.WITH_DIVISION: (
        Role.DIVISION_MEMBER,
        ReasonUse.DIVISION,
        "accept_by_division",
        "reject_by_division",
    ),
}


class DecisionRefused(Exception):
    """A refusal for the staff member, in both languages (`message` is a lazy string)."""

    def __init__(self, message) -> None:
        super().__init__(str(message))
        self.message = message


def _locked(submission_id: int) -> Submission:
    submission = db.session.scalar(
        select(Submission).where(Submission.id == submission_id).with_for_update(of=Submission)
    )
    if submission is None:
        raise DecisionRefused(_l("This submission does not exist."))
    return submission


def _queue_of(submission: Submission, staff: StaffUser) -> tuple:
    queue = QUEUES.get(submission.status)
    if queue is None or staff.role is not queue[0]:
        raise DecisionRefused(_l("This submission is not in your queue."))
    if staff.office_id not in (None, submission.office_id):
        raise DecisionRefused(_l("This submission is not in your queue."))
    if staff.role is Role.DIVISION_MEMBER and staff.division_id != submission.division_id:
        raise DecisionRefused(_l("This submission is not in your queue."))
    return queue


def _idle(submission: Submission, now: datetime) -> bool:
    minutes = current_app.config["CLAIM_IDLE_MINUTES"]
    return submission.claimed_at is None or submission.claimed_at <= now - timedelta(minutes=minutes)


def claim(submission_id: int, staff: StaffUser) -> Submission:
    """Take a submission to work on it; refused while someone else holds it and has not left it idle."""
    submission = _locked(submission_id)
    _queue_of(submission, staff)
    now = utcnow()
    holder = submission.claimed_by
    if holder is not None and holder.id != staff.id and not _idle(submission, now):
        raise DecisionRefused(_l("%(name)s is working on this submission.", name=holder.full_name))
    submission.claimed_by_id, submission.claimed_at = staff.id, now
    record_event(
        "submission.claimed",
        record=submission,
        actor=staff,
        before={"claimed_by": holder.email if holder else None},
        after={"claimed_by": staff.email},
    )
    return submission


def release(submission_id: int, staff: StaffUser) -> None:
    submission = _locked(submission_id)
    if submission.claimed_by_id != staff.id:
        raise DecisionRefused(_l("You do not hold this submission."))
    submission.claimed_by_id = submission.claimed_at = None
    record_event("submission.released", record=submission, actor=staff)


def release_idle_claims(now: datetime | None = None) -> list[int]:
    """Claims left idle longer than CLAIM_IDLE_MINUTES go back to the queue (the sweep runs this)."""
    cutoff = (now or utcnow()) - timedelta(minutes=current_app.config["CLAIM_IDLE_MINUTES"])
    idle = db.session.scalars(
        select(Submission.id).where(Submission.claimed_by_id.is_not(None), Submission.claimed_at <= cutoff)
    ).all()
    if idle:
        db.session.execute(
            update(Submission)
            .where(Submission.id.in_(idle), Submission.claimed_at <= cutoff)
            .values(claimed_by_id=None, claimed_at=None)
            .execution_options(synchronize_session=False)
        )
        for submission_id in idle:
            record_event("submission.claim_expired", after={"submission": submission_id})
    db.session.commit()
    return list(idle)


def decide(
    submission_id: int, staff: StaffUser, accepted: bool, reason_codes: list[str], note: str = ""
) -> Decision:
    """Accept or reject the submission held by `staff`; a rejection needs at least one coded reason."""
    submission = _locked(submission_id)
    _role, used_by, accept, reject = _queue_of(submission, staff)
    if submission.claimed_by_id != staff.id:
        raise DecisionRefused(_l("Claim the submission before deciding on it."))
    reasons = _reasons(reason_codes, used_by)
    if not accepted and not reasons:
        raise DecisionRefused(_l("Give at least one reason for the rejection."))
    note = note.strip()[:2000]
    decision = Decision(
        submission_id=submission.id,
        made_by=used_by,
        accepted=accepted,
        note=note or None,
        staff=staff,
        reasons=reasons,
    )
    db.session.add(decision)
    submissions.fire(
        submission,
        accept if accepted else reject,
        staff,
        reasons=[reason.code for reason in reasons],
        note=bool(note),
    )
    submission.claimed_by_id = submission.claimed_at = None
    _tell_counsel(submission, decision)
    return decision


def _reasons(codes: list[str], used_by: ReasonUse) -> list[Reason]:
    codes = sorted(set(codes))
    if not codes:
        return []
    found = db.session.scalars(
        select(Reason).where(Reason.code.in_(codes), Reason.used_by == used_by, Reason.active.is_(True))
    ).all()
    if len(found) != len(codes):
        raise DecisionRefused(_l("Choose reasons from the catalogue for this queue."))
    return list(found)


def reasons_for_counsel(decision: Decision) -> list[dict[str, str]]:
    return [
        {
            "code": reason.code,
            "en": reason.text_en,
            "fr": reason.text_fr,
            "rule_en": reason.rule_en or "",
            "rule_fr": reason.rule_fr or "",
        }
        for reason in decision.reasons
    ]


def _tell_counsel(submission: Submission, decision: Decision) -> None:
    """Registry's rejection asks counsel to resubmit properly; the division's decision is a notice either way."""
    if decision.made_by is ReasonUse.REGISTRY and decision.accepted:
        return
    values = {
        **counsel_values(submission.counsel, submission.office),
        "file_number": submission.case.file_number,
        "submission_id": submission.public_id,
        "received_eastern": submissions.format_instant(submission.received_at, EASTERN),
        "received_local": submissions.format_instant(submission.received_at, submission.office.zone),
        "reasons": [{"code": r["code"], "en": r["en"], "fr": r["fr"]} for r in reasons_for_counsel(decision)],
        "note": decision.note or "",
    }
    if decision.made_by is ReasonUse.REGISTRY:
        template = "submission_rejected"
        values["portal_url"] = current_app.config["PORTAL_URL"]
    else:
        template = "division_decision"
        values["accepted"] = decision.accepted
        values["division_name"] = {"en": submission.division.name_en, "fr": submission.division.name_fr}
    queue_message(template, values, counsel=submission.counsel, case=submission.case)


def reassign(submission_id: int, supervisor: StaffUser, to: StaffUser) -> Submission:
    """A supervisor of the office hands a submission to someone who works its queue."""
    submission = _locked(submission_id)
    if supervisor.role is not Role.SUPERVISOR or supervisor.office_id not in (None, submission.office_id):
        raise DecisionRefused(_l("Only a supervisor of the office reassigns work."))
    _queue_of(submission, to)
    before = submission.claimed_by.email if submission.claimed_by else None
    submission.claimed_by_id, submission.claimed_at = to.id, utcnow()
    record_event(
        "submission.reassigned",
        record=submission,
        actor=supervisor,
        before={"claimed_by": before},
        after={"claimed_by": to.email},
    )
    return submission


def change_document_kind(submission_id: int, staff: StaffUser, kind: str, why: str) -> Submission:
    """Correct a mis-filed kind of document rather than reject it; the deadline is judged again. Audited."""
    from backoffice.models import DocumentKind
    from backoffice.workflows import timeliness

    submission = _locked(submission_id)
    _queue_of(submission, staff)
    if submission.claimed_by_id != staff.id:
        raise DecisionRefused(_l("Claim the submission before changing it."))
    try:
        new_kind = DocumentKind(kind)
    except ValueError:
        raise DecisionRefused(_l("Unknown kind of document.")) from None
    if not why.strip():
        raise DecisionRefused(_l("Say why the kind of document changes."))
    before = submission.document_kind
    rule = timeliness.find_rule(submission.division_id, new_kind, submission.purpose)
    deadline = timeliness.judge(rule, submission.hearing_on, submission.received_at, submission.office.zone)
    submission.document_kind, submission.deadline_rule = new_kind, rule
    submission.deadline_on, submission.timeliness = deadline.last_day, deadline.timeliness
    record_event(
        "submission.kind_changed",
        record=submission,
        actor=staff,
        before={"document_kind": before.value},
        after={
            "document_kind": new_kind.value,
            "why": why.strip()[:500],
            "timeliness": deadline.timeliness.value,
        },
    )
    return submission
