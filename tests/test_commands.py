"""Command-line tools: staff users and demonstration data."""

import json

from sqlalchemy import func, select

from backoffice.devdata.demo import DEMO_PASSWORD, DEMO_SUBMISSIONS
from backoffice.extensions import db
from backoffice.models import Case, Counsel, Division, Office, Role, StaffUser, Submission
from tests.helpers import run_command, sign_in


def test_users_create_makes_a_staff_user_who_can_sign_in(app, client):
    result = run_command(
        app,
        "users",
        "create",
        "--email",
        "Clerk@IRB.example",
        "--name",
        "Ada Clerk",
        "--role",
        "clerk",
        "--office",
        "eastern",
        "--password",
        "a long enough password",
    )
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(StaffUser).where(StaffUser.email == "clerk@irb.example"))
    assert user.role is Role.CLERK and user.office.code == "eastern"
    assert sign_in(client, "clerk@irb.example", "a long enough password").status_code == 302


def create_user(app, *options: str, password: str = "a long enough password"):
    return run_command(
        app, "users", "create", "--email", "x@irb.example", "--name", "X", "--password", password, *options
    )


def test_users_create_explains_what_is_wrong_in_both_languages(app):
    cases = [
        (["--role", "clerk", "--office", "national"], "Only a supervisor may have national scope"),
        (["--role", "division_member", "--office", "western"], "A division member needs a division."),
        (["--role", "clerk", "--office", "western", "--division", "RPD"], "Only division members belong"),
        (["--role", "clerk", "--office", "atlantis"], "Unknown office: atlantis."),
    ]
    for options, message in cases:
        result = create_user(app, *options)
        assert result.exit_code != 0 and message in result.output, result.output
    weak = create_user(app, "--role", "admin", "--office", "western", password="short")
    assert "at least 12 characters" in weak.output and "au moins 12" in weak.output
    assert db.session.scalar(select(func.count()).select_from(StaffUser)) == 0


def test_seed_demo_loads_every_role_office_and_division_once(app, client):
    first = json.loads(run_command(app, "seed-demo", "--json").output)
    second = json.loads(run_command(app, "seed-demo", "--json").output)
    assert first["staff"] == second["staff"]
    assert db.session.scalar(select(func.count()).select_from(StaffUser)) == len(first["staff"])
    roles = {(p["role"], p["office"]) for p in first["staff"]}
    offices = set(db.session.scalars(select(Office.code)))
    for office in offices:
        for role in ("clerk", "division_member", "supervisor", "admin"):
            assert (role, office) in roles
    assert ("supervisor", "national") in roles
    covered = set(db.session.execute(select(Case.office_id, Case.division_id)).all())
    assert len(covered) == len(offices) * db.session.scalar(select(func.count()).select_from(Division))
    assert db.session.scalar(select(func.count()).select_from(Counsel)) >= 4
    clerk = next(p for p in first["staff"] if p["role"] == "clerk" and p["office"] == "western")
    assert clerk["password"] == DEMO_PASSWORD
    assert sign_in(client, clerk["email"], clerk["password"]).status_code == 302


def test_seed_demo_gives_a_working_portal_token_and_accounts_in_every_office(app, client):
    first = json.loads(run_command(app, "seed-demo", "--json").output)
    second = json.loads(run_command(app, "seed-demo", "--json").output)
    assert first["portal_accounts"] == second["portal_accounts"]
    offices = {case["office"] for account in first["portal_accounts"] for case in account["cases"]}
    assert offices == {"western", "central", "eastern"}
    western_rpd = [
        account
        for account in first["portal_accounts"]
        if any(case["office"] == "western" and case["division"] == "RPD" for case in account["cases"])
    ]
    assert western_rpd
    account = western_rpd[0]
    old = client.get(
        f"/api/v1/accounts/{account['id']}/cases",
        headers={"Authorization": f"Bearer {first['portal_token']}"},
    )
    assert old.status_code == 401  # the second run revoked the first demo token
    new = client.get(
        f"/api/v1/accounts/{account['id']}/cases",
        headers={"Authorization": f"Bearer {second['portal_token']}"},
    )
    assert new.get_json() == account["cases"]
    assert db.session.scalar(select(func.count()).select_from(Submission)) == len(
        DEMO_SUBMISSIONS
    )  # demo submissions, once


def test_seed_demo_is_refused_in_production(app):
    app.config["ALLOW_DEMO_DATA"] = False
    result = run_command(app, "seed-demo")
    assert result.exit_code != 0 and "refused in production" in result.output


def test_seed_demo_gives_fresh_invitation_codes_and_registrations_at_every_stage(app, client):
    from backoffice.models import Registration, RegistrationStatus

    first = json.loads(run_command(app, "seed-demo", "--json").output)
    second = json.loads(run_command(app, "seed-demo", "--json").output)
    stages = set(db.session.scalars(select(Registration.status)))
    assert stages == set(RegistrationStatus)
    assert len(second["invitation_codes"]) == len(first["invitation_codes"]) >= 1
    headers = {"Authorization": f"Bearer {second['portal_token']}"}

    def redeem(code: str):
        body = {"code": code, "sign_in_provider": "gckey", "sign_in_subject": f"tester-{code}"}
        return client.post("/api/v1/invitation-codes/redeem", json=body, headers=headers)

    assert redeem(first["invitation_codes"][0]["code"]).status_code == 422  # revoked by the second run
    assert redeem(second["invitation_codes"][0]["code"]).status_code == 200
