"""Second factors on the web: the second step of a password sign-in, the confirmation asked before sensitive
actions (step-up), and the person's own page of sign-in and security (authenticator app, passkeys, recovery
codes). Passkey ceremonies are answered by auth/passkeys.py."""

from flask import flash, redirect, render_template, request, session, url_for
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import login_required, logout_user
from flask_wtf import FlaskForm
from wtforms import HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, Length

from backoffice.admin.base import reader, render_staff_page, run_action
from backoffice.auth import _safe_next, bp, sessions, wrong_credentials_message
from backoffice.edge import record_id
from backoffice.extensions import db
from backoffice.models import SignInMethod
from backoffice.workflows import factors
from backoffice.workflows.accounts import (
    SECOND_FACTOR_METHODS,
    SecondFactor,
    SignInOutcome,
    attempt_factor,
    check_password,
    check_second_factor,
)


class SecondFactorForm(FlaskForm):
    kind = SelectField(
        choices=[
            (SecondFactor.TOTP.value, _l("Authenticator app")),
            (SecondFactor.RECOVERY_CODE.value, _l("Recovery code")),
        ],
        default=SecondFactor.TOTP.value,
    )
    code = StringField(_l("Code"), validators=[DataRequired(), Length(max=40)])
    next = HiddenField()


class PasswordConfirmForm(FlaskForm):
    password = PasswordField(_l("Password"), validators=[DataRequired(), Length(max=1000)])
    next = HiddenField()


class TotpConfirmForm(FlaskForm):
    code = StringField(_l("The 6-digit code the app shows"), validators=[DataRequired(), Length(max=20)])


class EmptyForm(FlaskForm):
    """A POST with nothing but its CSRF token (remove, make new codes)."""


# The second step of a password sign-in ---------------------------------------------------------------------------


@bp.route("/sign-in/second-factor", methods=["GET", "POST"])
def second_factor() -> ResponseReturnValue:
    user = sessions.pending_user()
    if user is None:
        session.pop(sessions.PENDING, None)
        flash(_("Sign in again: the time to give your second factor is over."), "warning")
        return redirect(url_for("auth.sign_in_page"))
    form = SecondFactorForm()
    if form.validate_on_submit():
        kind = SecondFactor(form.kind.data)
        outcome = check_second_factor(user, kind, form.code.data)
        if outcome is SignInOutcome.SIGNED_IN:
            next_url = sessions.pending_next()
            sessions.start_session(user, SECOND_FACTOR_METHODS[kind])
            if kind is SecondFactor.RECOVERY_CODE:
                flash(
                    _(
                        "You signed in with a recovery code; %(count)d are left. Set up your app again or make new codes.",
                        count=user.recovery_codes_left,
                    ),
                    "warning",
                )
            return redirect(_safe_next(next_url))
        if outcome is SignInOutcome.LOCKED:
            session.pop(sessions.PENDING, None)
            flash(wrong_credentials_message(), "danger")
            return redirect(url_for("auth.sign_in_page"))
        flash(_("This code is not correct, or it was already used."), "danger")
    return render_template("auth/second_factor.html", form=form, user=user, purpose="sign_in")


# Confirming who one is before a sensitive action (step-up) -----------------------------------------------------


@bp.route("/account/confirm", methods=["GET", "POST"])
@login_required
def confirm_identity() -> ResponseReturnValue:
    user = reader()
    next_url = _safe_next(request.values.get("next"))
    if sessions.signed_in_by() is SignInMethod.SINGLE_SIGN_ON:
        return redirect(url_for("auth.single_sign_on", confirm=1, next=next_url))
    if user.has_second_factor:
        form = SecondFactorForm(next=next_url)
        if form.validate_on_submit():
            kind = SecondFactor(form.kind.data)
            return _confirmed(check_second_factor(user, kind, form.code.data), next_url)
        template = "auth/second_factor.html"
    else:
        form = PasswordConfirmForm(next=next_url)
        if form.validate_on_submit():
            outcome = attempt_factor(user, "wrong_password", lambda: check_password(user, form.password.data))
            return _confirmed(outcome, next_url)
        template = "auth/confirm_password.html"
    return render_template(template, form=form, user=user, purpose="confirm", next_url=next_url)


