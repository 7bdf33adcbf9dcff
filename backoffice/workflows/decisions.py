"""Decisions on submissions in the work queues: a claim before acting, then accept or reject with coded reasons.

Two people can never hold or decide the same submission, on any engine: every action reads the submission
under a lock (`concurrency.for_update`), checks it, then changes it by compare-and-set on what it read, so that
the same decision sent twice (two tabs, a retried POST) is recorded once and counsel told once. A claim left
idle is released. Counsel is told through the outbox.
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, select

from backoffice.extensions import db
from backoffice.models import (
    AttachmentDecision,
    Decision,
    DocumentKind,
    Reason,
    ReasonUse,
    StaffUser,
    Submission,
    SubmissionNote,
)
from backoffice.models.types import utcnow
from backoffice.screening import workflow as screening
from backoffice.workflows import submissions, tallies, timeliness
from backoffice.workflows.audit import SYSTEM, record_event
from backoffice.workflows.concurrency import compare_and_set, for_update
from backoffice.workflows.notifications import queue_message
from backoffice.workflows.queue_actions import QUEUES, allowed_actions, require_action, works_queue
from backoffice.workflows.refusals import Refused
from backoffice.workflows.state_machine import TransitionRefused

CHANGED_MEANWHILE = _l("This submission changed while you were acting on it: look at it again.")


def _locked(submission_id: int) -> Submission:
    """The submission read again under a lock held until the commit, even when the page loaded it before."""
    submission = db.session.scalar(
        for_update(select(Submission).where(Submission.id == submission_id), of=Submission)
    )
    if submission is None:
        raise Refused(_l("This submission does not exist."))
    return submission


def _set(submission: Submission, expected: tuple[str, ...], **values) -> None:
    """Change the submission only if the columns named in `expected` still hold what was read."""
    if not compare_and_set(submission, {name: getattr(submission, name) for name in expected}, **values):
        raise Refused(CHANGED_MEANWHILE)


CLAIM = ("status", "claimed_by_id", "claimed_at")  # what a change of holder depends on


def claim(submission_id: int, staff: StaffUser) -> Submission:
    """Take a submission to work on it; refused while someone else holds it and has not left it idle."""
    submission = _locked(submission_id)
    require_action(submission, staff, "claim")
    now, holder = utcnow(), submission.claimed_by
    already_held = holder is not None and holder.id == staff.id
    _set(submission, CLAIM, claimed_by_id=staff.id, claimed_at=now)
    if already_held:
        return submission  # still working on it: the claim is renewed, nothing new to record
    record_event(
        "submission.claimed",
        record=submission,
        actor=staff,
        before={"claimed_by": holder.email if holder else None},
        after={"claimed_by": staff.email},
    )
    return submission


def next_to_work(waiting: Select, staff: StaffUser, look_ahead: int = 20) -> Submission | None:
    """The next submission for `staff` among `waiting` (a queue's submissions, in the filter and order they
    work with: the oldest received, or the nearest deadline): the first that no one holds, not on hold, that
    they may claim; None when there is none."""
    query = waiting.where(Submission.claimed_by_id.is_(None), Submission.held_at.is_(None)).limit(look_ahead)
    candidates = db.session.scalars(query).unique()
    return next((item for item in candidates if "claim" in allowed_actions(item, staff)), None)


def release(submission_id: int, staff: StaffUser) -> None:
    submission = _locked(submission_id)
    require_action(submission, staff, "release")
    _set(submission, CLAIM, claimed_by_id=None, claimed_at=None)
    record_event("submission.released", record=submission, actor=staff)


def release_idle_claims(now: datetime | None = None) -> list[int]:
    """Claims left idle longer than CLAIM_IDLE_MINUTES go back to the queue (the sweep runs this).

    Rows someone is deciding on right now are locked: they are skipped, and looked at again next time.
    """
    cutoff = (now or utcnow()) - timedelta(minutes=current_app.config["CLAIM_IDLE_MINUTES"])
    idle = db.session.scalars(
        for_update(
            select(Submission).where(Submission.claimed_by_id.is_not(None), Submission.claimed_at <= cutoff),
            of=Submission,
            skip_locked=True,
        )
    ).all()
    released = []
    for submission in idle:
        holder = submission.claimed_by.email if submission.claimed_by else None
        if compare_and_set(
            submission,
            {name: getattr(submission, name) for name in CLAIM},
            claimed_by_id=None,
            claimed_at=None,
        ):
            record_event(
                "submission.claim_expired", actor=SYSTEM, record=submission, before={"claimed_by": holder}
            )
            released.append(submission.id)
    db.session.commit()
    return released


def decide(
    submission_id: int,
    staff: StaffUser,
    accepted: bool,
    reason_codes: list[str],
    note: str = "",
    now: datetime | None = None,
) -> Decision:
    """Accept or reject the submission held by `staff`; a rejection needs at least one coded reason."""
    submission, used_by = _held_for_decision(submission_id, staff, "decide")
    reasons = _reasons(reason_codes, used_by)
    if not accepted and not reasons:
        raise Refused(_l("Give at least one reason for the rejection."))
    return _record_decision(submission, staff, used_by, accepted, reasons, note, now=now)


@dataclass(frozen=True)
class FileOutcome:
    """The division's decision on one file: its attachment id, accepted or not, and the reasons if not."""

    attachment_id: int
    accepted: bool
    reason_codes: tuple[str, ...] = ()


