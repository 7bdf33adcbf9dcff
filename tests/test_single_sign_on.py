"""Single sign-on through the real Authlib client, against the OpenID Connect provider emulator over loopback.

The browser's part is played by hand: the test client asks the back office for the sign-in, `requests` follows
the redirect to the emulator (which chooses the person at once), and the test client brings the code back. Each
test gets an application made with the settings it needs, since the provider is registered when the application
is created; the emulator is shared by the module, each test adding people of its own.
"""

import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from flask import Flask
from flask.testing import FlaskClient
from joserfc import jwt
from sqlalchemy import select

from backoffice.auth.sessions import FACTOR_AT
from backoffice.devdata.demo import load_demo_data
from backoffice.devservices.oidc_emulator import OidcEmulator, Person, serve_in_thread
from backoffice.devservices.run import demo_people
from backoffice.extensions import db
from backoffice.models import AuditEvent, Role, SignInMethod, SsoGroupMapping, StaffUser
from backoffice.models.types import utcnow
from backoffice.workflows.single_sign_on import Identity, SignOnRefused, staff_for
from tests.conftest import make_test_app
from tests.factories import PASSWORD, create_staff, office
from tests.helpers import csrf_token_from, page_of, race, sign_in, switch_to_french, text_of

CLIENT_ID = "backoffice-test"
CLIENT_SECRET = "test-oidc-secret"  # noqa: S105 (the emulator's, for these tests only)
DEPARTMENT = "staff.example"


@pytest.fixture(scope="module")
def provider() -> Iterator[OidcEmulator]:
    emulator = OidcEmulator(CLIENT_ID, CLIENT_SECRET, [])
    server = serve_in_thread(emulator)
    yield emulator
    server.shutdown()
    server.server_close()


@pytest.fixture
def make_app(database, redis_url, tmp_path, closed_port, storage_settings) -> Iterator[Callable[..., Flask]]:
    """`make_app(**settings)`: the test's application, made as conftest's `app` is but with these settings at
    creation (single sign-on is registered then, or not at all). Once per test: it has the test's database."""
    made: list = []

    def _make_app(**settings) -> Flask:
        assert not made, "one application per test"
        app = make_test_app(database, redis_url, tmp_path, closed_port, storage_settings, **settings)
        context = app.app_context()
        context.push()
        made.append(context)
        return app

    yield _make_app
    for context in made:
        db.session.remove()
        db.engine.dispose()
        context.pop()


def provider_settings(provider: OidcEmulator, **settings) -> dict[str, str]:
    return {
        "OIDC_ISSUER": provider.issuer,
        "OIDC_CLIENT_ID": CLIENT_ID,
        "OIDC_CLIENT_SECRET": CLIENT_SECRET,
        **settings,
    }


@pytest.fixture
def app(make_app, provider) -> Flask:
    """Single sign-on on; roles come from the staff records."""
    return make_app(**provider_settings(provider))


@pytest.fixture
def groups_app(make_app, provider) -> Flask:
    """Single sign-on on; roles, office and division come from the provider's groups."""
    return make_app(**provider_settings(provider, OIDC_ROLE_CLAIM="groups"))


# --------------------------------------------------------------------------------------------- the round trip


def new_person(provider: OidcEmulator, email: str | None = None, **fields) -> Person:
    """Someone the provider knows, with a subject of their own (the emulator is shared by the module)."""
    subject = f"subject-{uuid.uuid4().hex}"
    person = Person(subject, email or f"{subject}@{DEPARTMENT}", f"Person {subject[-6:]}", **fields)
    provider.add_person(person)
    return person


def ask_to_sign_on(client: FlaskClient, provider: OidcEmulator, url: str = "/sign-in/sso") -> str:
    """Where the back office sends the browser: the provider's authorization endpoint, with PKCE, state and
    nonce."""
    response = client.get(url)
    assert response.status_code == 302, response.get_data(as_text=True)[-500:]
    assert response.location.startswith(f"{provider.issuer}/authorize?")
    query = parse_qs(urlsplit(response.location).query)
    assert query["code_challenge_method"] == ["S256"]
    for name in ("code_challenge", "state", "nonce"):
        assert query[name][0], name
    return response.location


