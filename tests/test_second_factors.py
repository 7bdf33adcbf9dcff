"""Second factors of password sign-ins: the authenticator app (TOTP), recovery codes, the enrolment that
REQUIRE_MFA imposes on every route, an administrator's reset, the confirmation before sensitive actions, and
the session's absolute lifetime."""

import re
import time
from datetime import timedelta

import pyotp
import pytest
from sqlalchemy import func, select

from backoffice.auth.sessions import FACTOR_AT, SIGNED_IN_AT
from backoffice.extensions import db
from backoffice.models import AuditEvent, RecoveryCode, SignInMethod, StaffUser
from backoffice.models.types import utcnow
from backoffice.workflows import factors
from backoffice.workflows.accounts import SecondFactor, SignInOutcome, check_second_factor
from tests.factories import PASSWORD, create_staff
from tests.helpers import (
    csrf_token_from,
    post_form,
    race,
    rules_to_walk,
    sign_in,
    switch_to_french,
    url_with_sample_id,
)

ENROLMENT_PAGE = "/account/security"


def person(app, role: str, email: str):
    """A test client signed in (with the password alone) as a new staff user with this email."""
    user = create_staff(role, email=email)
    client = app.test_client()
    assert sign_in(client, email, PASSWORD).location == "/admin/"
    client.user = user
    return client


def enrol_app(client) -> pyotp.TOTP:
    """Set up an authenticator app through the pages, as a person would; returns the app."""
    page = client.get("/account/authenticator-app").get_data(as_text=True)
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    totp = pyotp.TOTP(secret)
    response = post_form(client, "/account/authenticator-app", "/account/authenticator-app", code=totp.now())
    assert response.status_code == 200, response.get_data(as_text=True)
    return totp


def recovery_codes_on(page: str) -> list[str]:
    return re.findall(r"<li><code>([A-Z0-9-]+)</code></li>", page)


def signed_in(client) -> bool:
    return client.get("/admin/").status_code == 200


def last_method(user: StaffUser) -> str:
    event = db.session.scalars(
        select(AuditEvent)
        .where(AuditEvent.action == "sign_in.succeeded", AuditEvent.actor_id == user.id)
        .order_by(AuditEvent.id.desc())
    ).first()
    return event.after["method"]


def code_of_another_step(totp: pyotp.TOTP, steps: int) -> str:
    return totp.at(time.time() + steps * factors.TOTP_STEP_SECONDS)


# Enrolment -------------------------------------------------------------------------------------------------------


def test_the_app_is_set_up_from_a_qr_code_drawn_in_the_page_and_gives_ten_recovery_codes_kept_hashed(
    app, login_as
):
    client = login_as("clerk")
    page = client.get("/account/authenticator-app").get_data(as_text=True)
    assert "<svg" in page and 'data-testid="totp-qr"' in page
    assert not re.search(r"<img[^>]+src=\"https?:", page)  # no image from outside
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    wrong = post_form(client, "/account/authenticator-app", "/account/authenticator-app", code="000000")
    assert "This code is not correct" in wrong.get_data(as_text=True)
    user = db.session.get(StaffUser, client.user.id)
    assert not user.has_totp and secret not in (user.totp_secret or "")  # kept encrypted, unusable yet

    shown = post_form(
        client, "/account/authenticator-app", "/account/authenticator-app", code=pyotp.TOTP(secret).now()
    )
    codes = recovery_codes_on(shown.get_data(as_text=True))
    assert len(codes) == 10 and len(set(codes)) == 10
    db.session.expire_all()
    user = db.session.get(StaffUser, client.user.id)
    assert user.has_totp and user.recovery_codes_left == 10
    stored = db.session.scalars(
        select(RecoveryCode.code_hash).where(RecoveryCode.staff_user_id == user.id)
    ).all()
    assert not {code.replace("-", "") for code in codes} & set(stored)
    actions = db.session.scalars(select(AuditEvent.action).where(AuditEvent.record_id == str(user.id))).all()
    assert {"staff_users.totp_added", "staff_users.recovery_codes_made"} <= set(actions)
    security = client.get(ENROLMENT_PAGE).get_data(as_text=True)
    assert "10 recovery codes left." in security and "Set up on" in security


# Signing in with the app ---------------------------------------------------------------------------------------


