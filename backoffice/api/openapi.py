"""The OpenAPI 3.1 description of the portal API, served at /api/v1/openapi.json and kept true by tests."""

from typing import Any

from flask import jsonify

from backoffice.api import bp
from backoffice.edge import CONTROL_CHARACTERS
from backoffice.workflows.refusals import MESSAGES

STRING = {"type": "string"}
INSTANT = {"type": "string", "format": "date-time"}
NULLABLE_STRING = {"type": ["string", "null"]}
PUBLIC_ID = {
    "type": "string",
    "format": "uuid",
    "maxLength": 36,
    "examples": ["0f8e4b8c-3c1a-4d6e-9f7b-2a5d1e6c9b40"],
}
# What the API reads as text: no control character but tab, LF and CR (400 malformed_request); a required
# field also needs a character that is not a space (a blank one is refused as missing).
TEXT = f"^[^{CONTROL_CHARACTERS}]*$"
REQUIRED_TEXT = f"^[^{CONTROL_CHARACTERS}]*[^\\s{CONTROL_CHARACTERS}][^{CONTROL_CHARACTERS}]*$"


def _text(max_length: int, *, required: bool = False, **annotations) -> dict:
    """A text field as the API reads it, at most `max_length` characters."""
    if required:
        return {
            "type": "string",
            "minLength": 1,
            "maxLength": max_length,
            "pattern": REQUIRED_TEXT,
            **annotations,
        }
    return {"type": "string", "maxLength": max_length, "pattern": TEXT, **annotations}


def _object(optional: tuple[str, ...] = (), **properties: dict) -> dict:
    """A JSON object with these properties, each one required unless named in `optional`."""
    required = [name for name in properties if name not in optional]
    return {"type": "object", "required": required, "properties": properties}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _json_body(name: str) -> dict:
    """A required request body: the JSON object of schema `name`."""
    return {"required": True, "content": {"application/json": {"schema": _ref(name)}}}


def _path_id(name: str) -> dict:
    """A public id in the path, e.g. {submission_id}."""
    return {"name": name, "in": "path", "required": True, "schema": PUBLIC_ID}


def _operation(
    operation_id: str,
    summary: str,
    responses: tuple[Any, ...],
    links: dict[str, dict] | None = None,
    **fields: Any,
) -> dict:
    """An operation: `responses` is its success status and answer, then the statuses it refuses with (401
    always); `links` name the operations (by operationId) that the answer's values let a client call next."""
    status, answer, *refusals = responses
    if links:
        answer = {**answer, "links": {name: {"operationId": name, **link} for name, link in links.items()}}
    return {
        "operationId": operation_id,
        "summary": summary,
        **fields,
        "responses": {status: answer, **_errors(*refusals)},
    }


def _errors(*statuses: int) -> dict:
    return {
        str(status): _json(
            _ref("Error"),
            "Refused: "
            + ", ".join(
                sorted(code for code, (code_status, *_) in MESSAGES.items() if code_status == status)
            ),
        )
        for status in (401, *statuses)
    }


