"""Administrators manage staff users through the screens; every change is audited."""

from sqlalchemy import select

from backoffice.extensions import db
from backoffice.models import AuditEvent, Office, Role, StaffUser
from tests.helpers import csrf_token_from, sign_in


def form_for(client, url: str, **fields) -> dict:
    token = csrf_token_from(client.get(url).get_data(as_text=True))
    return {"csrf_token": token, **fields}


def test_admin_creates_a_division_member_who_can_sign_in(app, login_as, client):
    admin = login_as("admin", "western")
    western = db.session.scalar(select(Office).where(Office.code == "western"))
    data = form_for(
        admin,
        "/admin/staff/new/",
        email="Member@IRB.example",
        full_name="Mo Member",
        role="division_member",
        office=str(western.id),
        division="1",
        preferred_language="fr",
        is_active_account="y",
        new_password="a long enough password",
    )
    response = admin.post("/admin/staff/new/", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == "member@irb.example"))
    assert user.role is Role.DIVISION_MEMBER and user.division.code == "RPD"
    assert user.password_hash.startswith("$argon2id$")
    event = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "staff_users.created", AuditEvent.record_id == str(user.id)
        )
    )
    assert event.actor_id == admin.user.id and event.after["email"] == "member@irb.example"
    assert event.after["password"] == "changed" and "argon2" not in str(event.after)
    assert sign_in(client, "member@irb.example", "a long enough password").status_code == 302


def test_admin_cannot_give_a_clerk_national_scope(app, login_as):
    admin = login_as("admin", "western")
    data = form_for(
        admin,
        "/admin/staff/new/",
        email="c@irb.example",
        full_name="C",
        role="clerk",
        office="__None",
        division="__None",
        preferred_language="en",
        new_password="a long enough password",
    )
    page = admin.post("/admin/staff/new/", data=data).get_data(as_text=True)
    assert "Only a supervisor may have national scope" in page
    assert db.session.scalar(select(StaffUser).where(StaffUser.email == "c@irb.example")) is None


def test_admin_changes_an_office_time_zone_with_audit_and_validation(app, login_as):
    admin = login_as("admin", "western")
    office = db.session.scalar(select(Office).where(Office.code == "western"))
    url = f"/admin/office/edit/?id={office.id}"
    fields = dict(
        code="western", name_en=office.name_en, name_fr=office.name_fr, city="Calgary", mailbox=office.mailbox
    )
    page = admin.post(url, data=form_for(admin, url, time_zone="Mars/Olympus", **fields))
    assert "Unknown time zone" in page.get_data(as_text=True)
    admin.post(url, data=form_for(admin, url, time_zone="America/Edmonton", **fields))
    db.session.expire_all()
    assert db.session.get(Office, office.id).time_zone == "America/Edmonton"
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "offices.updated"))
    assert event.before == {"city": "Vancouver", "time_zone": "America/Vancouver"}
    assert event.after == {"city": "Calgary", "time_zone": "America/Edmonton"}


def test_moving_a_clerk_to_another_office_is_audited_with_both_offices(app, login_as):
    from tests.factories import create_staff

    admin = login_as("admin", "western")
    clerk = create_staff("clerk", "western")
    eastern = db.session.scalar(select(Office).where(Office.code == "eastern"))
    url = f"/admin/staff/edit/?id={clerk.id}"
    fields = dict(
        email=clerk.email,
        full_name=clerk.full_name,
        role="clerk",
        office=str(eastern.id),
        division="__None",
        preferred_language="en",
        is_active_account="y",
    )
    assert admin.post(url, data=form_for(admin, url, **fields)).status_code == 302
    event = db.session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "staff_users.updated", AuditEvent.record_id == str(clerk.id)
        )
    )
    assert event.before == {"office": "western"} and event.after == {"office": "eastern"}
    assert event.actor_id == admin.user.id