def test_a_password_sign_in_waits_for_the_apps_code_and_records_how(app, login_as):
    totp = enrol_app(person(app, "clerk", email="two.steps@staff.example"))
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == "two.steps@staff.example"))
    client = app.test_client()
    response = sign_in(client, user.email, PASSWORD)
    assert response.location == "/sign-in/second-factor"
    assert not signed_in(client)  # the password alone opens nothing
    client.get("/sign-in/second-factor")
    wrong = post_form(client, "/sign-in/second-factor", "/sign-in/second-factor", kind="totp", code="123456")
    assert "This code is not correct" in wrong.get_data(as_text=True)
    done = post_form(
        client,
        "/sign-in/second-factor",
        "/sign-in/second-factor",
        kind="totp",
        code=code_of_another_step(totp, 1),
    )
    assert done.status_code == 302 and done.location == "/admin/"
    assert signed_in(client)
    assert last_method(user) == SignInMethod.PASSWORD_TOTP.value
    db.session.expire_all()
    assert db.session.get(StaffUser, user.id).last_sign_in_method is SignInMethod.PASSWORD_TOTP


def test_a_code_is_accepted_once_and_only_one_step_either_side(app, login_as):
    client = login_as("clerk")
    totp = enrol_app(client)
    user = db.session.get(StaffUser, client.user.id)
    # The enrolment used the current step: its code, and any older one, never works again.
    assert check_second_factor(user, SecondFactor.TOTP, totp.now()) is SignInOutcome.BAD_CREDENTIALS
    assert (
        check_second_factor(user, SecondFactor.TOTP, code_of_another_step(totp, -1))
        is not SignInOutcome.SIGNED_IN
    )
    assert (
        check_second_factor(user, SecondFactor.TOTP, code_of_another_step(totp, 2))
        is not SignInOutcome.SIGNED_IN
    )
    assert (
        check_second_factor(user, SecondFactor.TOTP, code_of_another_step(totp, 1)) is SignInOutcome.SIGNED_IN
    )
    assert (
        check_second_factor(user, SecondFactor.TOTP, code_of_another_step(totp, 1))
        is not SignInOutcome.SIGNED_IN
    )


def test_the_same_code_sent_twice_at_once_is_accepted_once(app, login_as):
    client = login_as("clerk")
    totp = enrol_app(client)
    user_id = client.user.id
    code = code_of_another_step(totp, 1)

    def attempt():
        return check_second_factor(db.session.get(StaffUser, user_id), SecondFactor.TOTP, code)

    outcomes = race(app, [attempt] * 4)
    assert outcomes.count(SignInOutcome.SIGNED_IN) == 1


def test_recovery_codes_work_once_each_and_say_how_many_are_left(app, login_as):
    client = person(app, "clerk", email="lost.phone@staff.example")
    client.get("/account/authenticator-app")
    page = client.get("/account/authenticator-app").get_data(as_text=True)
    secret = re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page).group(1).replace(" ", "")
    shown = post_form(
        client, "/account/authenticator-app", "/account/authenticator-app", code=pyotp.TOTP(secret).now()
    )
    code = recovery_codes_on(shown.get_data(as_text=True))[3]

    other = app.test_client()
    sign_in(other, "lost.phone@staff.example", PASSWORD)
    done = post_form(
        other, "/sign-in/second-factor", "/sign-in/second-factor", kind="recovery_code", code=code.lower()
    )
    assert done.location == "/admin/"
    assert "9 are left" in other.get("/admin/").get_data(as_text=True)
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == "lost.phone@staff.example"))
    assert last_method(user) == SignInMethod.PASSWORD_RECOVERY_CODE.value

    again = app.test_client()
    sign_in(again, user.email, PASSWORD)
    refused = post_form(
        again, "/sign-in/second-factor", "/sign-in/second-factor", kind="recovery_code", code=code
    )
    assert "already used" in refused.get_data(as_text=True) and not signed_in(again)


def test_new_recovery_codes_replace_the_old_ones(app, login_as):
    client = login_as("clerk")
    enrol_app(client)
    user = db.session.get(StaffUser, client.user.id)
    first = factors.replace_recovery_codes(user, actor=user)
    db.session.commit()
    page = post_form(client, "/account/recovery-codes", ENROLMENT_PAGE).get_data(as_text=True)
    second = recovery_codes_on(page)
    assert len(second) == 10
    assert check_second_factor(user, SecondFactor.RECOVERY_CODE, first[0]) is SignInOutcome.BAD_CREDENTIALS
    assert check_second_factor(user, SecondFactor.RECOVERY_CODE, second[0]) is SignInOutcome.SIGNED_IN


