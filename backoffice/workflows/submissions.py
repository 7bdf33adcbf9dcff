"""Submissions: the one state machine, the rules a new submission must meet, and its received time.

Every change of status goes through `fire`, which checks the transition is allowed from the current status
and by whom, and writes the audit event in the same transaction. Nothing else sets `Submission.status`.
"""

import json
import logging
from dataclasses import dataclass
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from backoffice import queue
from backoffice.edge import odd_character
from backoffice.extensions import db
from backoffice.models import (
    Attachment,
    Case,
    CaseStatus,
    CounselOfRecord,
    DocumentKind,
    PortalAccount,
    PortalClient,
    ReceivedTimeCorrection,
    Role,
    StaffUser,
    Submission,
    SubmissionStatus,
)
from backoffice.models.types import utcnow
from backoffice.workflows import timeliness
from backoffice.workflows.audit import record_event
from backoffice.workflows.cases import normalise_file_number
from backoffice.workflows.intake import KeptAttachment
from backoffice.workflows.notifications import counsel_values, queue_message, submission_details
from backoffice.workflows.portal import find_portal_account
from backoffice.workflows.refusals import Refusal, Refused
from backoffice.workflows.state_machine import StateMachine, Transition

logger = logging.getLogger(__name__)
REQUIRED_FIELDS = ("portal_account_id", "case_file_number", "document_kind", "subject")
PURPOSES = ("", "reply", "witness_information")
SERVED_ON = {"minister", "other_party"}


S = SubmissionStatus
MACHINE = StateMachine(
    "submission",
    {
        "start_screening": Transition(frozenset({S.RECEIVED}), S.SCREENING, frozenset()),
        "finish_screening": Transition(frozenset({S.SCREENING}), S.WITH_REGISTRY, frozenset()),
        "accept_to_division": Transition(
            frozenset({S.WITH_REGISTRY}), S.WITH_DIVISION, frozenset({Role.CLERK})
        ),
        "reject_by_registry": Transition(frozenset({S.WITH_REGISTRY}), S.REJECTED, frozenset({Role.CLERK})),
        "accept_by_division": Transition(
            frozenset({S.WITH_DIVISION}), S.ACCEPTED, frozenset({Role.DIVISION_MEMBER})
        ),
        "reject_by_division": Transition(
            frozenset({S.WITH_DIVISION}), S.REJECTED, frozenset({Role.DIVISION_MEMBER})
        ),
    },
)
TRANSITIONS = MACHINE.transitions


def may_fire(submission: Submission, name: str, actor: StaffUser | None) -> bool:
    return MACHINE.may_fire(submission, name, actor)


def fire(submission: Submission, name: str, actor: StaffUser | None = None, **details) -> None:
    """Move the submission along one allowed transition, with its audit event."""
    MACHINE.fire(submission, name, actor, **details)


@dataclass(frozen=True)
class SubmissionRequest:
    """The fields of a submission, checked against the rules and resolved to records."""

    account: PortalAccount
    case: Case
    kind: DocumentKind
    purpose: str
    subject: str
    proof_of_service: dict | None
    resubmission_of: Submission | None


def check_fields_early(fields: dict[str, str]) -> None:
    """Refuse before any byte of a file is stored when the fields sent first already break a rule."""
    if all(fields.get(name) for name in REQUIRED_FIELDS):
        check_submission_request(fields)


def check_submission_request(fields: dict[str, str]) -> SubmissionRequest:
    for name in REQUIRED_FIELDS:
        if not fields.get(name, "").strip():
            raise Refusal("missing_field", field=name)
    kind = _document_kind(fields["document_kind"].strip())
    account = find_portal_account(fields["portal_account_id"].strip())
    if account is None:
        raise Refusal("unknown_portal_account")
    case = _case_for(account, fields["case_file_number"])
    return SubmissionRequest(
        account=account,
        case=case,
        kind=kind,
        purpose=_purpose(fields.get("purpose", "")),
        subject=_subject(fields["subject"]),
        proof_of_service=_proof_of_service(fields.get("proof_of_service", "")),
        resubmission_of=_resubmission_of(fields.get("resubmission_of", ""), case),
    )


