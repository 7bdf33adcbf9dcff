"""The OpenAPI 3.1 description of the portal API, served at /api/v1/openapi.json and kept true by tests."""

from flask import jsonify

from backoffice.api import bp
from backoffice.workflows.refusals import MESSAGES

STRING = {"type": "string"}
INSTANT = {"type": "string", "format": "date-time"}
NULLABLE_STRING = {"type": ["string", "null"]}


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _json(schema: dict, description: str) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


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
    "Error": {
        "type": "object",
        "required": ["error", "message_en", "message_fr", "details"],
        "properties": {
            "error": {"type": "string", "enum": sorted({*MESSAGES, "server_error"})},
            "message_en": STRING,
            "message_fr": STRING,
            "details": {"type": "object"},
        },
    },
    "Case": {
        "type": "object",
        "required": ["file_number", "division", "office", "appeal_filed"],
        "properties": {
            "file_number": STRING,
            "division": {"type": "string", "enum": ["RPD", "RAD", "ID", "IAD"]},
            "office": STRING,
            "appeal_filed": {"type": "boolean"},
        },
    },
    "Attachment": {
        "type": "object",
        "required": ["id", "filename", "size", "sha256"],
        "properties": {
            "id": STRING,
            "filename": STRING,
            "size": {"type": "integer"},
            "sha256": {"type": "string", "pattern": "^[0-9a-f]{64}$"},
        },
    },
    "Timeliness": {
        "type": "object",
        "required": ["status", "deadline", "rule", "citation_en", "citation_fr"],
        "properties": {
            "status": {"type": "string", "enum": ["on_time", "late", "no_deadline"]},
            "deadline": {"type": ["string", "null"], "format": "date"},
            "rule": NULLABLE_STRING,
            "citation_en": NULLABLE_STRING,
            "citation_fr": NULLABLE_STRING,
        },
    },
    "ReceivedTimes": {
        "type": "object",
        "required": ["id", "received_at", "received_at_local"],
        "properties": {"id": STRING, "received_at": INSTANT, "received_at_local": INSTANT},
    },
    "Submission": {
        "type": "object",
        "required": [
            "id",
            "status",
            "case_file_number",
            "document_kind",
            "received_at",
            "received_at_local",
            "office",
            "attachments",
            "timeliness",
        ],
        "properties": {
            "id": STRING,
            "status": {
                "type": "string",
                "enum": ["received", "screening", "with_registry", "with_division", "accepted", "rejected"],
            },
            "case_file_number": STRING,
            "document_kind": {
                "type": "string",
                "enum": ["division_form", "application", "disclosure", "written_submission"],
            },
            "received_at": {**INSTANT, "description": "The My Case timestamp, in Eastern time."},
            "received_at_local": {
                **INSTANT,
                "description": "The same instant in the handling office's local time.",
            },
            "office": STRING,
            "attachments": {"type": "array", "items": _ref("Attachment"), "minItems": 1, "maxItems": 5},
            "timeliness": _ref("Timeliness"),
            "resubmission_of": _ref("ReceivedTimes"),
        },
    },
    "Check": {
        "type": "object",
        "required": ["attachment_id", "code", "outcome", "message_en", "message_fr"],
        "properties": {
            "attachment_id": {**NULLABLE_STRING, "description": "null for a check on the whole submission"},
            "code": STRING,
            "outcome": {"type": "string", "enum": ["pass", "warning", "failure"]},
            "message_en": STRING,
            "message_fr": STRING,
        },
    },
    "Decision": {
        "type": "object",
        "required": ["by", "decision", "decided_at", "reasons", "note", "files"],
        "properties": {
            "by": {"type": "string", "enum": ["registry", "division"]},
            "decision": {"type": "string", "enum": ["accepted", "rejected"]},
            "decided_at": INSTANT,
            "reasons": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["code", "en", "fr", "rule_en", "rule_fr"],
                    "properties": {
                        "code": STRING,
                        "en": STRING,
                        "fr": STRING,
                        "rule_en": STRING,
                        "rule_fr": STRING,
                    },
                },
            },
            "note": {**NULLABLE_STRING, "description": "The note to counsel, when there is one"},
            "files": {
                "type": "array",
                "description": "The division's decision on each file, when it decided file by file (else empty); "
                "the submission is accepted when any file is",
                "items": {
                    "type": "object",
                    "required": ["attachment_id", "filename", "decision", "reasons"],
                    "properties": {
                        "attachment_id": STRING,
                        "filename": STRING,
                        "decision": {"type": "string", "enum": ["accepted", "rejected"]},
                        "reasons": {
                            "type": "array",
                            "items": {
                                "type": "object",
                                "required": ["code", "en", "fr"],
                                "properties": {"code": STRING, "en": STRING, "fr": STRING},
                            },
                        },
                    },
                },
            },
        },
    },
    "SubmissionWithHistory": {
        "allOf": [
            _ref("Submission"),
            {
                "type": "object",
                "required": ["decisions", "checks"],
                "properties": {
                    "decisions": {"type": "array", "items": _ref("Decision")},
                    "checks": {
                        "type": "array",
                        "items": _ref("Check"),
                        "description": "The automated check results counsel may see, once screening is over.",
                    },
                },
            },
        ]
    },
}