SCHEMAS = {
    "Error": _object(
        error={"type": "string", "enum": sorted({*MESSAGES, "server_error"})},
        message_en=STRING,
        message_fr=STRING,
        details={"type": "object"},
    ),
    "Case": _object(
        file_number=STRING,
        division={"type": "string", "enum": ["RPD", "RAD", "ID", "IAD"]},
        office=STRING,
        appeal_filed={"type": "boolean"},
    ),
    "Attachment": _object(
        id=STRING,
        filename=STRING,
        size={"type": "integer"},
        sha256={"type": "string", "pattern": "^[0-9a-f]{64}$"},
    ),
    "Timeliness": _object(
        status={"type": "string", "enum": ["on_time", "late", "no_deadline"]},
        deadline={"type": ["string", "null"], "format": "date"},
        rule=NULLABLE_STRING,
        citation_en=NULLABLE_STRING,
        citation_fr=NULLABLE_STRING,
    ),
    "ReceivedTimes": _object(id=STRING, received_at=INSTANT, received_at_local=INSTANT),
    "Submission": _object(
        id=STRING,
        status={
            "type": "string",
            "enum": ["received", "screening", "with_registry", "with_division", "accepted", "rejected"],
        },
        case_file_number=STRING,
        document_kind={
            "type": "string",
            "enum": ["division_form", "application", "disclosure", "written_submission"],
        },
        received_at={**INSTANT, "description": "The My Case timestamp, in Eastern time."},
        received_at_local={
            **INSTANT,
            "description": "The same instant in the handling office's local time.",
        },
        office=STRING,
        attachments={"type": "array", "items": _ref("Attachment"), "minItems": 1, "maxItems": 5},
        timeliness=_ref("Timeliness"),
        resubmission_of=_ref("ReceivedTimes"),
        optional=("resubmission_of",),
    ),
    "Check": _object(
        attachment_id={**NULLABLE_STRING, "description": "null for a check on the whole submission"},
        code=STRING,
        outcome={"type": "string", "enum": ["pass", "warning", "failure"]},
        message_en=STRING,
        message_fr=STRING,
    ),
    "Decision": _object(
        by={"type": "string", "enum": ["registry", "division"]},
        decision={"type": "string", "enum": ["accepted", "rejected"]},
        decided_at=INSTANT,
        reasons={
            "type": "array",
            "items": _object(code=STRING, en=STRING, fr=STRING, rule_en=STRING, rule_fr=STRING),
        },
        note={**NULLABLE_STRING, "description": "The note to counsel, when there is one"},
        files={
            "type": "array",
            "description": "The division's decision on each file, when it decided file by file (else empty); "
            "the submission is accepted when any file is",
            "items": _object(
                attachment_id=STRING,
                filename=STRING,
                decision={"type": "string", "enum": ["accepted", "rejected"]},
                reasons={
                    "type": "array",
                    "items": _object(code=STRING, en=STRING, fr=STRING),
                },
            ),
        },
    ),
    "SubmissionWithHistory": {
        "allOf": [
            _ref("Submission"),
            _object(
                decisions={"type": "array", "items": _ref("Decision")},
                checks={
                    "type": "array",
                    "items": _ref("Check"),
                    "description": "The automated check results counsel may see, once screening is over.",
                },
            ),
        ]
    },
}

SCHEMAS |= {
    "RedeemRequest": _object(
        code=_text(
            40,
            required=True,
            description="The invitation code, e.g. K7QM-3XPR-9TWD (dashes optional)",
            examples=["K7QM-3XPR-9TWD"],
        ),
        sign_in_provider={"type": "string", "enum": ["gckey", "partner"]},
        sign_in_subject=_text(
            200, required=True, description="Opaque id from GCKey or the partner", examples=["gckey-5c1d"]
        ),
    ),
    "Challenge": _object(challenge_id=STRING, sms_sent_to=STRING, expires_at=INSTANT),
    "VerifyRequest": _object(
        challenge_id={**PUBLIC_ID, "minLength": 1},
        access_code={"type": "string", "pattern": "^[0-9]{6}$", "examples": ["123456"]},
    ),
    "ActiveAccount": _object(
        portal_account_id=STRING,
        counsel=_object(
            name=STRING, preferred_language={"type": ["string", "null"], "enum": ["en", "fr", None]}
        ),
        status={"type": "string", "enum": ["active"]},
    ),
}

SCHEMAS["ProofOfService"] = _object(
    served_on={
        "type": "array",
        "minItems": 1,
        "items": {"type": "string", "enum": ["minister", "other_party"]},
    },
    method=_text(200, required=True, examples=["registered mail"]),
    served_at={**INSTANT, "description": "ISO 8601 with its offset, e.g. 2026-12-01T10:00:00-05:00"},
)

SUBMISSION_FORM = _object(
    portal_account_id=PUBLIC_ID,
    case_file_number=_text(20, required=True, examples=["VB5-01234"]),
    document_kind={
        "type": "string",
        "enum": ["division_form", "application", "disclosure", "written_submission"],
        "description": "notice_of_appeal is refused with 422 notice_of_appeal_not_accepted.",
    },
    purpose={
        "type": "string",
        "enum": ["", "reply", "witness_information"],
        "description": "Narrows the deadline rule: a disclosure in reply, or witness information.",
    },
    subject=_text(500, required=True, examples=["Change of address"]),
    proof_of_service={
        **_ref("ProofOfService"),
        "description": "Sent as JSON (see encoding): not JSON is 400 malformed_request, JSON that is not a "
        "valid proof is 422 invalid_proof_of_service.",
    },
    resubmission_of=_text(36, description="The id of a rejected submission this one replaces."),
    attachments={
        "type": "array",
        "items": {"type": "string", "format": "binary", "contentMediaType": "application/pdf"},
        "minItems": 1,
        "maxItems": 5,
        "description": "PDF files of at most 50 MB each, sent after the other fields.",
    },
    optional=(
        "purpose",
        "proof_of_service",
        "resubmission_of",
    ),
)