def test_second_factor_failures_count_towards_the_lockout_and_the_password_does_not_reset_them(app, login_as):
    enrol_app(person(app, "clerk", email="guessed@staff.example"))
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == "guessed@staff.example"))
    attacker = app.test_client()
    limit = app.config["SIGN_IN_MAX_FAILURES"]
    for _ in range(limit):  # the password is known; each round tries one code
        if sign_in(attacker, user.email, PASSWORD).location != "/sign-in/second-factor":
            break
        post_form(attacker, "/sign-in/second-factor", "/sign-in/second-factor", kind="totp", code="000000")
    db.session.expire_all()
    locked = db.session.get(StaffUser, user.id)
    assert locked.locked_until is not None
    assert sign_in(attacker, user.email, PASSWORD).location != "/sign-in/second-factor"
    assert (
        db.session.scalar(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "sign_in.second_factor_failed")
        )
        >= 1
    )


def test_the_second_step_expires_and_ends_with_the_persons_sessions(app, login_as):
    enrol_app(person(app, "clerk", email="slow@staff.example"))
    client = app.test_client()
    sign_in(client, "slow@staff.example", PASSWORD)
    with client.session_transaction() as session:
        session["pending_sign_in"] = {
            **session["pending_sign_in"],
            "at": (utcnow() - timedelta(minutes=6)).isoformat(),
        }
    response = client.get("/sign-in/second-factor")
    assert response.status_code == 302 and response.location == "/sign-in"


def test_the_second_step_is_in_french_too(app, login_as):
    enrol_app(person(app, "clerk", email="bilingue@staff.example"))
    client = app.test_client()
    switch_to_french(client, "/sign-in")
    sign_in(client, "bilingue@staff.example", PASSWORD)
    page = client.get("/sign-in/second-factor").get_data(as_text=True)
    assert "Deuxième étape de la connexion" in page and "Second step" not in page


# REQUIRE_MFA ---------------------------------------------------------------------------------------------------

# Confirming one's password stays open: adding a passkey asks for it when the sign-in is older than the step-up.
ENROLMENT_ENDPOINTS_OPEN = {
    "auth.security",
    "auth.totp_setup",
    "auth.confirm_identity",
    "auth.sign_out",
    "auth.choose_language",
}


def test_with_mfa_required_a_password_only_sign_in_reaches_the_enrolment_page_and_nowhere_else(app, records):
    app.config["REQUIRE_MFA"] = True
    clients, ids = records
    client = clients["admin"]  # the widest access: every staff screen would otherwise open
    token = csrf_token_from(client.get(ENROLMENT_PAGE).get_data(as_text=True))
    escaped = []
    for rule in rules_to_walk(app):
        if rule.endpoint in ENROLMENT_ENDPOINTS_OPEN or rule.endpoint.startswith(
            ("api.", "health.", "passkeys.")
        ):
            continue
        if rule.endpoint in {"static", "admin.static", "metrics"} or rule.endpoint.endswith(".static"):
            continue
        url = url_with_sample_id(rule, ids)
        for method in sorted(rule.methods & {"GET", "POST"}):
            response = client.open(
                url, method=method, data={"csrf_token": token} if method == "POST" else None
            )
            if not (response.status_code == 302 and response.location == ENROLMENT_PAGE):
                escaped.append(f"{method} {url}: {response.status_code}")
    assert not escaped, "\n".join(escaped)
    assert "Set up a second factor to go on" in client.get(ENROLMENT_PAGE).get_data(as_text=True)
    enrol_app(client)
    assert client.get("/admin/staff/").status_code == 200


def test_a_json_caller_who_must_enrol_is_answered_403_in_json(app, login_as):
    app.config["REQUIRE_MFA"] = True
    client = login_as("clerk")
    response = client.get("/admin/case/", headers={"Accept": "application/json"})
    assert response.status_code == 403 and response.json == {"error": "second_factor_required"}


def test_the_last_factor_cannot_be_removed_where_one_is_required(app, login_as):
    client = login_as("clerk")
    enrol_app(client)
    app.config["REQUIRE_MFA"] = True
    refused = post_form(client, "/account/authenticator-app/remove", ENROLMENT_PAGE)
    assert refused.status_code == 302
    assert "add another one before removing" in client.get(ENROLMENT_PAGE).get_data(as_text=True)
    app.config["REQUIRE_MFA"] = False
    post_form(client, "/account/authenticator-app/remove", ENROLMENT_PAGE)
    db.session.expire_all()
    assert not db.session.get(StaffUser, client.user.id).has_totp


# An administrator's reset --------------------------------------------------------------------------------------


