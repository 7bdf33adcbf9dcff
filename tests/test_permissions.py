"""Every route answers only to the roles, offices and divisions it should.

The test walks app.url_map, so a new endpoint that is not listed in ACCESS fails it until someone
decides who may use it.
"""

import pytest
from sqlalchemy import func, select

from backoffice.extensions import db
from backoffice.models import AuditEvent
from tests.factories import create_case, create_counsel, make_counsel_of_record
from tests.helpers import (
    METRICS,
    PORTAL,
    PRINCIPALS,
    PUBLIC,
    SIGNED_IN,
    csrf_token_from,
    rules_to_walk,
    url_with_sample_id,
    who_may_use,
)


@pytest.mark.parametrize("name", [*PRINCIPALS, "portal", "anonymous"])
def test_every_route_answers_only_to_the_roles_that_may_use_it(app, client, records, name):
    clients, ids = records
    app.config["METRICS_TOKEN"] = "the scraper's token"  # configured, and none of the principals sends it
    principal = client if name == "anonymous" else clients[name]
    token = _csrf_token(name, principal)
    problems, refusals = [], 0
    for rule in rules_to_walk(app):
        allowed = who_may_use(rule.endpoint)
        url = url_with_sample_id(rule, ids)
        for method in sorted(rule.methods & {"GET", "POST"}):
            data = {"csrf_token": token} if method == "POST" else None
            response = principal.open(url, method=method, data=data)
            expected = _expectation(allowed, name)
            refusals += response.status_code == 403
            if not _meets(expected, response):
                problems.append(f"{method} {url} as {name}: {response.status_code} ({expected})")
    assert not problems, "\n".join(problems)
    refused_events = db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "permission.refused")
    )
    assert refused_events == refusals
    assert refusals > 0 if name in PRINCIPALS else refusals == 0  # each role is refused something


def _csrf_token(name: str, client) -> str:
    if name == "portal":
        return ""
    page = client.get("/sign-in" if name == "anonymous" else "/admin/")
    return csrf_token_from(page.get_data(as_text=True))


def _expectation(allowed, name: str) -> str:
    if allowed == PUBLIC:
        return "served"
    if allowed == METRICS:
        return "not found"
    if allowed == PORTAL:
        return "served" if name == "portal" else "asked for a token"
    if name == "portal":
        return "kept out"
    if name == "anonymous":
        return "asked to sign in"
    if allowed == SIGNED_IN or name in allowed:
        return "served"
    return "refused"


def _meets(expected: str, response) -> bool:
    if expected == "kept out":  # a bearer token opens nothing outside the API (and has no CSRF token)
        return response.status_code == 400 or (
            response.status_code == 302 and response.location.startswith("/sign-in")
        )
    if expected == "not found":  # as at any unknown address: its existence is not told
        return response.status_code == 404
    if expected == "asked for a token":
        return response.status_code == 401 and response.get_json()["error"] == "unauthorized"
    if expected == "asked to sign in":
        return response.status_code == 302 and response.location.startswith("/sign-in")
    if expected == "refused":
        return response.status_code == 403
    return response.status_code < 500 and response.status_code not in (401, 403)


def test_a_western_clerk_guessing_a_central_case_url_is_refused_and_audited(app, login_as):
    central_case = create_case("central", "RPD")
    clerk = login_as("clerk", "western")
    response = clerk.get(f"/admin/case/details/?id={central_case.id}")
    assert response.status_code == 404
    assert central_case.file_number not in response.get_data(as_text=True)
    refusal = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "permission.refused").order_by(AuditEvent.id.desc())
    ).first()
    assert refusal.actor_id == clerk.user.id
    assert refusal.after["reason"] == "out_of_scope"
    assert refusal.after["record_id"] == str(central_case.id)


def test_an_unknown_id_is_a_plain_not_found(app, login_as):
    clerk = login_as("clerk", "western")
    assert clerk.get("/admin/case/details/?id=999999").status_code == 404
    assert clerk.get("/admin/case/details/?id=abc").status_code == 404


def test_a_clerk_from_another_office_cannot_see_a_counsel_known_only_there(app, login_as):
    counsel = create_counsel(full_name="Only Central")
    make_counsel_of_record(create_case("central"), counsel)
    western = login_as("clerk", "western")
    central = login_as("clerk", "central")
    assert western.get(f"/admin/counsel/details/?id={counsel.id}").status_code == 404
    assert "Only Central" not in western.get("/admin/counsel/").get_data(as_text=True)
    assert central.get(f"/admin/counsel/details/?id={counsel.id}").status_code == 200