PATHS = {
    "/api/v1/invitation-codes/redeem": {
        "post": _operation(
            "redeemInvitationCode",
            "Step 4: redeem an invitation code; an SMS access code goes to counsel's verified mobile",
            ("200", _json(_ref("Challenge"), "The SMS step has started"), 400, 422, 429),
            {"verifyAccessCode": {"requestBody": {"challenge_id": "$response.body#/challenge_id"}}},
            description="Unknown, expired, revoked and used codes all get the same 422 invalid_code.",
            requestBody=_json_body("RedeemRequest"),
        )
    },
    "/api/v1/access-codes/verify": {
        "post": _operation(
            "verifyAccessCode",
            "Step 5: the 6-digit SMS access code (single use, 24 hours, limited attempts)",
            ("200", _json(_ref("ActiveAccount"), "The portal account is active"), 400, 409, 422, 429),
            {"listAccountCases": {"parameters": {"portal_account_id": "$response.body#/portal_account_id"}}},
            requestBody=_json_body("VerifyRequest"),
        )
    },
    "/api/v1/accounts/{portal_account_id}/cases": {
        "get": _operation(
            "listAccountCases",
            "The active cases where this counsel is counsel of record",
            ("200", _json({"type": "array", "items": _ref("Case")}, "The cases"), 404),
            {
                "createSubmission": {
                    "requestBody": {
                        "portal_account_id": "$request.path.portal_account_id",
                        "case_file_number": "$response.body#/0/file_number",
                    }
                }
            },
            parameters=[_path_id("portal_account_id")],
        )
    },
    "/api/v1/submissions": {
        "post": _operation(
            "createSubmission",
            "Submit 1 to 5 PDFs for a case; streamed, refused at once when a limit is passed",
            ("201", _json(_ref("Submission"), "Received; screening follows"), 400, 409, 413, 415, 422, 503),
            {"getSubmission": {"parameters": {"submission_id": "$response.body#/id"}}},
            requestBody={
                "required": True,
                "content": {
                    "multipart/form-data": {
                        "schema": SUBMISSION_FORM,
                        "encoding": {
                            "proof_of_service": {"contentType": "application/json"},
                            "attachments": {"contentType": "application/pdf"},
                        },
                    }
                },
            },
        )
    },
    "/api/v1/submissions/{submission_id}": {
        "get": _operation(
            "getSubmission",
            "A submission's status, decisions and the check results counsel may see",
            ("200", _json(_ref("SubmissionWithHistory"), "The submission"), 404),
            parameters=[_path_id("submission_id")],
        )
    },
    "/api/v1/openapi.json": {
        "get": _operation(
            "getOpenApi", "This document", ("200", _json({"type": "object"}, "The OpenAPI document"))
        )
    },
}

DOCUMENT = {
    "openapi": "3.1.0",
    "info": {
        "title": "IRB My Case back office: portal API",
        "version": "1.0.0",
        "description": (
            "What the My Case portal calls. Every call carries `Authorization: Bearer <portal client token>`; "
            "every response carries X-Request-Id. Times are ISO 8601 with their offset. Errors have the body "
            "of the Error schema, in English and French."
        ),
    },
    "components": {
        "schemas": SCHEMAS,
        "securitySchemes": {"portalClient": {"type": "http", "scheme": "bearer"}},
    },
    "security": [{"portalClient": []}],
    "paths": PATHS,
}


def request_fields(rule: str, method: str) -> frozenset[str]:
    """The fields, files aside, that this document declares for the body of a route (a Flask rule) and method."""
    path = rule.replace("<", "{").replace(">", "}")
    body = PATHS.get(path, {}).get(method.lower(), {}).get("requestBody", {})
    fields = set()
    for media in body.get("content", {}).values():
        schema = media["schema"]
        schema = SCHEMAS[schema["$ref"].rsplit("/", 1)[-1]] if "$ref" in schema else schema
        fields |= {name for name, field in schema.get("properties", {}).items() if not _is_file(field)}
    return frozenset(fields)


def _is_file(field: dict) -> bool:
    return "binary" in (field.get("format"), field.get("items", {}).get("format"))


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(DOCUMENT)