SCHEMAS |= {
    "RedeemRequest": {
        "type": "object",
        "required": ["code", "sign_in_provider", "sign_in_subject"],
        "properties": {
            "code": {
                "type": "string",
                "description": "The invitation code, e.g. K7QM-3XPR-9TWD (dashes optional)",
            },
            "sign_in_provider": {"type": "string", "enum": ["gckey", "partner"]},
            "sign_in_subject": {
                "type": "string",
                "maxLength": 200,
                "description": "Opaque id from GCKey or the partner",
            },
        },
    },
    "Challenge": {
        "type": "object",
        "required": ["challenge_id", "sms_sent_to", "expires_at"],
        "properties": {"challenge_id": STRING, "sms_sent_to": STRING, "expires_at": INSTANT},
    },
    "VerifyRequest": {
        "type": "object",
        "required": ["challenge_id", "access_code"],
        "properties": {"challenge_id": STRING, "access_code": {"type": "string", "pattern": "^[0-9]{6}$"}},
    },
    "ActiveAccount": {
        "type": "object",
        "required": ["portal_account_id", "counsel", "status"],
        "properties": {
            "portal_account_id": STRING,
            "counsel": {
                "type": "object",
                "required": ["name", "preferred_language"],
                "properties": {
                    "name": STRING,
                    "preferred_language": {"type": ["string", "null"], "enum": ["en", "fr", None]},
                },
            },
            "status": {"type": "string", "enum": ["active"]},
        },
    },
}

SUBMISSION_FORM = {
    "type": "object",
    "required": ["portal_account_id", "case_file_number", "document_kind", "subject", "attachments"],
    "properties": {
        "portal_account_id": STRING,
        "case_file_number": STRING,
        "document_kind": {
            "type": "string",
            "enum": ["division_form", "application", "disclosure", "written_submission"],
            "description": "notice_of_appeal is refused with 422 notice_of_appeal_not_accepted.",
        },
        "purpose": {
            "type": "string",
            "enum": ["", "reply", "witness_information"],
            "description": "Narrows the deadline rule: a disclosure in reply, or witness information.",
        },
        "subject": {"type": "string", "maxLength": 500},
        "proof_of_service": {
            "type": "string",
            "description": 'JSON: {"served_on": ["minister" | "other_party"], "method": "...", "served_at": "<ISO 8601 with offset>"}',
        },
        "resubmission_of": {
            "type": "string",
            "description": "The id of a rejected submission this one replaces.",
        },
        "attachments": {
            "type": "array",
            "items": {"type": "string", "format": "binary", "contentMediaType": "application/pdf"},
            "minItems": 1,
            "maxItems": 5,
            "description": "PDF files of at most 50 MB each, sent after the other fields.",
        },
    },
}

PATHS = {
    "/api/v1/invitation-codes/redeem": {
        "post": {
            "operationId": "redeemInvitationCode",
            "summary": "Step 4: redeem an invitation code; an SMS access code goes to counsel's verified mobile",
            "description": "Unknown, expired, revoked and used codes all get the same 422 invalid_code.",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("RedeemRequest")}},
            },
            "responses": {
                "200": _json(_ref("Challenge"), "The SMS step has started"),
                **_errors(400, 422, 429),
            },
        }
    },
    "/api/v1/access-codes/verify": {
        "post": {
            "operationId": "verifyAccessCode",
            "summary": "Step 5: the 6-digit SMS access code (single use, 24 hours, limited attempts)",
            "requestBody": {
                "required": True,
                "content": {"application/json": {"schema": _ref("VerifyRequest")}},
            },
            "responses": {
                "200": _json(_ref("ActiveAccount"), "The portal account is active"),
                **_errors(400, 409, 422, 429),
            },
        }
    },
    "/api/v1/accounts/{portal_account_id}/cases": {
        "get": {
            "operationId": "listAccountCases",
            "summary": "The active cases where this counsel is counsel of record",
            "parameters": [{"name": "portal_account_id", "in": "path", "required": True, "schema": STRING}],
            "responses": {
                "200": _json({"type": "array", "items": _ref("Case")}, "The cases"),
                **_errors(404),
            },
        }
    },
    "/api/v1/submissions": {
        "post": {
            "operationId": "createSubmission",
            "summary": "Submit 1 to 5 PDFs for a case; streamed, refused at once when a limit is passed",
            "requestBody": {
                "required": True,
                "content": {"multipart/form-data": {"schema": SUBMISSION_FORM}},
            },
            "responses": {
                "201": _json(_ref("Submission"), "Received; screening follows"),
                **_errors(400, 409, 413, 415, 422),
            },
        }
    },
    "/api/v1/submissions/{submission_id}": {
        "get": {
            "operationId": "getSubmission",
            "summary": "A submission's status, decisions and the check results counsel may see",
            "parameters": [{"name": "submission_id", "in": "path", "required": True, "schema": STRING}],
            "responses": {
                "200": _json(_ref("SubmissionWithHistory"), "The submission"),
                **_errors(404),
            },
        }
    },
    "/api/v1/openapi.json": {
        "get": {
            "operationId": "getOpenApi",
            "summary": "This document",
            "responses": {"200": _json({"type": "object"}, "The OpenAPI document"), **_errors()},
        }
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


@bp.get("/openapi.json")
def openapi_document():
    return jsonify(DOCUMENT)