def test_an_administrator_resets_a_persons_factors_who_must_then_enrol_again(app, login_as):
    someone = person(app, "clerk", email="reset.me@staff.example")
    enrol_app(someone)
    admin = login_as("admin")
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == "reset.me@staff.example"))
    details = admin.get(f"/admin/staff/details/?id={user.id}").get_data(as_text=True)
    assert "Reset second factors" in details
    response = post_form(
        admin, "/admin/staff/reset-factors/", f"/admin/staff/details/?id={user.id}", id=str(user.id)
    )
    assert response.status_code == 302
    db.session.expire_all()
    user = db.session.get(StaffUser, user.id)
    assert not user.has_second_factor and user.recovery_codes_left == 0 and user.must_enrol
    assert not signed_in(someone)  # their sessions ended
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "staff_users.factors_reset"))
    assert event.actor_id == admin.user.id and event.before["authenticator_app"] is True

    again = app.test_client()
    assert sign_in(again, user.email, PASSWORD).location == "/admin/"  # no factor left to ask for
    assert again.get("/admin/case/").location == ENROLMENT_PAGE  # even with REQUIRE_MFA off
    enrol_app(again)
    db.session.expire_all()
    assert not db.session.get(StaffUser, user.id).must_enrol
    assert again.get("/admin/case/").status_code == 200


def test_the_staff_list_shows_each_persons_factors_and_how_they_last_signed_in(app, login_as):
    enrol_app(person(app, "clerk", email="listed@staff.example"))
    admin = login_as("admin")
    page = admin.get("/admin/staff/?search=listed").get_data(as_text=True)
    assert "Authenticator app, 10 recovery codes" in page
    assert "Password only" in page  # the enrolment session signed in before the app was set up


# Confirmation before sensitive actions (step-up) -------------------------------------------------------------

SENSITIVE_PAGES = [
    "/admin/staff/new/",
    "/admin/reason/new/",
    "/admin/servicetarget/edit/?id=1",
    "/admin/ssogroup/new/",
]


def make_factor_old(client, minutes: int = 16) -> None:
    with client.session_transaction() as session:
        session[FACTOR_AT] = (utcnow() - timedelta(minutes=minutes)).isoformat()


@pytest.mark.parametrize("url", SENSITIVE_PAGES)
def test_a_sensitive_page_asks_for_a_factor_again_after_fifteen_minutes(app, login_as, url):
    admin = login_as("admin")
    totp = enrol_app(admin)
    make_factor_old(admin, minutes=14)
    assert admin.get(url).status_code == 200
    make_factor_old(admin)
    asked = admin.get(url)
    assert asked.status_code == 302 and asked.location.startswith("/account/confirm?next=")
    page = admin.get(asked.location).get_data(as_text=True)
    assert "Confirm it is you" in page
    confirmed = post_form(
        admin, "/account/confirm", asked.location, kind="totp", code=code_of_another_step(totp, 1), next=url
    )
    assert confirmed.status_code == 302 and confirmed.location == url
    assert admin.get(url).status_code == 200


def test_a_person_without_a_second_factor_confirms_with_the_password(app, login_as):
    admin = login_as("admin")
    make_factor_old(admin)
    asked = admin.get("/admin/staff/new/")
    assert asked.location.startswith("/account/confirm")
    assert "Give your password again" in admin.get(asked.location).get_data(as_text=True)
    wrong = post_form(admin, "/account/confirm", asked.location, password="not it", next="/admin/staff/new/")
    assert wrong.location.startswith("/account/confirm")
    right = post_form(admin, "/account/confirm", asked.location, password=PASSWORD, next="/admin/staff/new/")
    assert right.location == "/admin/staff/new/"


def test_correcting_a_received_time_and_revoking_a_portal_client_ask_for_confirmation(app, login_as):
    supervisor = login_as("supervisor")
    make_factor_old(supervisor)
    token = csrf_token_from(supervisor.get("/admin/").get_data(as_text=True))
    response = supervisor.post(
        "/admin/submission/correct-received-time/", data={"csrf_token": token, "id": "1"}
    )
    assert response.status_code == 302 and response.location.startswith("/account/confirm")
    admin = login_as("admin")
    make_factor_old(admin)
    token = csrf_token_from(admin.get("/admin/").get_data(as_text=True))
    response = admin.post("/admin/portalclient/revoke/", data={"csrf_token": token, "id": "1"})
    assert response.status_code == 302 and response.location.startswith("/account/confirm")


# The session's absolute lifetime ---------------------------------------------------------------------------


def test_a_session_ends_after_its_absolute_lifetime_however_active(app, login_as):
    client = login_as("clerk")
    with client.session_transaction() as session:
        session[SIGNED_IN_AT] = (utcnow() - timedelta(hours=11, minutes=59)).isoformat()
    assert signed_in(client)
    with client.session_transaction() as session:
        session[SIGNED_IN_AT] = (utcnow() - timedelta(hours=12, minutes=1)).isoformat()
    response = client.get("/admin/case/")
    assert response.status_code == 302 and response.location.startswith("/sign-in")
    assert "a session lasts 12 hours" in client.get("/sign-in").get_data(as_text=True)