def back_from_provider(provider: OidcEmulator, authorize_url: str, subject: str) -> str:
    """The provider signs `subject` in and sends the browser back: our return path, with its code and state."""
    provider.choose_automatically(subject)
    answer = requests.get(authorize_url, allow_redirects=False, timeout=5)
    assert answer.status_code == 302, answer.text
    back = urlsplit(answer.headers["Location"])
    assert back.path == "/sign-in/sso/return"
    assert "code" in parse_qs(back.query)
    return f"{back.path}?{back.query}"


def sign_on(client: FlaskClient, provider: OidcEmulator, person: Person, url: str = "/sign-in/sso"):
    """The whole round: our answer to the browser's return from the provider."""
    return client.get(back_from_provider(provider, ask_to_sign_on(client, provider, url), person.subject))


def is_signed_in(client: FlaskClient) -> bool:
    response = client.get("/admin/")
    if response.status_code == 302:
        assert urlsplit(response.location).path == "/sign-in"
        return False
    assert response.status_code == 200
    return True


def events(action: str) -> list[AuditEvent]:
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    ).all()


def refusal_reasons() -> list[str]:
    return [event.after["reason"] for event in events("sign_in.sso_refused")]


def assert_refused(response, message: str | None = None) -> str:
    assert response.status_code == 403
    page = response.get_data(as_text=True)
    assert "Sign-in refused" in page
    if message is not None:
        assert text_of(page, "refusal") == message
    return page


def staff_by_email(email: str) -> StaffUser | None:
    db.session.expire_all()
    return db.session.scalar(select(StaffUser).where(StaffUser.email == email))


# --------------------------------------------------------------------------------------------- signing in


def test_a_staff_user_is_bound_by_verified_email_then_known_by_subject(app, provider):
    user = create_staff("clerk", email=f"clerk.bound@{DEPARTMENT}")
    person = new_person(provider, email=user.email.upper())
    client = app.test_client()

    answered = sign_on(client, provider, person, "/sign-in/sso?next=/admin/case/")

    assert answered.status_code == 302 and answered.location == "/admin/case/"
    assert is_signed_in(client)
    db.session.refresh(user)
    assert user.oidc_subject == person.subject
    assert user.last_sign_in_method is SignInMethod.SINGLE_SIGN_ON
    (bound,) = events("staff_users.sso_subject_bound")
    assert (bound.record_id, bound.actor_label, bound.after) == (
        str(user.id),
        "single sign-on",
        {"by": "verified email"},
    )
    (signed_in,) = events("sign_in.succeeded")
    assert signed_in.actor_id == user.id and signed_in.after == {"method": "single_sign_on"}

    # The address changes at the provider: the subject still says who it is.
    provider.add_person(replace(person, email=f"renamed@{DEPARTMENT}", email_verified=False))
    again = app.test_client()
    assert sign_on(again, provider, person).location == "/admin/"
    assert is_signed_in(again)
    assert len(events("sign_in.succeeded")) == 2
    assert len(events("staff_users.sso_subject_bound")) == 1
    assert staff_by_email(user.email).oidc_subject == person.subject
    assert refusal_reasons() == []


def test_the_provider_is_asked_with_pkce_and_the_code_exchanged_once(app, provider):
    user = create_staff("clerk")
    person = new_person(provider, email=user.email)
    client = app.test_client()
    authorize_url = ask_to_sign_on(client, provider)
    return_path = back_from_provider(provider, authorize_url, person.subject)
    code = parse_qs(urlsplit(return_path).query)["code"][0]
    before = client.get_cookie("session").value  # the browser's cookie before it came back

    assert client.get(return_path).status_code == 302
    assert is_signed_in(client)

    # The same return twice in the same browser: its state was used up.
    assert_refused(client.get(return_path))
    # The same code from a copy of the browser as it was: the provider refuses it.
    copy = app.test_client()
    copy.set_cookie("session", before)
    assert_refused(copy.get(return_path), "The departmental sign-in could not be completed. Try again.")
    assert not is_signed_in(copy)
    assert [request["outcome"] for request in provider.token_requests if request["code"] == code] == [
        "issued",
        "invalid_grant",
    ]
    assert refusal_reasons() == ["token_refused:MismatchingStateError", "token_refused:OAuthError"]
    assert len(events("sign_in.succeeded")) == 1


def forged_nonce(provider: OidcEmulator) -> None:
    provider.tamper_next(nonce="x")


def another_audience(provider: OidcEmulator) -> None:
    provider.tamper_next(aud="someone-else")


def another_issuer(provider: OidcEmulator) -> None:
    provider.tamper_next(iss="http://127.0.0.1:1")