def _confirmed(outcome: SignInOutcome, next_url: str) -> ResponseReturnValue:
    if outcome is SignInOutcome.SIGNED_IN:
        sessions.note_factor_proved()
        return redirect(next_url)
    if outcome is SignInOutcome.LOCKED:
        return _locked_out()
    flash(_("This is not correct. Try again."), "danger")
    return redirect(url_for("auth.confirm_identity", next=next_url))


def _locked_out() -> ResponseReturnValue:
    logout_user()
    session.clear()
    flash(wrong_credentials_message(), "danger")
    return redirect(url_for("auth.sign_in_page"))


# The person's own sign-in and security ------------------------------------------------------------------------


@bp.get("/account/security")
@login_required
def security() -> ResponseReturnValue:
    user = reader()
    return render_staff_page(
        "auth/security.html",
        user=user,
        form=EmptyForm(),
        must_enrol=sessions.needs_enrolment(user),
        single_sign_on=sessions.signed_in_by() is SignInMethod.SINGLE_SIGN_ON,
    )


@bp.route("/account/authenticator-app", methods=["GET", "POST"])
@login_required
def totp_setup() -> ResponseReturnValue:
    user = reader()
    if user.has_totp:
        flash(_("An authenticator app is already set up."), "info")
        return redirect(url_for("auth.security"))
    form = TotpConfirmForm()
    if form.validate_on_submit():
        done = run_action(lambda: factors.confirm_totp(user, form.code.data, actor=user))
        if done.ok:
            sessions.note_factor_proved()
            flash(_("Your authenticator app is set up. It will be asked for at each sign-in."), "success")
            if done.value:
                return render_staff_page("auth/recovery_codes.html", codes=done.value)
            return redirect(url_for("auth.security"))
    secret = factors.pending_totp_secret(user)  # the same code on a reload, until the app is confirmed
    if secret is None:
        secret = factors.start_totp_enrolment(user)
        db.session.commit()
    uri = factors.provisioning_uri(user, secret)
    return render_staff_page(
        "auth/totp_setup.html",
        form=form,
        qr_code=factors.qr_code_svg(uri),
        secret=factors.grouped(secret),
    )


@bp.post("/account/authenticator-app/remove")
@login_required
@sessions.requires_recent_factor
def totp_remove() -> ResponseReturnValue:
    user = reader()
    if EmptyForm().validate_on_submit():
        run_action(lambda: factors.remove_totp(user, actor=user), _("The authenticator app was removed."))
    return redirect(url_for("auth.security"))


@bp.post("/account/recovery-codes")
@login_required
@sessions.requires_recent_factor
def recovery_codes() -> ResponseReturnValue:
    user = reader()
    if not user.has_second_factor:
        flash(_("Set up an authenticator app or a passkey first."), "danger")
        return redirect(url_for("auth.security"))
    done = (
        run_action(lambda: factors.replace_recovery_codes(user, actor=user))
        if EmptyForm().validate_on_submit()
        else None
    )
    if done is None or not done.ok:
        return redirect(url_for("auth.security"))
    return render_staff_page("auth/recovery_codes.html", codes=done.value)


@bp.post("/account/passkeys/remove")
@login_required
@sessions.requires_recent_factor
def passkey_remove() -> ResponseReturnValue:
    user = reader()
    passkey_id = request.form.get("passkey_id", type=record_id)
    if EmptyForm().validate_on_submit() and passkey_id is not None:
        run_action(
            lambda: factors.remove_passkey(user, passkey_id, actor=user), _("The passkey was removed.")
        )
    return redirect(url_for("auth.security"))
