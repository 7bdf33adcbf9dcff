"""What the signed-in session remembers, and the rules on it: when it started (absolute lifetime), how the
person signed in, when they last proved a factor (step-up for sensitive actions), a password sign-in waiting for
its second factor, and whether the person must enrol a second factor before going anywhere else."""

from datetime import datetime, timedelta
from functools import wraps
from typing import Any

from flask import current_app, redirect, request, session, url_for
from flask_login import current_user, login_user

from backoffice.extensions import db
from backoffice.models import SignInMethod, StaffUser
from backoffice.models.types import utcnow
from backoffice.workflows.accounts import complete_sign_in

LAST_SEEN = "last_seen"
SIGNED_IN_AT = "signed_in_at"
FACTOR_AT = "factor_at"
METHOD = "sign_in_method"
PENDING = "pending_sign_in"
ID_TOKEN = "oidc_id_token"  # noqa: S105 (a session key) — kept for the provider's sign-out (RP-initiated logout)
PENDING_MINUTES = 5  # a password accepted this long ago no longer waits for its second factor


def start_session(user: StaffUser, method: SignInMethod, *, id_token: str | None = None) -> None:
    """Sign the person in: record how (audit log, staff list), then open their session."""
    complete_sign_in(user, method)
    open_session(user, method, id_token=id_token)


def open_session(user: StaffUser, method: SignInMethod, *, id_token: str | None = None) -> None:
    """A fresh session for a sign-in already recorded (a password alone: workflows.accounts.sign_in records it);
    the old cookie's content, a pending sign-in included, is dropped: no fixation."""
    session.clear()
    login_user(user)
    now = utcnow().isoformat()
    session.update({LAST_SEEN: now, SIGNED_IN_AT: now, FACTOR_AT: now, METHOD: method.value})
    if id_token:
        session[ID_TOKEN] = id_token


def signed_in_by() -> SignInMethod | None:
    value = session.get(METHOD)
    return SignInMethod(value) if value in SignInMethod._value2member_map_ else None


def begin_second_factor(user: StaffUser, next_url: str) -> None:
    """The password is right: remember who is waiting for their second factor, not signed in yet."""
    session.clear()
    session[PENDING] = {
        "user": user.id,
        "token": user.session_token,
        "at": utcnow().isoformat(),
        "next": next_url,
    }


def pending_user() -> StaffUser | None:
    """The person whose password was accepted in the last few minutes, unless their sessions ended since."""
    pending = session.get(PENDING)
    if not isinstance(pending, dict):
        return None
    started = _instant(pending.get("at"))
    if started is None or utcnow() - started > timedelta(minutes=PENDING_MINUTES):
        return None
    user = db.session.get(StaffUser, pending.get("user")) if isinstance(pending.get("user"), int) else None
    if user is None or not user.is_active_account or user.session_token != pending.get("token"):
        return None
    return user


def pending_next() -> str:
    pending = session.get(PENDING)
    return pending.get("next", "") if isinstance(pending, dict) else ""


def note_factor_proved() -> None:
    """The signed-in person proved a factor again (step-up): sensitive actions are open for a while."""
    session[FACTOR_AT] = utcnow().isoformat()


def factor_is_recent() -> bool:
    proved = _instant(session.get(FACTOR_AT))
    limit = timedelta(minutes=current_app.config["STEP_UP_MINUTES"])
    return proved is not None and utcnow() - proved <= limit


def session_too_old() -> bool:
    started = _instant(session.get(SIGNED_IN_AT))
    return started is None or utcnow() - started > timedelta(hours=current_app.config["SESSION_MAX_HOURS"])


def needs_enrolment(user: StaffUser) -> bool:
    """A password sign-in without a second factor, where one is required (or after an administrator's reset),
    leads to the enrolment page and nowhere else. Single sign-on is the provider's to secure."""
    if signed_in_by() is SignInMethod.SINGLE_SIGN_ON:
        return False
    if user.must_enrol:
        return True
    return current_app.config["REQUIRE_MFA"] and not user.has_second_factor


def requires_recent_factor(view):
    """For sensitive actions: a person whose last factor is older than STEP_UP_MINUTES proves one again first,
    then comes back to where they were going."""

    @wraps(view)
    def guarded(*args: Any, **kwargs: Any):
        if current_user.is_authenticated and not factor_is_recent():
            return ask_for_step_up()
        return view(*args, **kwargs)

    return guarded


def ask_for_step_up():
    target = request.full_path if request.method == "GET" else (request.referrer or "")
    return redirect(url_for("auth.confirm_identity", next=target))


def _instant(value: Any) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None