def another_audience_naming_us_as_authorized_party(provider: OidcEmulator) -> None:
    provider.tamper_next(aud=["someone-else", "another"], azp=CLIENT_ID)


def expired(provider: OidcEmulator) -> None:
    an_hour_ago = int(time.time()) - 3600
    provider.tamper_next(exp=an_hour_ago, iat=an_hour_ago - 300, auth_time=an_hour_ago - 300)


def unknown_key(provider: OidcEmulator) -> None:
    provider.sign_next_with_unknown_key()


@pytest.mark.parametrize(
    "spoil",
    [
        forged_nonce,
        another_issuer,
        another_audience,
        another_audience_naming_us_as_authorized_party,
        expired,
        unknown_key,
    ],
)
def test_an_id_token_that_fails_its_checks_signs_no_one_in(app, provider, spoil):
    user = create_staff("clerk")
    person = new_person(provider, email=user.email)
    client = app.test_client()
    authorize_url = ask_to_sign_on(client, provider)
    spoil(provider)

    answered = client.get(back_from_provider(provider, authorize_url, person.subject))

    assert_refused(answered, "The departmental sign-in could not be completed. Try again.")
    assert not is_signed_in(client)
    (reason,) = refusal_reasons()
    assert reason.startswith("token_refused:")
    assert staff_by_email(user.email).oidc_subject is None
    assert events("sign_in.succeeded") == [] and events("staff_users.sso_subject_bound") == []


def test_an_id_token_for_us_and_another_audience_is_accepted(app, provider):
    user = create_staff("clerk")
    person = new_person(provider, email=user.email)
    client = app.test_client()
    authorize_url = ask_to_sign_on(client, provider)
    provider.tamper_next(aud=["someone-else", CLIENT_ID], azp=CLIENT_ID)

    assert client.get(back_from_provider(provider, authorize_url, person.subject)).status_code == 302

    assert is_signed_in(client)


def unknown_person(provider: OidcEmulator) -> Person:
    return new_person(provider, email="stranger@elsewhere.example")


def unverified_email(provider: OidcEmulator) -> Person:
    user = create_staff("clerk")
    return new_person(provider, email=user.email, email_verified=False)


def bound_to_another_subject(provider: OidcEmulator) -> Person:
    user = create_staff("clerk")
    user.oidc_subject = f"subject-{uuid.uuid4().hex}"
    db.session.commit()
    return new_person(provider, email=user.email)


def deactivated(provider: OidcEmulator) -> Person:
    user = create_staff("clerk")
    user.is_active_account = False
    db.session.commit()
    return new_person(provider, email=user.email)


@pytest.mark.parametrize(
    ("who", "reason", "message"),
    [
        (
            unknown_person,
            "unknown_person",
            "Your departmental account is not a staff account of the back office. Ask your supervisor or an "
            "administrator to add you.",
        ),
        (
            unverified_email,
            "unknown_person",
            "Your departmental account is not a staff account of the back office. Ask your supervisor or an "
            "administrator to add you.",
        ),
        (
            bound_to_another_subject,
            "subject_mismatch",
            "This staff account is tied to another departmental account. Ask an administrator.",
        ),
        (deactivated, "inactive", "Your staff account is deactivated. Ask an administrator."),
    ],
)
def test_a_person_the_back_office_does_not_let_in_is_refused(app, provider, who, reason, message):
    person = who(provider)
    subjects_before = {user.id: user.oidc_subject for user in db.session.scalars(select(StaffUser))}
    client = app.test_client()

    assert_refused(sign_on(client, provider, person), message)

    assert not is_signed_in(client)
    assert refusal_reasons() == [reason]
    (refused,) = events("sign_in.sso_refused")
    domain = person.email.rpartition("@")[2]
    assert refused.actor_label == f"single sign-on @{domain}"  # the domain only, never the address
    db.session.expire_all()
    assert {user.id: user.oidc_subject for user in db.session.scalars(select(StaffUser))} == subjects_before
    assert events("sign_in.succeeded") == [] and events("staff_users.sso_subject_bound") == []


def test_the_refusal_page_speaks_french(app, provider):
    person = new_person(provider, email="stranger@elsewhere.example")
    client = app.test_client()
    switch_to_french(client, "/sign-in")

    page = sign_on(client, provider, person).get_data(as_text=True)

    assert '<html lang="fr">' in page
    assert "Sign-in refused" not in page, "the refusal page's title has no French translation"
    assert "is not a staff account" not in text_of(page, "refusal"), "the refusal has no French translation"
    assert refusal_reasons() == ["unknown_person"]


