from datetime import timedelta

from sqlalchemy import select

from backoffice.extensions import db
from backoffice.models import AuditEvent, StaffUser
from backoffice.models.types import utcnow
from tests.conftest import csrf_token_from, sign_in
from tests.factories import PASSWORD, create_staff


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


def test_wrong_password_is_refused_and_audited(client, app):
    user = create_staff("clerk")
    response = sign_in(client, user.email, "not the password")
    assert response.status_code == 200
    assert "The email or password is not correct." in response.get_data(as_text=True)
    assert client.get("/admin/").status_code == 302
    assert audit_actions()[-1] == "sign_in.failed"


def test_unknown_email_is_refused_like_a_wrong_password_and_not_stored(client, app):
    response = sign_in(client, "nobody.here@somewhere.example", "whatever password")
    assert "The email or password is not correct." in response.get_data(as_text=True)
    event = db.session.scalars(select(AuditEvent).order_by(AuditEvent.id.desc())).first()
    assert event.action == "sign_in.failed"
    assert "nobody.here" not in event.actor_label


def test_account_locks_after_repeated_failures_even_with_the_right_password(client, app):
    user = create_staff("clerk")
    for _attempt in range(app.config["SIGN_IN_MAX_FAILURES"]):
        sign_in(client, user.email, "wrong password!")
    response = sign_in(client, user.email, PASSWORD)
    assert "locked" in response.get_data(as_text=True)
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


def test_sign_in_never_redirects_to_another_site(client, app):
    user = create_staff("clerk")
    page = client.get("/sign-in?next=//evil.example/")
    token = csrf_token_from(page.get_data(as_text=True))
    response = client.post(
        "/sign-in",
        data={"email": user.email, "password": PASSWORD, "csrf_token": token, "next": "//evil.example/"},
    )
    assert response.location == "/admin/"


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
