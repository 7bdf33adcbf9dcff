import re
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from urllib.parse import urlsplit

import pytest
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.models import AuditEvent, StaffUser
from backoffice.models.types import utcnow
from backoffice.workflows.accounts import init_password_hashing
from config import Config, ProductionConfig
from tests.factories import PASSWORD, create_staff
from tests.helpers import csrf_token_from, sign_in


def audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_pages_ask_anonymous_visitors_to_sign_in(client):
    response = client.get("/admin/case/")
    assert response.status_code == 302
    assert response.location.startswith("/sign-in?next=/admin/case/")


def test_clerk_signs_in_and_sees_role_and_office(client, app):
    user = create_staff("clerk", "western")
    response = sign_in(client, user.email.upper(), PASSWORD)
    assert response.status_code == 302 and response.location == "/admin/"
    home = client.get("/admin/").get_data(as_text=True)
    assert "Registry clerk" in home and "Western Region" in home
    assert "sign_in.succeeded" in audit_actions()


def test_passwords_are_stored_as_argon2id_hashes(app):
    user = create_staff("clerk")
    assert user.password_hash.startswith("$argon2id$")
    assert PASSWORD not in user.password_hash


def test_a_password_hashed_at_lower_costs_is_hashed_again_at_the_configured_ones_when_its_owner_signs_in(
    client, app
):
    user = create_staff("clerk")  # hashed at the tests' costs
    assert "$m=8,t=1,p=1$" in user.password_hash
    assert (Config.PASSWORD_HASH_MEMORY_KIB, Config.PASSWORD_HASH_TIME_COST) == (65536, 3)  # what others get
    app.config.update(PASSWORD_HASH_TIME_COST=2, PASSWORD_HASH_MEMORY_KIB=1024, PASSWORD_HASH_PARALLELISM=2)
    init_password_hashing(app)
    assert sign_in(client, user.email, PASSWORD).location == "/admin/"
    db.session.expire_all()
    assert "$m=1024,t=2,p=2$" in db.session.get(StaffUser, user.id).password_hash
    assert sign_in(app.test_client(), user.email, PASSWORD).location == "/admin/"


def test_production_refuses_password_hashing_below_the_owasp_floor():
    for weak in ({"PASSWORD_HASH_MEMORY_KIB": 8}, {"PASSWORD_HASH_TIME_COST": 1}):
        with pytest.raises(RuntimeError, match="PASSWORD_HASH_TIME_COST >= 2 and PASSWORD_HASH_MEMORY_KIB"):
            type("WeakProduction", (ProductionConfig,), weak).check()


def test_wrong_password_is_refused_and_audited(client, app):
    user = create_staff("clerk")
    response = sign_in(client, user.email, "not the password")
    assert response.status_code == 200
    assert "The email or password is not correct" in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302
    assert audit_actions()[-1] == "sign_in.failed"


def test_unknown_email_is_refused_like_a_wrong_password_and_not_stored(client, app):
    response = sign_in(client, "nobody.here@somewhere.example", "whatever password")
    assert "The email or password is not correct" in response.get_data(as_text=True)
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.action == "sign_in.failed"
    assert "nobody.here" not in event.actor_label


def test_account_locks_after_repeated_failures_even_with_the_right_password(client, app):
    user = create_staff("clerk")
    for _attempt in range(app.config["SIGN_IN_MAX_FAILURES"]):
        sign_in(client, user.email, "wrong password!")
    sign_in(client, user.email, PASSWORD)
    assert client.get("/admin/").status_code == 302
    assert "staff_users.locked_out" in audit_actions()
    db.session.refresh(user)
    user.locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert sign_in(client, user.email, PASSWORD).status_code == 302


def test_idle_session_ends_after_the_timeout(client, app):
    user = create_staff("clerk")
    sign_in(client, user.email, PASSWORD)
    assert client.get("/admin/").status_code == 200
    with client.session_transaction() as session:
        session["last_seen"] = (
            utcnow() - timedelta(minutes=app.config["IDLE_TIMEOUT_MINUTES"] + 1)
        ).isoformat()
    response = client.get("/admin/case/")
    assert response.status_code == 302 and response.location.startswith("/sign-in")
    assert client.get("/admin/").status_code == 302


def test_sign_out_needs_csrf_token_and_ends_the_session(client, app):
    user = create_staff("clerk")
    sign_in(client, user.email, PASSWORD)
    assert client.post("/sign-out").status_code == 400
    token = csrf_token_from(client.get("/admin/").get_data(as_text=True))
    response = client.post("/sign-out", data={"csrf_token": token})
    assert response.status_code == 302
    assert client.get("/admin/").status_code == 302
    assert "sign_out" in audit_actions()