def decide_by_file(
    submission_id: int,
    staff: StaffUser,
    outcomes: list[FileOutcome],
    note: str = "",
    now: datetime | None = None,
) -> Decision:
    """The division decides file by file; the submission is accepted when any file is, rejected otherwise.

    Every file of the submission needs an outcome, and each rejected file at least one coded reason.
    """
    submission, used_by = _held_for_decision(submission_id, staff, "decide_by_file")
    by_attachment = {outcome.attachment_id: outcome for outcome in outcomes}
    if set(by_attachment) != {attachment.id for attachment in submission.attachments}:
        raise Refused(_l("Decide on every file of the submission."))
    files = []
    for attachment in submission.attachments:
        outcome = by_attachment[attachment.id]
        reasons = _reasons(list(outcome.reason_codes), used_by) if not outcome.accepted else []
        if not outcome.accepted and not reasons:
            raise Refused(
                _l("Give at least one reason for each rejected file (%(file)s).", file=attachment.filename)
            )
        files.append(AttachmentDecision(attachment=attachment, accepted=outcome.accepted, reasons=reasons))
    accepted = any(item.accepted for item in files)
    reasons = sorted({reason for item in files for reason in item.reasons}, key=lambda reason: reason.code)
    return _record_decision(submission, staff, used_by, accepted, reasons, note, files, now)


def _held_for_decision(submission_id: int, staff: StaffUser, action: str) -> tuple[Submission, ReasonUse]:
    submission = _locked(submission_id)
    require_action(submission, staff, action)
    return submission, QUEUES[submission.status][1]


def _record_decision(
    submission: Submission,
    staff: StaffUser,
    used_by: ReasonUse,
    accepted: bool,
    reasons: list[Reason],
    note: str,
    files: list[AttachmentDecision] | None = None,
    now: datetime | None = None,
) -> Decision:
    """Record the decision, end any claim and hold, tell counsel, and count it in its day's tallies (last, so
    that the tally's row, which every decision of that day and queue needs, is held as briefly as can be)."""
    _role, _used_by, accept, reject = QUEUES[submission.status]
    note = note.strip()[:2000]
    decision = Decision(
        submission_id=submission.id,
        office_id=submission.office_id,
        division_id=submission.division_id,
        received_at=submission.received_at,
        decided_at=now or utcnow(),
        made_by=used_by,
        accepted=accepted,
        note=note or None,
        staff=staff,
        reasons=reasons,
        attachment_decisions=files or [],
    )
    db.session.add(decision)
    details = {"reasons": [reason.code for reason in reasons], "note": bool(note)}
    if files:
        details["files"] = {item.attachment.public_id: item.accepted for item in files}
    if submission.held_at is not None:
        details["hold_ended"] = True
    # The one who holds it decides once: the claim and any hold end with the decision, or nothing happens.
    _set(submission, CLAIM, claimed_by_id=None, claimed_at=None, held_at=None, held_by_id=None)
    try:
        submissions.fire(submission, accept if accepted else reject, staff, **details)
    except TransitionRefused:
        raise Refused(CHANGED_MEANWHILE) from None
    _tell_counsel(submission, decision)
    tallies.count_decision(decision)
    return decision


def _reasons(codes: list[str], used_by: ReasonUse) -> list[Reason]:
    codes = sorted(set(codes))
    if not codes:
        return []
    found = db.session.scalars(
        select(Reason).where(Reason.code.in_(codes), Reason.used_by == used_by, Reason.active.is_(True))
    ).all()
    if len(found) != len(codes):
        raise Refused(_l("Choose reasons from the catalogue for this queue."))
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
    files = [
        {
            "filename": item.attachment.filename,
            "accepted": item.accepted,
            "reasons": [{"en": reason.text_en, "fr": reason.text_fr} for reason in item.reasons],
        }
        for item in decision.attachment_decisions
    ]
    template, values = decision_message(
        submission,
        decision.made_by,
        accepted=decision.accepted,
        partial=decision.partial,
        files=files,
        reasons=[{"code": r["code"], "en": r["en"], "fr": r["fr"]} for r in reasons_for_counsel(decision)],
        note=decision.note or "",
    )
    queue_message(template, values, counsel=submission.counsel, case=submission.case)


def decision_message(
    submission: Submission,
    made_by: ReasonUse,
    *,
    accepted: bool,
    partial: bool,
    files: list[dict],
    reasons: list[dict],
    note: str,
) -> tuple[str, dict]:
    """The template and values of what counsel is told of a decision: the registry's request to resubmit, or
    the division's notice. The review screen shows a rejection with it before it is made."""
    values = {**submissions.message_values(submission), "reasons": reasons, "note": note}
    if made_by is ReasonUse.REGISTRY:
        return "submission_rejected", values | {"portal_url": current_app.config["PORTAL_URL"]}
    division = submission.division
    return "division_decision", values | {
        "accepted": accepted,
        "partial": partial,
        "files": files,
        "division_name": {"en": division.name_en, "fr": division.name_fr},
    }


