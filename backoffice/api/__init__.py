"""The JSON API that the My Case portal calls (PORTAL-API.md), under /api/v1, with a portal client token."""

from datetime import timedelta

from flask import Blueprint, g, jsonify, request
from werkzeug.exceptions import HTTPException

from backoffice.extensions import csrf, db
from backoffice.models.types import utcnow
from backoffice.workflows.portal import authenticate_portal_client
from backoffice.workflows.refusals import Refusal

bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)  # no cookies here: every call carries its bearer token

HTTP_CODES = {
    400: "malformed_request",
    401: "unauthorized",
    404: "not_found",
    405: "method_not_allowed",
    413: "request_too_large",
}


def refusal_response(refusal: Refusal):
    response = jsonify(refusal.as_json())
    response.status_code = refusal.status
    if refusal.status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="My Case back office"'
    if refusal.status == 429:
        response.headers["Retry-After"] = str(refusal.details.get("retry_after_seconds", 900))
    return response


def http_error_response(error: HTTPException):
    """Errors raised outside our own refusals (unknown address, wrong method, body too large) in the same shape."""
    code = HTTP_CODES.get(error.code or 500)
    if code is None:
        return server_error_response(error.code or 500)
    if code == "malformed_request":
        return refusal_response(Refusal(code, reason="the body could not be read"))
    return refusal_response(Refusal(code))


def server_error_response(status: int = 500):
    response = jsonify(
        {
            "error": "server_error",
            "message_en": "The back office could not finish this request; nothing was stored. Try again later.",
            "message_fr": "Le back-office n'a pas pu terminer cette demande; rien n'a été enregistré. Réessayez plus tard.",
            "details": {},
        }
    )
    response.status_code = status
    return response


@bp.before_request
def _authenticate() -> None:
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    client = authenticate_portal_client(token.strip()) if scheme.lower() == "bearer" else None
    if client is None:
        raise Refusal("unauthorized")
    if client.last_used_at is None or utcnow() - client.last_used_at > timedelta(minutes=5):
        client.last_used_at = utcnow()
        db.session.commit()
    g.portal_client = client


@bp.errorhandler(Refusal)
def _refused(refusal: Refusal):
    db.session.rollback()
    return refusal_response(refusal)


from backoffice.api import openapi, registration, submissions  # noqa: E402,F401  (routes register on the blueprint)
from backoffice.api.edge import refuse_odd_api_input  # noqa: E402

bp.before_request(refuse_odd_api_input)  # after the token is checked