def test_sign_in_form_without_csrf_token_is_refused(client, app):
    user = create_staff("clerk")
    response = client.post("/sign-in", data={"email": user.email, "password": PASSWORD})
    assert response.status_code == 400
    assert client.get("/admin/").status_code == 302


@pytest.mark.parametrize(
    "target",
    [
        "//evil.example/",
        "/\t/evil.example",
        "/\\evil.example",
        "https://evil.example/",
        "/%09/evil.example",
        "\\\\evil.example",
        "javascript:alert(1)",
    ],
)
def test_sign_in_never_redirects_to_another_site(client, app, target):
    user = create_staff("clerk")
    token = csrf_token_from(client.get("/sign-in").get_data(as_text=True))
    response = client.post(
        "/sign-in", data={"email": user.email, "password": PASSWORD, "csrf_token": token, "next": target}
    )
    assert response.status_code == 302
    location = urlsplit(response.location)
    assert not location.scheme and not location.netloc, response.location
    assert location.path.startswith("/") and not location.path.startswith("//"), response.location


def test_sign_in_returns_to_the_page_asked_for(client, app):
    user = create_staff("clerk")
    token = csrf_token_from(client.get("/sign-in").get_data(as_text=True))
    response = client.post(
        "/sign-in",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token, "next": "/admin/case/?page=2"},
    )
    assert response.location == "/admin/case/?page=2"


def test_an_unknown_email_and_a_locked_account_get_the_same_answer(client, app):
    user = create_staff("clerk")
    for _attempt in range(app.config["SIGN_IN_MAX_FAILURES"] + 1):
        locked = sign_in(client, user.email, "wrong password!").get_data(as_text=True)
    unknown = sign_in(client, "nobody@irb.example", "wrong password!").get_data(as_text=True)
    message = re.compile(r'<div class="alert[^>]*>(.*?)</div>', re.S)
    assert message.search(locked).group(1) == message.search(unknown).group(1)


def test_guesses_sent_together_are_all_counted(app):
    user = create_staff("clerk")
    attempts = app.config["SIGN_IN_MAX_FAILURES"] * 2
    email = user.email  # read here: the threads must not touch this test's session

    def guess(_n):
        with app.app_context():
            from backoffice.workflows.accounts import sign_in as check

            return check(email, "wrong password!").outcome

    with ThreadPoolExecutor(max_workers=attempts) as pool:
        list(pool.map(guess, range(attempts)))
    db.session.expire_all()
    assert db.session.get(StaffUser, user.id).locked_until is not None


def test_sign_out_ends_the_session_even_for_a_copied_cookie(app, login_as):
    clerk = login_as("clerk")
    copy = app.test_client()
    copy.set_cookie("session", clerk.get_cookie("session").value)
    assert copy.get("/admin/case/").status_code == 200
    clerk.post("/sign-out", data={"csrf_token": csrf_token_from(clerk.get("/admin/").get_data(as_text=True))})
    assert copy.get("/admin/case/").status_code == 302


def test_deactivated_staff_cannot_sign_in(client, app):
    user = create_staff("clerk")
    user.is_active_account = False
    db.session.commit()
    response = sign_in(client, user.email, PASSWORD)
    assert response.status_code == 200
    assert client.get("/admin/").status_code == 302


def test_deactivating_staff_ends_their_open_session(app, login_as):
    client = login_as("clerk")
    user = db.session.get(StaffUser, client.user.id)
    user.is_active_account = False
    db.session.commit()
    assert client.get("/admin/").status_code == 302


def test_responses_carry_request_id_and_no_store(client):
    response = client.get("/sign-in", headers={"X-Request-Id": "abc-123"})
    assert response.headers["X-Request-Id"] == "abc-123"
    assert response.headers["Cache-Control"] == "no-store"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_pages_run_only_this_sites_scripts_and_the_inline_ones_that_carry_the_responses_nonce(
    client, login_as
):
    policy = client.get("/sign-in").headers["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "object-src 'none'" in policy
    assert "frame-ancestors 'none'" in policy and "form-action 'self'" in policy
    assert "'unsafe-inline'" not in policy.split("style-src")[0]  # scripts: never any inline script

    admin = login_as("admin")
    for url in ("/admin/reason/", "/admin/reason/new/", "/admin/case/"):
        page = admin.get(url)
        nonce = re.search(r"'nonce-([^']+)'", page.headers["Content-Security-Policy"]).group(1)
        html = page.get_data(as_text=True)
        scripts = re.findall(r"<script([^>]*)>", html)
        assert scripts and all(f'nonce="{nonce}"' in attributes for attributes in scripts), url
        # The one inline event handler, which the policy allows by its hash.
        assert set(re.findall(r'\son[a-z]+="([^"]*)"', html)) <= {"return false;"}, url
    again = admin.get("/admin/case/").headers["Content-Security-Policy"]
    assert f"'nonce-{nonce}'" not in again  # a new one for each response