def reassign(submission_id: int, supervisor: StaffUser, to: StaffUser) -> Submission:
    """A supervisor of the office hands a submission to someone who works its queue."""
    submission = _locked(submission_id)
    require_action(submission, supervisor, "reassign")
    if not to.is_active_account:
        raise Refused(_l("This staff member's account is disabled."))
    if not works_queue(submission, to):
        raise Refused(_l("%(name)s does not work this queue in this office.", name=to.full_name))
    before = submission.claimed_by.email if submission.claimed_by else None
    _set(submission, CLAIM, claimed_by_id=to.id, claimed_at=utcnow())
    record_event(
        "submission.reassigned",
        record=submission,
        actor=supervisor,
        before={"claimed_by": before},
        after={"claimed_by": to.email},
    )
    return submission


def return_to_queue(submission_id: int, supervisor: StaffUser) -> Submission:
    """A supervisor of the office takes a submission back from whoever holds it, for anyone to claim."""
    submission = _locked(submission_id)
    require_action(submission, supervisor, "return_to_queue")
    before = submission.claimed_by.email
    _set(submission, CLAIM, claimed_by_id=None, claimed_at=None)
    record_event(
        "submission.returned_to_queue",
        record=submission,
        actor=supervisor,
        before={"claimed_by": before},
        after={"claimed_by": None},
    )
    return submission


def put_on_hold(submission_id: int, staff: StaffUser, note: str) -> Submission:
    """Set a claimed submission aside with an internal note: it stays in its queue, out of "Next", unclaimed."""
    submission = _locked(submission_id)
    require_action(submission, staff, "hold")
    body = _note_text(note, _l("Say why the submission is on hold."))
    now = utcnow()
    _set(
        submission, (*CLAIM, "held_at"), held_at=now, held_by_id=staff.id, claimed_by_id=None, claimed_at=None
    )
    note_row = SubmissionNote(
        submission_id=submission.id, staff=staff, body=body, is_hold=True, created_at=now
    )
    db.session.add(note_row)
    db.session.flush()
    record_event("submission.put_on_hold", record=submission, actor=staff, after={"note": note_row.id})
    return submission


def take_off_hold(submission_id: int, staff: StaffUser) -> Submission:
    """The worker who claims a held submission, or a supervisor of the office, takes it off hold."""
    submission = _locked(submission_id)
    require_action(submission, staff, "take_off_hold")
    held_by = submission.held_by.email if submission.held_by else None
    _set(submission, ("status", "held_at"), held_at=None, held_by_id=None)
    record_event("submission.taken_off_hold", record=submission, actor=staff, before={"held_by": held_by})
    return submission


def add_note(submission_id: int, staff: StaffUser, note: str) -> SubmissionNote:
    """An internal note for colleagues on the submission; counsel never sees it."""
    submission = _locked(submission_id)
    require_action(submission, staff, "note")
    body = _note_text(note, _l("Write the note first."))
    note_row = SubmissionNote(submission_id=submission.id, staff=staff, body=body)
    db.session.add(note_row)
    db.session.flush()
    record_event("submission.note_added", record=submission, actor=staff, after={"note": note_row.id})
    return note_row


def _note_text(note: str, missing) -> str:
    body = note.strip()
    if not body:
        raise Refused(missing)
    if len(body) > 2000:
        raise Refused(_l("A note has at most 2,000 characters."))
    return body


def change_document_kind(submission_id: int, staff: StaffUser, kind: str, why: str) -> Submission:
    """Correct a mis-filed kind of document rather than reject it; the deadline is judged again. Audited."""
    submission = _locked(submission_id)
    require_action(submission, staff, "change_kind")
    try:
        new_kind = DocumentKind(kind)
    except ValueError:
        raise Refused(_l("Unknown kind of document.")) from None
    why = _note_text(why, _l("Say why the kind of document changes."))
    before = submission.document_kind
    rule = timeliness.find_rule(submission.division_id, new_kind, submission.purpose)
    deadline = timeliness.judge(rule, submission.hearing_on, submission.received_at, submission.office.zone)
    _set(
        submission,
        (*CLAIM, "document_kind"),
        document_kind=new_kind,
        deadline_rule_id=rule.id if rule else None,
        deadline_on=deadline.last_day,
        timeliness=deadline.timeliness,
    )
    # Why, in the staff's words, is an internal note: the append-only audit log keeps only its id.
    note = SubmissionNote(submission_id=submission.id, staff=staff, body=why)
    db.session.add(note)
    db.session.flush()
    record_event(
        "submission.kind_changed",
        record=submission,
        actor=staff,
        before={"document_kind": before.value},
        after={"document_kind": new_kind.value, "note": note.id, "timeliness": deadline.timeliness.value},
    )
    screening.queue_check_again(submission)  # the checks depend on the kind of document
    return submission