def test_a_signing_key_rotated_between_two_sign_ins_is_fetched_again(app, provider):
    user = create_staff("clerk")
    person = new_person(provider, email=user.email)
    assert sign_on(app.test_client(), provider, person).status_code == 302
    provider.rotate_keys()

    client = app.test_client()
    assert sign_on(client, provider, person).status_code == 302

    assert is_signed_in(client)
    cached = app.extensions["single_sign_on"].create_client("department").server_metadata["jwks"]
    assert provider.keys[-1].kid in {key["kid"] for key in cached["keys"]}
    assert len(events("sign_in.succeeded")) == 2 and refusal_reasons() == []


# --------------------------------------------------------------------------------------------- groups


def map_group(group: str, role: Role, office_code: str = "western") -> None:
    db.session.add(SsoGroupMapping(group=group, role=role, office=office(office_code)))
    db.session.commit()


def test_a_mapped_group_creates_the_staff_user_then_moves_them_when_it_changes(groups_app, provider):
    map_group("irb-western-clerks", Role.CLERK)
    map_group("irb-western-supervisors", Role.SUPERVISOR)
    person = new_person(provider, groups=("irb-western-clerks", "everyone"))
    client = groups_app.test_client()

    assert sign_on(client, provider, person).status_code == 302

    assert is_signed_in(client)
    user = staff_by_email(person.email)
    assert (user.role, user.office.code, user.division, user.oidc_subject) == (
        Role.CLERK,
        "western",
        None,
        person.subject,
    )
    (created,) = events("staff_users.created")
    assert created.actor_label == "single sign-on" and created.record_id == str(user.id)
    assert created.after["role"] == "clerk" and created.after["office"] == "western"

    provider.add_person(replace(person, groups=("irb-western-supervisors",)))
    again = groups_app.test_client()
    assert sign_on(again, provider, person).status_code == 302

    assert is_signed_in(again)
    assert staff_by_email(person.email).role is Role.SUPERVISOR
    (moved,) = events("staff_users.role_from_groups")
    assert (moved.actor_label, moved.before["role"], moved.after["role"]) == (
        "single sign-on",
        "clerk",
        "supervisor",
    )
    assert len(events("staff_users.created")) == 1 and len(events("sign_in.succeeded")) == 2


@pytest.mark.parametrize(
    ("groups", "reason"),
    [
        (("everyone", "irb-unmapped"), "no_mapped_group"),
        ((), "no_mapped_group"),
        (("irb-western-clerks", "irb-western-supervisors"), "groups_disagree"),
    ],
)
def test_groups_that_give_no_role_or_two_roles_are_refused(groups_app, provider, groups, reason):
    map_group("irb-western-clerks", Role.CLERK)
    map_group("irb-western-supervisors", Role.SUPERVISOR)
    person = new_person(provider, groups=groups)
    client = groups_app.test_client()

    assert_refused(sign_on(client, provider, person))

    assert not is_signed_in(client)
    assert refusal_reasons() == [reason]
    assert staff_by_email(person.email) is None
    assert events("staff_users.created") == []


def test_a_staff_address_the_provider_did_not_verify_makes_no_second_account(groups_app, provider):
    map_group("irb-western-clerks", Role.CLERK)
    user = create_staff("supervisor")
    person = new_person(provider, email=user.email, email_verified=False, groups=("irb-western-clerks",))
    client = groups_app.test_client()

    assert_refused(sign_on(client, provider, person))

    assert not is_signed_in(client)
    assert refusal_reasons() == ["unknown_person"]
    assert staff_by_email(user.email).role is Role.SUPERVISOR and user.oidc_subject is None
    assert [event.actor_label for event in events("staff_users.created")] == ["test"]  # by the factory only


def a_sign_in(identity: Identity, role_claim: str | None = None) -> Callable[[], int]:
    def attempt() -> int:
        user = staff_for(identity, role_claim=role_claim)
        db.session.commit()
        return user.id

    return attempt


