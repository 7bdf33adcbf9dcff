"""Staff sign-in (password, second factor, passkey, single sign-on), sign-out, the session's limits (idle,
absolute, enrolment of a second factor) and the choice of language. The routes of second factors are in
auth/factors.py, those of single sign-on in auth/single_sign_on.py, both on this blueprint."""

import hmac
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

from flask import (
    Blueprint,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask.typing import ResponseReturnValue
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, logout_user
from flask_wtf import FlaskForm
from wtforms import EmailField, HiddenField, PasswordField, SelectField
from wtforms.validators import DataRequired, Length

from backoffice.auth import sessions
from backoffice.auth.sessions import LAST_SEEN
from backoffice.extensions import db, login_manager
from backoffice.i18n import LANGUAGE_COOKIE
from backoffice.models import SignInMethod, StaffUser
from backoffice.models.types import utcnow
from backoffice.workflows.accounts import SignInOutcome, end_sessions, sign_in
from backoffice.workflows.audit import record_event_now

bp = Blueprint("auth", __name__)

LANGUAGE_CHOICES = [("en", "English"), ("fr", "Français")]


class SignInForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1000)])
    next = HiddenField()


class LanguageForm(FlaskForm):
    language = SelectField(_l("Language"), choices=LANGUAGE_CHOICES)
    next = HiddenField()


@login_manager.user_loader
def load_staff_user(session_id: str) -> StaffUser | None:
    """The cookie holds the user's id and session token; a replaced token ends the session."""
    user_id, _, token = session_id.partition(":")
    user = db.session.get(StaffUser, int(user_id)) if user_id.isdigit() else None
    if user is None or not user.is_active_account or not token:
        return None
    return user if hmac.compare_digest(user.session_token, token) else None


@login_manager.unauthorized_handler
def ask_to_sign_in() -> ResponseReturnValue:
    if request.blueprint == "api" or request.accept_mimetypes.best == "application/json":
        return {"error": "sign_in_required"}, 401
    return redirect(url_for("auth.sign_in_page", next=request.full_path))


@bp.before_app_request
def end_idle_sessions() -> ResponseReturnValue | None:
    if not current_user.is_authenticated:
        return None
    timeout = current_app.permanent_session_lifetime
    last_seen = session.get(LAST_SEEN)
    now = utcnow()
    if last_seen is not None and now - datetime.fromisoformat(last_seen) > timeout:
        return _end_session(_("You were signed out after a period without activity."))
    if sessions.session_too_old():
        return _end_session(
            _(
                "You were signed out: a session lasts %(hours)d hours.",
                hours=current_app.config["SESSION_MAX_HOURS"],
            )
        )
    session.permanent = True
    session[LAST_SEEN] = now.isoformat()
    return None


# What a person who must enrol a second factor may still open.
ENROLMENT_ENDPOINTS = {
    "auth.security",
    "auth.totp_setup",
    "auth.confirm_identity",
    "auth.sign_out",
    "auth.choose_language",
    "passkeys.registration_options",
    "passkeys.register",
    "static",
    "health.alive",
    "health.ready",
}


@bp.before_app_request
def lead_to_enrolment() -> ResponseReturnValue | None:
    if not current_user.is_authenticated or request.endpoint in ENROLMENT_ENDPOINTS:
        return None
    if request.endpoint and request.endpoint.endswith(".static"):
        return None
    if not sessions.needs_enrolment(current_user):
        return None
    if request.blueprint == "api" or request.accept_mimetypes.best == "application/json":
        return {"error": "second_factor_required"}, 403
    return redirect(url_for("auth.security"))


def _end_session(message: str) -> ResponseReturnValue:
    logout_user()
    session.clear()
    flash(message, "warning")
    return redirect(url_for("auth.sign_in_page", next=request.full_path))


def _safe_next(target: str | None) -> str:
    """Only follow a path on this site after sign-in, never another host. Browsers and Werkzeug
    drop control characters and read backslashes as slashes, so any of those refuses the target."""
    home = url_for("admin.index")
    if not target or any(ord(char) < 0x20 or char in "\x7f\\" for char in target):
        return home
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or parts.path.startswith("//"):
        return home
    return urlunsplit(("", "", parts.path, parts.query, ""))


@bp.route("/sign-in", methods=["GET", "POST"])
def sign_in_page() -> ResponseReturnValue:
    if current_user.is_authenticated:
        return redirect(url_for("admin.index"))
    form = SignInForm(next=request.args.get("next", ""))
    if not current_app.config["ALLOW_PASSWORD_SIGN_IN"] and request.method == "POST":
        flash(_("Sign in with your departmental account."), "danger")
    elif form.validate_on_submit():
        result = sign_in(form.email.data, form.password.data)
        if result.outcome is SignInOutcome.SIGNED_IN:
            sessions.open_session(result.user, SignInMethod.PASSWORD)
            return redirect(_safe_next(form.next.data))
        if result.outcome is SignInOutcome.SECOND_FACTOR_NEEDED:
            sessions.begin_second_factor(result.user, _safe_next(form.next.data))
            return redirect(url_for("auth.second_factor"))
        flash(wrong_credentials_message(), "danger")
    return render_template(
        "auth/sign_in.html",
        form=form,
        language_form=_language_form(),
        password_allowed=current_app.config["ALLOW_PASSWORD_SIGN_IN"],
        single_sign_on=bool(current_app.config["OIDC_ISSUER"]),
    )


def wrong_credentials_message() -> str:
    """One answer for every failure, so that it never tells whether an account exists."""
    return _(
        "The email or password is not correct, or the account is locked after "
        "%(count)d failed attempts. Try again later or ask an administrator.",
        count=current_app.config["SIGN_IN_MAX_FAILURES"],
    )


@bp.post("/sign-out")
@login_required
def sign_out() -> ResponseReturnValue:
    user = current_user._get_current_object()
    id_token = session.get(sessions.ID_TOKEN)
    end_sessions(user)
    record_event_now("sign_out", actor=user, record=user)
    logout_user()
    session.clear()
    flash(_("You are signed out."), "info")
    if id_token:
        from backoffice.auth.single_sign_on import provider_sign_out_url

        provider_url = provider_sign_out_url(id_token)
        if provider_url:
            return redirect(provider_url)
    return redirect(url_for("auth.sign_in_page"))


@bp.post("/language")
def choose_language() -> ResponseReturnValue:
    form = LanguageForm()
    if not form.validate_on_submit():
        flash(_("This language is not offered."), "danger")
        return redirect(url_for("auth.sign_in_page"))
    language = form.language.data
    session[LANGUAGE_COOKIE] = language
    if current_user.is_authenticated:
        current_user.preferred_language = language
        db.session.commit()
    response = redirect(_safe_next(form.next.data))
    response.set_cookie(LANGUAGE_COOKIE, language, max_age=365 * 24 * 3600, samesite="Lax", httponly=True)
    return response


def _language_form() -> LanguageForm:
    return LanguageForm(next=request.full_path)


@bp.app_context_processor
def language_switch() -> dict:
    return {"current_path": request.full_path, "get_locale": get_locale}
