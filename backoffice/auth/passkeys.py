"""The passkey ceremonies on the web, for backoffice/static/passkeys.js: adding a passkey, signing in with one
(alone, or as the second factor after a password) and confirming who one is with one (step-up).

Each ceremony is two POSTs of JSON: the options (whose challenge the session keeps, for one answer only and a
few minutes), then the browser's answer. Errors are JSON too, `{"error": code, "message": text}`, the message in
the reader's language. The rules are in workflows/passkeys.py; here the request is read and answered.
"""

import json
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, logout_user
from flask_wtf.csrf import CSRFError
from webauthn import base64url_to_bytes
from webauthn.helpers import bytes_to_base64url
from werkzeug.exceptions import BadRequest, HTTPException, RequestEntityTooLarge

from backoffice.admin.base import reader
from backoffice.auth import _safe_next, sessions
from backoffice.extensions import db
from backoffice.models import SignInMethod, StaffUser
from backoffice.models.types import utcnow
from backoffice.workflows import passkeys
from backoffice.workflows.accounts import SignInOutcome
from backoffice.workflows.refusals import Refused

bp = Blueprint("passkeys", __name__)

CEREMONY = "passkey_ceremony"  # the session's key: what was asked, of whom, with which challenge, when
CEREMONY_MINUTES = 5
MAX_BODY_BYTES = 64 * 1024  # a credential is a few kilobytes, certificates included
REGISTER, SIGN_IN, SECOND_FACTOR, CONFIRM = "register", "sign_in", "second_factor", "confirm"

MESSAGES = {
    "malformed_request": _l("The request could not be understood. Reload the page and try again."),
    "no_ceremony": _l("This passkey request has expired or was already answered. Try again."),
    "already_signed_in": _l("You are already signed in."),
    "passkey_sign_in_off": _l("Sign in with your departmental account."),
    "step_up_required": _l("Confirm it is you before adding a passkey."),
    "no_passkeys": _l("You have no passkey yet."),
    "no_pending_sign_in": _l("Sign in again: the time to give your second factor is over."),
    "passkey_not_accepted": _l("This passkey was not accepted. Try again, or sign in another way."),
    "locked": _l(
        "The account is locked after too many failed attempts. Try again later or ask an administrator."
    ),
    "form_expired": _l("This page was open too long. Reload it and try again."),
    "request_too_large": _l("The request is larger than a passkey's answer can be."),
    "request_refused": _l("The request could not be answered. Reload the page and try again."),
}
STATUSES = {
    "no_pending_sign_in": 401,
    "passkey_not_accepted": 401,
    "passkey_sign_in_off": 403,
    "step_up_required": 403,
    "locked": 423,
    "request_too_large": 413,
}


def _error(code: str, message: Any = None, **extra: Any) -> ResponseReturnValue:
    body = {"error": code, "message": str(message if message is not None else MESSAGES[code]), **extra}
    return body, STATUSES.get(code, 400)


@bp.errorhandler(HTTPException)
def _http_error(error: HTTPException) -> ResponseReturnValue:
    """Refusals before the view (an expired CSRF token, odd input, a body too large) answer in JSON as well.
    A refused CSRF token stays a 400, as everywhere else in the back office."""
    if isinstance(error, RequestEntityTooLarge):
        return _error("request_too_large")
    if isinstance(error, CSRFError):
        return _error("form_expired")
    if error.code == 400:
        return _error("malformed_request")
    body, _status = _error("request_refused")
    return body, error.code or 400


# Adding a passkey ------------------------------------------------------------------------------------------------


@bp.post("/account/passkeys/options")
@login_required
def registration_options() -> ResponseReturnValue:
    if not sessions.factor_is_recent():
        return _step_up()
    user = reader()
    return _begin(REGISTER, user, passkeys.registration_options(user, _relying_party()[0]))