def _document_kind(value: str) -> DocumentKind:
    if value == "notice_of_appeal":
        raise Refusal("notice_of_appeal_not_accepted")
    try:
        return DocumentKind(value)
    except ValueError:
        raise Refusal("unknown_document_kind", kind=value[:40]) from None


def _case_for(account: PortalAccount, file_number: str) -> Case:
    file_number = normalise_file_number(file_number)[:20]
    case = db.session.scalar(select(Case).where(Case.file_number == file_number))
    if case is None or case.status is not CaseStatus.ACTIVE:
        raise Refusal("unknown_case", file_number=file_number)
    of_record = db.session.scalar(
        select(CounselOfRecord).where(
            CounselOfRecord.case_id == case.id,
            CounselOfRecord.counsel_id == account.counsel_id,
            CounselOfRecord.ended_on.is_(None),
        )
    )
    if of_record is None:
        raise Refusal("not_counsel_of_record", file_number=file_number)
    if case.division.is_appeal and case.appeal_filed_on is None:
        raise Refusal("no_appeal_filed", file_number=file_number)
    return case


def _purpose(value: str) -> str:
    value = value.strip()
    if value not in PURPOSES:
        raise Refusal("unknown_purpose", purpose=value[:40])
    return value


def _subject(value: str) -> str:
    value = " ".join(value.split())
    if not value or len(value) > 500:
        raise Refusal("invalid_subject")
    return value


def _proof_of_service(value: str) -> dict | None:

    if not value.strip():
        return None
    try:
        proof = json.loads(value)
    except (ValueError, RecursionError):  # deep nesting is not JSON this field can hold either
        raise Refusal("malformed_request", reason="proof_of_service is not JSON") from None
    if not isinstance(proof, dict):
        raise Refusal("invalid_proof_of_service", reason="an object is expected")
    served_on = proof.get("served_on")
    parties = served_on if isinstance(served_on, list) else []  # a list or an object inside is no party
    if not parties or not all(isinstance(party, str) and party in SERVED_ON for party in parties):
        raise Refusal("invalid_proof_of_service", reason="served_on lists minister and/or other_party")
    method = proof.get("method")
    # A JSON escape (\u0000) passes the checks on the raw field; the field's text obeys the same rule.
    if not isinstance(method, str) or not method.strip() or len(method) > 200 or odd_character(method):
        raise Refusal("invalid_proof_of_service", reason="method is required (at most 200 characters)")
    served_at = _instant(proof.get("served_at"))
    return {"served_on": sorted(set(served_on)), "method": method.strip(), "served_at": served_at.isoformat()}


def _instant(value) -> datetime:
    try:
        instant = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        raise Refusal("invalid_proof_of_service", reason="served_at is an ISO 8601 date and time") from None
    if instant.tzinfo is None:
        raise Refusal("invalid_proof_of_service", reason="served_at needs its offset (e.g. -05:00)")
    return instant


def _resubmission_of(value: str, case: Case) -> Submission | None:
    value = value.strip()
    if not value:
        return None
    earlier = (
        db.session.scalar(select(Submission).where(Submission.public_id == value))
        if len(value) <= 36
        else None
    )
    if earlier is None or earlier.case_id != case.id:
        raise Refusal("unknown_submission", submission_id=value[:36])
    if earlier.status is not SubmissionStatus.REJECTED:
        raise Refusal("not_rejected", status=earlier.status.value)
    return earlier


def now() -> datetime:
    """The clock of received times (one place, so that tests can fix it)."""
    return utcnow()


