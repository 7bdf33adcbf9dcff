"""Every route answers only to the roles, offices and divisions it should.

The test walks app.url_map, so a new endpoint that is not listed in ACCESS fails it until someone
decides who may use it.
"""

import pytest
from sqlalchemy import func, select

from backoffice.extensions import db
from backoffice.models import AuditEvent, JobRun
from backoffice.workflows.message_templates import TEMPLATES
from backoffice.workflows.notifications import queue_message
from tests.conftest import csrf_token_from
from tests.factories import (
    create_case,
    create_counsel,
    create_filer,
    create_portal_client,
    create_staff,
    create_submission,
    make_counsel_of_record,
    office,
    registration_with_code,
)

PUBLIC = "public"
PORTAL = "portal client token"
SIGNED_IN = "signed in"
ALL_ROLES = {"clerk", "division_member", "supervisor", "national_supervisor", "admin"}
SUPERVISION = {"supervisor", "national_supervisor", "admin"}
ADMINS = {"admin"}
MESSAGES = {"clerk", "supervisor", "national_supervisor", "admin"}
REGISTRATIONS = {"clerk", "supervisor", "national_supervisor", "admin"}
CLERKS = {"clerk"}
HOLD = {"clerk", "supervisor", "national_supervisor"}  # put on hold, resume, withdraw

# Endpoint, or the view that owns it (the part before the dot), and who may use it.
ACCESS = {
    "static": PUBLIC,
    "admin.static": PUBLIC,
    "root": PUBLIC,
    "auth.sign_in_page": PUBLIC,
    "auth.choose_language": PUBLIC,
    "auth.sign_out": SIGNED_IN,
    "admin.index": SIGNED_IN,
    "case": ALL_ROLES,
    "counsel": ALL_ROLES,
    "jobrun": SUPERVISION,
    "audit": SUPERVISION,
    "case_import": ADMINS,
    "notification": MESSAGES,
    "message_templates": MESSAGES,
    "staff": ADMINS,
    "office": ADMINS,
    "division": ADMINS,
    "submission": ALL_ROLES,
    "submission.hold_view": {"clerk", "division_member"},
    "submission.take_off_hold_view": {"clerk", "division_member", "supervisor", "national_supervisor"},
    "submission.note_view": {"clerk", "division_member", "supervisor", "national_supervisor"},
    "submission.return_view": {"supervisor", "national_supervisor"},
    "submission.reassign_view": {"supervisor", "national_supervisor"},
    "submission.decide_by_file_view": {"division_member"},
    "submission.change_kind_view": {"clerk", "division_member"},
    "portalclient": ADMINS,
    "reason": ADMINS,
    "servicetarget": ADMINS,
    "dashboard": {"supervisor", "national_supervisor"},
    "api": PORTAL,
    "registration": REGISTRATIONS,
    "registration_pipeline": REGISTRATIONS,
    "registration_invite": CLERKS,
    **{
        f"registration.{action}_view": CLERKS
        for action in (
            "send_invitation",
            "upload_form",
            "typed_form",
            "record_form",
            "download_form",
            "schedule",
            "reschedule",
            "cancel_meeting",
            "meeting_link",
            "retry_meeting",
            "identity",
            "invitation_code",
        )
    },
    **{f"registration.{action}_view": HOLD for action in ("hold", "resume", "withdraw")},
    "registry_queue": {"clerk", "supervisor", "national_supervisor"},
    "division_queue": {"division_member", "supervisor", "national_supervisor"},
    **{f"registry_queue.{action}_view": CLERKS for action in ("claim", "next", "release", "decide")},
    **{
        f"division_queue.{action}_view": {"division_member"}
        for action in ("claim", "next", "release", "decide")
    },
    # Saved filters: whoever may view the queue, each their own filters.
    **{
        f"{queue}.{action}_filter_view": viewers
        for queue, viewers in (
            ("registry_queue", {"clerk", "supervisor", "national_supervisor"}),
            ("division_queue", {"division_member", "supervisor", "national_supervisor"}),
        )
        for action in ("save", "apply", "delete")
    },
    # Accepting several at once: only who works the queue.
    **{f"registry_queue.bulk_{step}_view": CLERKS for step in ("confirm", "accept")},
    **{f"division_queue.bulk_{step}_view": {"division_member"} for step in ("confirm", "accept")},
}