def test_a_new_person_signing_in_twice_at_once_gets_one_account(groups_app):
    map_group("irb-western-clerks", Role.CLERK)
    subject = f"subject-{uuid.uuid4().hex}"
    identity = Identity(subject, f"{subject}@{DEPARTMENT}", True, "Two Tabs", ("irb-western-clerks",))

    outcomes = race(groups_app, [a_sign_in(identity, "groups") for _ in range(3)])

    assert len(set(outcomes)) == 1
    assert db.session.get(StaffUser, outcomes[0]).oidc_subject == subject
    assert len(events("staff_users.created")) == 1


def test_two_departmental_accounts_with_one_address_at_once_bind_only_one(app):
    user = create_staff("clerk", email=f"clerk.shared@{DEPARTMENT}")
    identities = [Identity(f"subject-{n}-{uuid.uuid4().hex}", user.email, True, "Shared") for n in range(2)]

    outcomes = race(app, [a_sign_in(identity) for identity in identities], (SignOnRefused,))

    assert sorted(map(str, outcomes)) == sorted([str(user.id), "refused"])
    db.session.refresh(user)
    assert user.oidc_subject in {identity.subject for identity in identities}
    assert len(events("staff_users.sso_subject_bound")) == 1


# --------------------------------------------------------------------------------------------- the session


def signed_on(
    app: Flask, provider: OidcEmulator, role: str = "clerk"
) -> tuple[FlaskClient, StaffUser, Person]:
    user = create_staff(role)
    person = new_person(provider, email=user.email)
    client = app.test_client()
    assert sign_on(client, provider, person).status_code == 302
    return client, user, person


def test_signing_out_ends_the_session_at_the_provider_too(app, provider):
    client, user, person = signed_on(app, provider)
    token = csrf_token_from(page_of(client, "/admin/"))

    answered = client.post("/sign-out", data={"csrf_token": token})

    assert answered.status_code == 302
    assert answered.location.startswith(f"{provider.issuer}/logout?")
    query = parse_qs(urlsplit(answered.location).query)
    assert query["post_logout_redirect_uri"] == ["http://localhost/sign-in"]
    hint = jwt.decode(query["id_token_hint"][0], provider.keys[-1])
    assert hint.claims["sub"] == person.subject and hint.claims["aud"] == CLIENT_ID
    assert not is_signed_in(client)
    assert [event.actor_id for event in events("sign_out")] == [user.id]

    signed_out = len(provider.signed_out)
    back = requests.get(answered.location, allow_redirects=False, timeout=5)
    assert back.status_code == 302 and urlsplit(back.headers["Location"]).path == "/sign-in"
    assert provider.signed_out[signed_out:] == [
        {
            "id_token_hint": query["id_token_hint"][0],
            "post_logout_redirect_uri": "http://localhost/sign-in",
            "state": query["state"][0],
        }
    ]


def test_a_password_session_signs_out_here_only(app, provider):
    user = create_staff("clerk")
    client = app.test_client()
    assert sign_in(client, user.email, PASSWORD).status_code == 302
    token = csrf_token_from(page_of(client, "/admin/"))

    answered = client.post("/sign-out", data={"csrf_token": token})

    assert answered.status_code == 302 and answered.location == "/sign-in"


def test_deactivating_the_staff_user_ends_their_single_sign_on_session_at_once(app, provider):
    client, user, _person = signed_on(app, provider)
    assert is_signed_in(client)

    user.is_active_account = False
    db.session.commit()

    assert not is_signed_in(client)


def make_factor_old(client: FlaskClient, minutes: int = 16) -> None:
    with client.session_transaction() as session:
        session[FACTOR_AT] = (utcnow() - timedelta(minutes=minutes)).isoformat()


def test_a_sensitive_page_is_confirmed_with_the_provider(app, provider):
    admin, _user, person = signed_on(app, provider, "admin")
    assert admin.get("/admin/staff/new/").status_code == 200  # just signed in: the factor is recent
    make_factor_old(admin)

    asked = admin.get("/admin/staff/new/")
    assert asked.status_code == 302 and asked.location.startswith("/account/confirm?next=")
    to_provider = admin.get(asked.location)
    assert to_provider.status_code == 302
    assert urlsplit(to_provider.location).path == "/sign-in/sso"
    authorize_url = ask_to_sign_on(admin, provider, to_provider.location)
    query = parse_qs(urlsplit(authorize_url).query)
    assert (query["prompt"], query["max_age"]) == (["login"], ["0"])

    confirmed = admin.get(back_from_provider(provider, authorize_url, person.subject))

    assert confirmed.status_code == 302 and confirmed.location == "/admin/staff/new/"
    assert admin.get("/admin/staff/new/").status_code == 200
    assert len(events("sign_in.succeeded")) == 1  # a confirmation, not a new sign-in
    assert refusal_reasons() == []