@bp.post("/account/passkeys")
@login_required
def register() -> ResponseReturnValue:
    user = reader()
    body = _answer("name")
    if not sessions.factor_is_recent():
        return _step_up()
    challenge = _take_challenge(REGISTER, user)
    if challenge is None:
        return _error("no_ceremony")
    rp_id, origins = _relying_party()
    try:
        passkeys.add_passkey(
            user, body.get("credential"), challenge, rp_id, origins, body.get("name"), actor=user
        )
    except Refused as refusal:
        db.session.rollback()
        return _error("refused", refusal.message)
    db.session.commit()
    return {"redirect": url_for("auth.security")}


def _step_up() -> ResponseReturnValue:
    """A passkey signs in alone: adding one is a sensitive action, open only to whoever proved a factor lately
    (a session taken over must not leave its taker a way back in)."""
    target = url_for("auth.confirm_identity", next=url_for("auth.security"))
    return _error("step_up_required", redirect=target)


# Signing in with a passkey: alone, or after a password -------------------------------------------------------


@bp.post("/sign-in/passkey/options")
def sign_in_options() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return _error("already_signed_in")
    body = _json_body(optional=True)
    user = None
    if body.get("mode") == SECOND_FACTOR:
        user = sessions.pending_user()
        if user is None:
            return _error("no_pending_sign_in", redirect=url_for("auth.sign_in_page"))
    elif not current_app.config["ALLOW_PASSWORD_SIGN_IN"]:
        return _error("passkey_sign_in_off")
    options = passkeys.authentication_options(user, _relying_party()[0])
    return _begin(SECOND_FACTOR if user else SIGN_IN, user, options)


@bp.post("/sign-in/passkey")
def sign_in() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return _error("already_signed_in")
    body = _answer("next")
    ceremony = session.get(CEREMONY)
    purpose = ceremony.get("purpose") if isinstance(ceremony, dict) else None
    if purpose == SECOND_FACTOR:
        return _second_factor(body.get("credential"))
    return _passkey_alone(body.get("credential"), body.get("next"))


def _passkey_alone(credential: Any, next_url: str | None) -> ResponseReturnValue:
    """Where only single sign-on is offered, the department's provider decides who signs in: no passkey
    replaces it (a person it has turned away must not come back with one)."""
    challenge = _take_challenge(SIGN_IN, None)
    if not current_app.config["ALLOW_PASSWORD_SIGN_IN"]:
        return _error("passkey_sign_in_off")
    if challenge is None:
        return _error("no_ceremony")
    result = passkeys.sign_in_with_passkey(credential, challenge, *_relying_party())
    if result.outcome is SignInOutcome.LOCKED:
        return _error("locked")
    if result.outcome is not SignInOutcome.SIGNED_IN:
        return _error("passkey_not_accepted")
    sessions.start_session(result.user, SignInMethod.PASSKEY)
    return {"redirect": _safe_next(next_url)}


def _second_factor(credential: Any) -> ResponseReturnValue:
    user = sessions.pending_user()
    challenge = _take_challenge(SECOND_FACTOR, user)
    if user is None:
        session.pop(sessions.PENDING, None)
        return _error("no_pending_sign_in", redirect=url_for("auth.sign_in_page"))
    if challenge is None:
        return _error("no_ceremony")
    outcome = passkeys.check_passkey(user, credential, challenge, *_relying_party())
    if outcome is SignInOutcome.LOCKED:
        session.pop(sessions.PENDING, None)
        flash(str(MESSAGES["locked"]), "danger")
        return _error("locked", redirect=url_for("auth.sign_in_page"))
    if outcome is not SignInOutcome.SIGNED_IN:
        return _error("passkey_not_accepted")
    next_url = sessions.pending_next()
    sessions.start_session(user, SignInMethod.PASSWORD_PASSKEY)
    return {"redirect": _safe_next(next_url)}


# Confirming who one is before a sensitive action (step-up) ----------------------------------------------------


@bp.post("/account/confirm/passkey/options")
@login_required
def confirm_options() -> ResponseReturnValue:
    user = reader()
    if not user.passkeys:
        return _error("no_passkeys")
    return _begin(CONFIRM, user, passkeys.authentication_options(user, _relying_party()[0]))