PRINCIPALS = {
    "clerk": ("clerk", "western", None),
    "division_member": ("division_member", "western", "RPD"),
    "supervisor": ("supervisor", "western", None),
    "national_supervisor": ("supervisor", "national", None),
    "admin": ("admin", "western", None),
}


def who_may_use(endpoint: str):
    if endpoint in ACCESS:
        return ACCESS[endpoint]
    view = endpoint.split(".")[0]
    assert view in ACCESS, f"{endpoint} is not classified in ACCESS: decide who may use it"
    return ACCESS[view]


def rules_to_walk(app):
    rules = [rule for rule in app.url_map.iter_rules() if "filename" not in rule.arguments]
    # Sign-out last, since it ends the session the other requests use.
    return sorted(rules, key=lambda rule: (rule.endpoint == "auth.sign_out", rule.endpoint))


def url_with_sample_id(rule, ids: dict[str, int]) -> str:
    path = rule.rule.replace("<export_type>", "csv")
    view = rule.endpoint.split(".")[0]
    return f"{path}?id={ids[view]}" if view in ids else path


@pytest.fixture
def records(app, login_as):
    case = create_case("western", "RPD")
    counsel = create_counsel()
    make_counsel_of_record(case, counsel)
    clients = {name: login_as(*spec) for name, spec in PRINCIPALS.items()}
    colleague = create_staff("clerk", "western")  # edited by the walk, so not one of the principals
    run = JobRun(kind="case_import", requested_by_label="test", office_id=office("western").id)
    db.session.add(run)
    db.session.commit()
    message = queue_message("invitation", TEMPLATES["invitation"].sample, counsel=counsel, case=case)
    db.session.commit()
    portal_token = create_portal_client("Portal")
    submission = create_submission(create_filer("western", "RPD"))
    registration, _code = registration_with_code("western")
    event_id = db.session.scalar(select(func.max(AuditEvent.id)))
    ids = {
        "case": case.id,
        "counsel": counsel.id,
        "jobrun": run.id,
        "audit": event_id,
        "notification": message.id,
        "staff": colleague.id,
        "office": 1,
        "division": 1,
        "submission": submission.id,
        "portalclient": 1,
        "registration": registration.id,
        "reason": 1,
        "servicetarget": 1,
    }
    clients["portal"] = PortalClient(app, portal_token)
    return clients, ids


class PortalClient:
    """The My Case portal calling with its bearer token, and nothing else."""

    def __init__(self, app, token: str) -> None:
        self.client = app.test_client()
        self.headers = {"Authorization": f"Bearer {token}"}

    def open(self, url, method="GET", data=None):
        return self.client.open(url, method=method, headers=self.headers)

    def get(self, url):
        return self.open(url)


def test_every_route_answers_only_to_the_roles_that_may_use_it(app, client, records):
    clients, ids = records
    clients["anonymous"] = client
    tokens = {name: _csrf_token(name, c) for name, c in clients.items()}
    problems, refusals = [], 0
    for rule in rules_to_walk(app):
        allowed = who_may_use(rule.endpoint)
        url = url_with_sample_id(rule, ids)
        for method in sorted(rule.methods & {"GET", "POST"}):
            for name, principal in clients.items():
                data = {"csrf_token": tokens[name]} if method == "POST" else None
                response = principal.open(url, method=method, data=data)
                expected = _expectation(allowed, name)
                refusals += response.status_code == 403
                if not _meets(expected, response):
                    problems.append(f"{method} {url} as {name}: {response.status_code} ({expected})")
    assert not problems, "\n".join(problems)
    refused_events = db.session.scalar(
        select(func.count()).select_from(AuditEvent).where(AuditEvent.action == "permission.refused")
    )
    assert refusals > 50 and refused_events == refusals


def _csrf_token(name: str, client) -> str:
    if name == "portal":
        return ""
    page = client.get("/sign-in" if name == "anonymous" else "/admin/")
    return csrf_token_from(page.get_data(as_text=True))


def _expectation(allowed, name: str) -> str:
    if allowed == PUBLIC:
        return "served"
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