def test_a_confirmation_by_another_departmental_account_is_refused(app, provider):
    admin, _user, _person = signed_on(app, provider, "admin")
    someone_else = new_person(provider)
    make_factor_old(admin)

    answered = sign_on(admin, provider, someone_else, "/sign-in/sso?confirm=1&next=/admin/staff/")

    assert_refused(
        answered, "This staff account is tied to another departmental account. Ask an administrator."
    )
    assert refusal_reasons() == ["subject_mismatch"]
    asked = admin.get("/admin/staff/new/")
    assert asked.status_code == 302 and asked.location.startswith("/account/confirm")


def test_a_confirmation_from_an_old_sign_in_at_the_provider_is_refused(app, provider):
    """A provider that ignored prompt=login answers with the person's earlier sign-in: that confirms nothing."""
    admin, _user, person = signed_on(app, provider, "admin")
    make_factor_old(admin)
    provider.tamper_next(auth_time=int(time.time()) - 3600)

    answered = sign_on(admin, provider, person, "/sign-in/sso?confirm=1&next=/admin/staff/")

    assert_refused(answered, "The departmental sign-in did not ask for your password again. Try again.")
    assert refusal_reasons() == ["stale_authentication"]
    assert admin.get("/admin/staff/new/").location.startswith("/account/confirm")


# --------------------------------------------------------------------------------------------- the sign-in page


def test_the_sign_in_page_offers_the_departmental_account_when_there_is_one(app, provider):
    page = page_of(app.test_client(), "/sign-in?next=/admin/case/")

    assert text_of(page, "single-sign-on") == "Sign in with your departmental account"
    assert 'href="/sign-in/sso?next=/admin/case/"' in page  # the place asked for survives the round trip
    assert 'name="password"' in page


def test_without_a_provider_the_sign_in_page_has_the_password_form_only(make_app):
    app = make_app(OIDC_ISSUER="")

    page = page_of(app.test_client(), "/sign-in")

    assert "Sign in with your departmental account" not in page
    assert 'name="password"' in page
    answered = app.test_client().get("/sign-in/sso")
    assert answered.status_code == 302 and answered.location == "/sign-in"


def test_with_password_sign_in_turned_off_a_password_is_refused(make_app, provider):
    app = make_app(**provider_settings(provider, ALLOW_PASSWORD_SIGN_IN=False))
    user = create_staff("clerk")
    client = app.test_client()

    page = page_of(client, "/sign-in")
    assert text_of(page, "single-sign-on") == "Sign in with your departmental account"
    assert 'name="password"' not in page

    answered = sign_in(client, user.email, PASSWORD)

    assert answered.status_code == 200
    assert "Sign in with your departmental account." in answered.get_data(as_text=True)
    assert not is_signed_in(client)
    assert events("sign_in.succeeded") == []


def test_a_provider_that_does_not_answer_gives_a_refusal_page(make_app, closed_port):
    app = make_app(
        OIDC_ISSUER=f"http://127.0.0.1:{closed_port}",
        OIDC_CLIENT_ID=CLIENT_ID,
        OIDC_CLIENT_SECRET=CLIENT_SECRET,
    )
    client = app.test_client()

    answered = client.get("/sign-in/sso")

    assert_refused(answered, "The departmental sign-in is not answering. Try again shortly.")
    assert refusal_reasons() == ["provider_unreachable"]
    assert not is_signed_in(client)


# --------------------------------------------------------------------------------------------- `make run`


def test_the_demonstration_staff_sign_on_through_the_local_provider_as_make_run_starts_it(app, provider):
    staff = load_demo_data()["staff"]
    people = demo_people(staff)
    for person in people:
        provider.add_person(person)
    clerk = next(person for person in people if person.email == staff[1]["email"])
    assert (
        clerk.name == staff[1]["name"] and clerk.name
    )  # the staff record's name, as the provider would say it

    client = app.test_client()
    sign_on(client, provider, clerk)

    assert is_signed_in(client)
    assert staff_by_email(clerk.email).oidc_subject == clerk.subject
    assert_refused(sign_on(app.test_client(), provider, people[-1]))  # the visitor with no staff account
    assert refusal_reasons() == ["unknown_person"]
