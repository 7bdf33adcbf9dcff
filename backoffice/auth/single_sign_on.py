"""Single sign-on with the department's OpenID Connect provider, through Authlib's Flask client.

The authorization code flow with PKCE (S256), state and nonce; the discovery document and the provider's keys
are read from OIDC_ISSUER and cached, and read again when a token names a key not seen yet (rotation). Authlib
checks the id_token's signature, issuer, audience, expiry and nonce; workflows/single_sign_on.py decides who
the person is here. The same flow, with prompt=login, confirms a signed-in person before a sensitive action.
"""

import time

import requests
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from flask import Flask, current_app, flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_login import current_user
from joserfc.errors import JoseError

from backoffice.auth import _safe_next, bp, sessions
from backoffice.extensions import db
from backoffice.models import SignInMethod
from backoffice.workflows.audit import record_event_now
from backoffice.workflows.single_sign_on import ACTOR, Identity, SignOnRefused, SsoRefusal, staff_for

PROVIDER = "department"
RETURN_TO = "sso_next"
CONFIRMING = "sso_confirming"
CONFIRMATION_SECONDS = 120  # a confirmation's sign-in at the provider is this recent at most (clocks drift)
# What a provider, a network or a forged answer can raise; each ends in a refusal, never a 500.
FLOW_ERRORS = (
    OAuthError,
    JoseError,
    requests.RequestException,
    KeyError,
    ValueError,
    TypeError,
    RuntimeError,
)


def init_single_sign_on(app: Flask) -> None:
    """Register the provider when OIDC_ISSUER is set: one Authlib client per application."""
    if not app.config["OIDC_ISSUER"]:
        return
    oauth = OAuth(app)
    oauth.register(
        PROVIDER,
        client_id=app.config["OIDC_CLIENT_ID"],
        client_secret=app.config["OIDC_CLIENT_SECRET"],
        server_metadata_url=app.config["OIDC_ISSUER"].rstrip("/") + "/.well-known/openid-configuration",
        client_kwargs={"scope": app.config["OIDC_SCOPES"], "code_challenge_method": "S256", "timeout": 10},
    )
    app.extensions["single_sign_on"] = oauth


def _client():
    oauth = current_app.extensions.get("single_sign_on")
    return oauth.create_client(PROVIDER) if oauth else None


@bp.get("/sign-in/sso")
def single_sign_on() -> ResponseReturnValue:
    client = _client()
    if client is None:
        flash(_("Single sign-on is not configured here."), "danger")
        return redirect(url_for("auth.sign_in_page"))
    confirming = current_user.is_authenticated and request.args.get("confirm") == "1"
    if current_user.is_authenticated and not confirming:
        return redirect(url_for("admin.index"))
    session[RETURN_TO] = _safe_next(request.args.get("next"))
    session[CONFIRMING] = confirming
    extra = {"prompt": "login", "max_age": 0} if confirming else {}
    try:
        return client.authorize_redirect(url_for("auth.single_sign_on_return", _external=True), **extra)
    except FLOW_ERRORS:
        current_app.logger.warning("The identity provider's discovery document could not be read.")
        return _refused(
            "provider_unreachable", _("The departmental sign-in is not answering. Try again shortly.")
        )


@bp.get("/sign-in/sso/return")
def single_sign_on_return() -> ResponseReturnValue:
    client = _client()
    if client is None:
        return redirect(url_for("auth.sign_in_page"))
    next_url = session.pop(RETURN_TO, None) or url_for("admin.index")
    confirming = session.pop(CONFIRMING, False)
    try:
        token = client.authorize_access_token(claims_options=_expected_claims(client))
        claims = token.get("userinfo")
        if not claims or "id_token" not in token:
            raise SignOnRefused(SsoRefusal.INCOMPLETE_CLAIMS)
        identity = Identity.from_claims(dict(claims), current_app.config["OIDC_ROLE_CLAIM"])
    except SignOnRefused as refused:
        return _refused(refused.reason.value, refused.reason.message)
    except FLOW_ERRORS as error:
        reason = type(error).__name__
        current_app.logger.warning("Single sign-on refused: %s", reason)
        return _refused(
            f"token_refused:{reason}", _("The departmental sign-in could not be completed. Try again.")
        )
    if confirming and current_user.is_authenticated:
        if current_user.oidc_subject != identity.subject:
            return _refused(SsoRefusal.SUBJECT_MISMATCH.value, SsoRefusal.SUBJECT_MISMATCH.message)
        if not _just_authenticated(claims):  # a provider that ignored prompt=login confirms nothing
            return _refused(
                "stale_authentication",
                _("The departmental sign-in did not ask for your password again. Try again."),
            )
        sessions.note_factor_proved()
        return redirect(next_url)
    try:
        user = staff_for(identity, role_claim=current_app.config["OIDC_ROLE_CLAIM"])
    except SignOnRefused as refused:
        db.session.rollback()
        return _refused(refused.reason.value, refused.reason.message, domain=identity.email_domain)
    sessions.start_session(user, SignInMethod.SINGLE_SIGN_ON, id_token=token["id_token"])
    return redirect(next_url)


def _just_authenticated(claims: dict) -> bool:
    """The provider says when the person last proved who they are (auth_time): for a confirmation, just now."""
    auth_time = claims.get("auth_time")
    if not isinstance(auth_time, int) or isinstance(auth_time, bool):
        return False
    return abs(time.time() - auth_time) <= CONFIRMATION_SECONDS


def _expected_claims(client) -> dict:
    """Authlib checks the audience only through azp (a token for another client that names us in azp passes),
    so the issuer and audience are required here; options given replace Authlib's own issuer check."""
    return {
        "iss": {"essential": True, "value": client.load_server_metadata()["issuer"]},
        "aud": {"essential": True, "value": current_app.config["OIDC_CLIENT_ID"]},
    }


def _refused(reason: str, message: str, domain: str = "") -> ResponseReturnValue:
    """A clear page, and the audit log says why (with the email's domain only: an unknown person's address is
    not kept)."""
    actor = f"{ACTOR} @{domain}" if domain else ACTOR
    record_event_now("sign_in.sso_refused", actor=actor, after={"reason": reason})
    return render_template("auth/sso_refused.html", message=message), 403


def provider_sign_out_url(id_token: str) -> str | None:
    """Where to send the browser so that the provider's session ends too (RP-initiated logout), when it
    offers that; None otherwise."""
    client = _client()
    if client is None:
        return None
    try:
        return client.create_logout_url(
            post_logout_redirect_uri=url_for("auth.sign_in_page", _external=True),
            id_token_hint=id_token,
            client_id=current_app.config["OIDC_CLIENT_ID"],
        )["url"]
    except FLOW_ERRORS:
        return None