def record_submission(
    request: SubmissionRequest, attachments: list[KeptAttachment], client: PortalClient, received_at: datetime
) -> Submission:
    """Write the submission once its files are durable; screening is queued after the commit."""
    case = request.case
    rule = timeliness.find_rule(case.division_id, request.kind, request.purpose)
    deadline = timeliness.judge(rule, case.next_hearing_on, received_at, case.office.zone)
    submission = Submission(
        case=case,
        office=case.office,
        division=case.division,
        counsel=request.account.counsel,
        portal_account=request.account,
        portal_client_id=client.id,
        document_kind=request.kind,
        purpose=request.purpose,
        subject=request.subject,
        proof_of_service=request.proof_of_service,
        resubmission_of=request.resubmission_of,
        received_at=received_at,
        received_at_original=received_at,
        hearing_on=case.next_hearing_on,
        deadline_rule=rule,
        deadline_on=deadline.last_day,
        timeliness=deadline.timeliness,
    )
    _add_attachments(submission, attachments)
    db.session.add(submission)
    db.session.flush()
    record_event(
        "submission.received",
        record=submission,
        actor=f"portal: {client.name}",
        after={
            "case": case.file_number,
            "kind": request.kind.value,
            "attachments": [item.stored.sha256 for item in attachments],
            "received_at": received_at.isoformat(),
            "resubmission_of": request.resubmission_of.public_id if request.resubmission_of else None,
        },
    )
    _queue_receipt(submission)
    queue.enqueue_after_commit(
        queue.JobName.SCREEN_SUBMISSION, submission.id, job_id=screening_job_id(submission.id)
    )
    return submission


def screening_job_id(submission_id: int) -> str:
    return f"screen-submission-{submission_id}"


def _add_attachments(submission: Submission, attachments: list[KeptAttachment]) -> None:

    for position, item in enumerate(attachments, start=1):
        submission.attachments.append(
            Attachment(
                position=position, filename=item.filename, size=item.stored.size, sha256=item.stored.sha256
            )
        )


def message_values(submission: Submission) -> dict:
    """What every message to counsel about a submission says of it: counsel's name and office, the file
    number, the kind of document, subject and files, when it was received, and the portal's id as the
    reference."""
    return {
        **counsel_values(submission.counsel, submission.office),
        **submission_details(submission),
        "file_number": submission.case.file_number,
        "submission_id": submission.public_id,
        "received_eastern": format_instant(submission.received_at, timeliness.EASTERN),
        "received_local": format_instant(submission.received_at, submission.office.zone),
    }


def _queue_receipt(submission: Submission) -> None:
    values = {
        **message_values(submission),
        "attachments": [attachment.filename for attachment in submission.attachments],
    }
    try:
        queue_message("submission_receipt", values, counsel=submission.counsel, case=submission.case)
    except Refused:
        logger.warning("No receipt sent for submission %s: counsel has no email address.", submission.id)


def format_instant(instant: datetime, zone) -> str:
    """2021-04-01 22:00 PDT: the way receipts and screens print an instant in a zone."""
    return instant.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


def correct_received_time(
    submission: Submission, corrected: datetime, reason: str, supervisor: StaffUser
) -> None:
    """A supervisor's correction: the original stays, the reason and the audit event are kept."""
    if supervisor.role is not Role.SUPERVISOR:
        raise Refused(_l("Only a supervisor corrects a received time."))
    reason = reason.strip()
    if not reason:
        raise Refused(_l("Give the corrected time and the reason."))
    if corrected.tzinfo is None:
        raise ValueError("A corrected time needs its time zone.")  # the page always gives one
    previous = submission.received_at
    db.session.add(
        ReceivedTimeCorrection(
            submission=submission,
            previous_received_at=previous,
            corrected_received_at=corrected,
            reason=reason,
            corrected_by=supervisor,
        )
    )
    submission.received_at = corrected
    deadline = timeliness.judge(
        submission.deadline_rule, submission.hearing_on, corrected, submission.office.zone
    )
    submission.timeliness = deadline.timeliness
    record_event(
        "submission.received_time_corrected",
        record=submission,
        actor=supervisor,
        before={"received_at": previous.isoformat()},
        after={
            "received_at": corrected.isoformat(),
            "reason": reason,
            "timeliness": deadline.timeliness.value,
        },
    )