@bp.post("/account/confirm/passkey")
@login_required
def confirm() -> ResponseReturnValue:
    user = reader()
    body = _answer("next")
    challenge = _take_challenge(CONFIRM, user)
    if challenge is None:
        return _error("no_ceremony")
    outcome = passkeys.check_passkey(user, body.get("credential"), challenge, *_relying_party())
    if outcome is SignInOutcome.LOCKED:
        logout_user()
        session.clear()
        flash(str(MESSAGES["locked"]), "danger")
        return _error("locked", redirect=url_for("auth.sign_in_page"))
    if outcome is not SignInOutcome.SIGNED_IN:
        return _error("passkey_not_accepted")
    sessions.note_factor_proved()
    return {"redirect": _safe_next(body.get("next"))}


# The ceremony kept in the session ------------------------------------------------------------------------------


def _begin(
    purpose: str, user: StaffUser | None, options_and_challenge: tuple[str, bytes]
) -> ResponseReturnValue:
    """Keep the ceremony's challenge in the session, and answer the options the browser passes to WebAuthn."""
    options, challenge = options_and_challenge
    session[CEREMONY] = {
        "purpose": purpose,
        "challenge": bytes_to_base64url(challenge),
        "user": user.id if user is not None else None,
        "at": utcnow().isoformat(),
    }
    return current_app.response_class(options, mimetype="application/json")


def _take_challenge(purpose: str, user: StaffUser | None) -> bytes | None:
    """The challenge of the ceremony begun for this purpose and person, a few minutes ago at most; taken out of
    the session whatever the answer, so that each challenge is answered once."""
    ceremony = session.pop(CEREMONY, None)
    if not isinstance(ceremony, dict) or ceremony.get("purpose") != purpose:
        return None
    if ceremony.get("user") != (user.id if user is not None else None):
        return None
    try:
        begun = datetime.fromisoformat(ceremony["at"])
        challenge = base64url_to_bytes(ceremony["challenge"])
    except (KeyError, TypeError, ValueError):
        return None
    return challenge if utcnow() - begun <= timedelta(minutes=CEREMONY_MINUTES) else None


# Reading the request -----------------------------------------------------------------------------------------


def _json_body(*, optional: bool = False) -> dict[str, Any]:
    """The body as a JSON object; anything else is refused as malformed (a 400, see `_http_error`): not JSON,
    not an object, nested past the parser's depth, a number past Python's length for integers, invalid UTF-8.
    An empty body is `{}` when `optional`."""
    # The staff screens' guard has already opened the body's stream under the application's limit (60 MB, for
    # documents): this smaller one is checked here, by the declared length first.
    if (request.content_length or 0) > MAX_BODY_BYTES:
        raise RequestEntityTooLarge()
    data = request.get_data(cache=True)
    if len(data) > MAX_BODY_BYTES:
        raise RequestEntityTooLarge()
    if optional and not data.strip():
        return {}
    try:
        body = json.loads(data)
    except (ValueError, RecursionError):
        raise BadRequest() from None
    if not isinstance(body, dict):
        raise BadRequest()
    return body


def _answer(text_field: str) -> dict[str, Any]:
    """The browser's answer to a ceremony: a JSON object whose `text_field` (the new passkey's name, or where to
    go next) is text when it is given."""
    body = _json_body()
    if not isinstance(body.get(text_field), str | None):
        raise BadRequest()
    return body


def _relying_party() -> tuple[str, list[str]]:
    """The relying party's id (WEBAUTHN_RP_ID, else this request's host name) and the origins a browser may
    report (WEBAUTHN_ORIGINS, else this request's own)."""
    config = current_app.config
    rp_id = config["WEBAUTHN_RP_ID"] or urlsplit(request.host_url).hostname
    origins = [origin.strip() for origin in (config["WEBAUTHN_ORIGINS"] or "").split(",") if origin.strip()]
    return rp_id, origins or [request.host_url.rstrip("/")]
