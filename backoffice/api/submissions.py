"""Portal API: counsel's cases, and submissions (streamed intake, then their status and check results)."""

from flask import g, jsonify, request, url_for
from sqlalchemy import select

from backoffice.api import bp, refusal_response
from backoffice.api.edge import check_fields
from backoffice.api.openapi import request_fields
from backoffice.extensions import db
from backoffice.integrations.storage import RETRY_AFTER_SECONDS, StorageUnavailable, document_store
from backoffice.models import Submission, SubmissionStatus
from backoffice.workflows import submissions
from backoffice.workflows.decisions import reasons_for_counsel
from backoffice.workflows.intake import MAX_ATTACHMENT_BYTES, MAX_ATTACHMENTS, receive_upload
from backoffice.workflows.portal import cases_of_account, find_portal_account
from backoffice.workflows.refusals import Refusal
from backoffice.workflows.timeliness import EASTERN

REQUEST_CEILING = MAX_ATTACHMENTS * MAX_ATTACHMENT_BYTES + 2 * 1024 * 1024
SUBMISSION_FIELDS = request_fields("/api/v1/submissions", "POST")


@bp.get("/accounts/<portal_account_id>/cases")
def account_cases(portal_account_id: str):
    account = find_portal_account(portal_account_id)
    if account is None:
        raise Refusal("not_found")
    return jsonify([_case_json(case) for case in cases_of_account(account)])


def _case_json(case) -> dict:
    return {
        "file_number": case.file_number,
        "division": case.division.code,
        "office": case.office.code,
        "appeal_filed": case.appeal_filed_on is not None,
    }


@bp.post("/submissions")
def create_submission():
    """Stream the upload to storage, check it, make the files durable, then commit the rows."""
    boundary = _multipart_boundary()
    request.max_content_length = REQUEST_CEILING
    store = document_store()
    upload = receive_upload(request.stream, boundary, store, _check_fields_early)
    try:
        check_fields(upload.fields, SUBMISSION_FIELDS)
        submission_request = submissions.check_submission_request(upload.fields)
        if not upload.attachments:
            raise Refusal("no_attachments")
        kept = upload.keep()
        received_at = submissions.now()  # the last byte is now durable
        submission = submissions.record_submission(submission_request, kept, g.portal_client, received_at)
        db.session.commit()
    except BaseException:
        upload.discard()
        raise
    location = url_for("api.get_submission", submission_id=submission.public_id)
    return jsonify(submission_json(submission)), 201, {"Location": location}


@bp.errorhandler(StorageUnavailable)
def _storage_unavailable(_error: StorageUnavailable):
    """The object store does not answer: nothing is recorded (the rows are rolled back, the files discarded),
    and the portal is told when to send again."""
    db.session.rollback()
    response = refusal_response(Refusal("storage_unavailable", retry_after_seconds=RETRY_AFTER_SECONDS))
    response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
    return response


def _check_fields_early(fields: dict[str, str]) -> None:
    check_fields(fields, SUBMISSION_FIELDS)
    submissions.check_fields_early(fields)


def _multipart_boundary() -> bytes:
    if request.mimetype != "multipart/form-data" or not request.mimetype_params.get("boundary"):
        raise Refusal("malformed_request", reason="multipart/form-data with a boundary is expected")
    return request.mimetype_params["boundary"].encode("latin-1")


@bp.get("/submissions/<submission_id>")
def get_submission(submission_id: str):
    found = select(Submission).where(Submission.public_id == submission_id)
    submission = db.session.scalar(found) if len(submission_id) <= 36 else None  # no id is longer
    if submission is None:
        raise Refusal("not_found")
    return jsonify(submission_json(submission, with_history=True))


def submission_json(submission: Submission, with_history: bool = False) -> dict:
    body = {
        "id": submission.public_id,
        "status": submission.status.value,
        "case_file_number": submission.case.file_number,
        "document_kind": submission.document_kind.value,
        **_received_times(submission),
        "office": submission.office.code,
        "attachments": [
            {"id": item.public_id, "filename": item.filename, "size": item.size, "sha256": item.sha256}
            for item in submission.attachments
        ],
        "timeliness": _timeliness_json(submission),
    }
    if submission.resubmission_of is not None:
        body["resubmission_of"] = {
            "id": submission.resubmission_of.public_id,
            **_received_times(submission.resubmission_of),
        }
    if with_history:
        body["decisions"] = _decisions_json(submission)
        body["checks"] = _checks_json(submission)
    return body


def _decisions_json(submission: Submission) -> list[dict]:
    return [
        {
            "by": decision.made_by.value,
            "decision": "accepted" if decision.accepted else "rejected",
            "decided_at": decision.decided_at.astimezone(EASTERN).isoformat(),
            "reasons": reasons_for_counsel(decision),
            "note": decision.note,
            "files": [
                {
                    "attachment_id": item.attachment.public_id,
                    "filename": item.attachment.filename,
                    "decision": "accepted" if item.accepted else "rejected",
                    "reasons": [
                        {"code": reason.code, "en": reason.text_en, "fr": reason.text_fr}
                        for reason in item.reasons
                    ],
                }
                for item in decision.attachment_decisions
            ],
        }
        for decision in submission.decisions
    ]


def _received_times(submission: Submission) -> dict:
    return {
        "received_at": submission.received_at.astimezone(EASTERN).isoformat(),
        "received_at_local": submission.received_at.astimezone(submission.office.zone).isoformat(),
    }


def _timeliness_json(submission: Submission) -> dict:
    rule = submission.deadline_rule
    return {
        "status": submission.timeliness.value,
        "deadline": submission.deadline_on.isoformat() if submission.deadline_on else None,
        "rule": rule.code if rule else None,
        "citation_en": rule.citation_en if rule else None,
        "citation_fr": rule.citation_fr if rule else None,
    }


def _checks_json(submission: Submission) -> list[dict]:
    if submission.status in (SubmissionStatus.RECEIVED, SubmissionStatus.SCREENING):
        return []
    positions = {attachment.id: attachment.public_id for attachment in submission.attachments}
    return [
        {
            "attachment_id": positions.get(result.attachment_id),
            "code": result.code,
            "outcome": result.outcome.value,
            "message_en": result.message_en,
            "message_fr": result.message_fr,
        }
        for result in submission.check_results
        if result.for_counsel
    ]
