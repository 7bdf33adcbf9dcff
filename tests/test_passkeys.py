"""Passkeys: added on "Sign-in and security", then used alone to sign in, as the second factor after a password,
and to confirm who one is before a sensitive action; refused when copied, replayed, someone else's or odd.

The ceremonies are driven through the real routes by a software authenticator written here (an ES256 key per
credential; the attestation object, authenticator data and signatures made by hand, as WebAuthn §6 describes),
and once end to end in Chromium with its DevTools virtual authenticator."""

import hashlib
import json
import os
import re
from base64 import urlsafe_b64decode, urlsafe_b64encode
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import cbor2
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, update

from backoffice.auth import sessions
from backoffice.extensions import db
from backoffice.models import AuditEvent, StaffPasskey, StaffUser
from backoffice.models.types import utcnow
from tests.factories import PASSWORD, create_staff
from tests.helpers import csrf_token_from, sign_in, text_of

ORIGIN = "http://localhost"  # the test client's own origin
RP_ID = "localhost"
UP, UV, AT = (
    0x01,
    0x04,
    0x40,
)  # authenticator data flags: user present, user verified, attested credential data


def b64url(data: bytes) -> str:
    return urlsafe_b64encode(data).decode().rstrip("=")


def unb64url(text: str) -> bytes:
    return urlsafe_b64decode(text + "===")


# --------------------------------------------------------------------------------------------- the authenticator


@dataclass
class Credential:
    id: bytes
    key: ec.EllipticCurvePrivateKey
    user_handle: bytes
    sign_count: int = 0


@dataclass
class SoftwareAuthenticator:
    """A platform authenticator in software, keeping discoverable ES256 credentials. `counting=False` is a synced
    passkey's way: its signature counter always says 0."""

    origin: str = ORIGIN
    rp_id: str = RP_ID
    counting: bool = True
    credentials: list[Credential] = field(default_factory=list)

    def create(self, options: dict) -> dict:
        """navigator.credentials.create(), answered in the JSON the browser script sends."""
        assert {"alg": -7, "type": "public-key"} in options["pubKeyCredParams"]
        credential = Credential(
            os.urandom(32), ec.generate_private_key(ec.SECP256R1()), unb64url(options["user"]["id"])
        )
        self.credentials.append(credential)
        numbers = credential.key.public_key().public_numbers()
        cose_key = cbor2.dumps(
            {1: 2, 3: -7, -1: 1, -2: numbers.x.to_bytes(32, "big"), -3: numbers.y.to_bytes(32, "big")}
        )
        attested = bytes(16) + len(credential.id).to_bytes(2, "big") + credential.id + cose_key
        auth_data = self._rp_id_hash() + bytes([UP | UV | AT]) + (0).to_bytes(4, "big") + attested
        client_data = self._client_data("webauthn.create", options["challenge"])
        attestation = cbor2.dumps({"fmt": "none", "attStmt": {}, "authData": auth_data})
        return self._as_json(
            credential, client_data, attestationObject=b64url(attestation), transports=["internal"]
        )

    def get(self, options: dict, credential: Credential | None = None, flags: int = UP | UV) -> dict:
        """navigator.credentials.get(): the credential asked for, else the first one allowed, else the first."""
        credential = credential or self._allowed(options)
        if self.counting:
            credential.sign_count += 1
        auth_data = self._rp_id_hash() + bytes([flags]) + credential.sign_count.to_bytes(4, "big")
        client_data = self._client_data("webauthn.get", options["challenge"])
        signature = credential.key.sign(
            auth_data + hashlib.sha256(client_data).digest(), ec.ECDSA(hashes.SHA256())
        )
        return self._as_json(
            credential,
            client_data,
            authenticatorData=b64url(auth_data),
            signature=b64url(signature),
            userHandle=b64url(credential.user_handle),
        )

    @staticmethod
    def _as_json(credential: Credential, client_data: bytes, **response: object) -> dict:
        """The credential as a browser's toJSON() gives it."""
        return {
            "id": b64url(credential.id),
            "rawId": b64url(credential.id),
            "type": "public-key",
            "authenticatorAttachment": "platform",
            "clientExtensionResults": {},
            "response": {"clientDataJSON": b64url(client_data), **response},
        }

    def _allowed(self, options: dict) -> Credential:
        allowed = [unb64url(descriptor["id"]) for descriptor in options.get("allowCredentials", [])]
        return next(each for each in self.credentials if not allowed or each.id in allowed)

    def _client_data(self, kind: str, challenge: str) -> bytes:
        return json.dumps(
            {"type": kind, "challenge": challenge, "origin": self.origin, "crossOrigin": False}
        ).encode()

    def _rp_id_hash(self) -> bytes:
        return hashlib.sha256(self.rp_id.encode()).digest()


# --------------------------------------------------------------------------------------------- fixtures and steps


@pytest.fixture
def authenticator() -> SoftwareAuthenticator:
    return SoftwareAuthenticator()


def token_of(client: FlaskClient) -> str:
    """A CSRF token for the client's session, read from a page as the browser script reads it."""
    page = client.get("/account/security" if _signed_in(client) else "/sign-in")
    return csrf_token_from(page.get_data(as_text=True))


def _signed_in(client: FlaskClient) -> bool:
    with client.session_transaction() as session:
        return "_user_id" in session


def post_json(client: FlaskClient, url: str, body=None, token: str | None = None, raw: bytes | None = None):
    """A POST of JSON, as passkeys.js sends it: the CSRF token in X-CSRFToken, JSON asked for in return."""
    token = token if token is not None else token_of(client)
    data = raw if raw is not None else json.dumps(body if body is not None else {})
    headers = {"X-CSRFToken": token, "Accept": "application/json"}
    return client.post(url, data=data, content_type="application/json", headers=headers)


def signed_in_client(app: Flask, user: StaffUser) -> FlaskClient:
    client = app.test_client()
    response = sign_in(client, user.email, PASSWORD)
    assert response.status_code == 302 and "/sign-in" not in response.location, response.location
    client.user = user
    return client


def add_passkey(client: FlaskClient, authenticator: SoftwareAuthenticator, name: str | None = None):
    options = post_json(client, "/account/passkeys/options")
    assert options.status_code == 200, options.get_json()
    return post_json(
        client, "/account/passkeys", {"credential": authenticator.create(options.get_json()), "name": name}
    )


def staff_with_passkey(app: Flask, authenticator: SoftwareAuthenticator, role: str = "clerk") -> StaffUser:
    user = create_staff(role, "western")
    client = signed_in_client(app, user)
    assert add_passkey(client, authenticator).status_code == 200
    db.session.expire_all()
    return user


def passkey_options(client: FlaskClient, body: dict | None = None) -> dict:
    response = post_json(client, "/sign-in/passkey/options", body or {})
    assert response.status_code == 200, response.get_json()
    return response.get_json()


def sign_in_with(
    client: FlaskClient, authenticator: SoftwareAuthenticator, next_url: str = "", **get_options
):
    options = passkey_options(client)
    return post_json(
        client,
        "/sign-in/passkey",
        {"credential": authenticator.get(options, **get_options), "next": next_url},
    )


def password_accepted(app: Flask, user: StaffUser, next_url: str = "/admin/case/") -> FlaskClient:
    """A client whose password was right, waiting for its second factor."""
    client = app.test_client()
    page = client.get(f"/sign-in?next={next_url}")
    token = csrf_token_from(page.get_data(as_text=True))
    response = client.post(
        "/sign-in", data={"email": user.email, "password": PASSWORD, "next": next_url, "csrf_token": token}
    )
    assert response.status_code == 302 and response.location.endswith("/sign-in/second-factor")
    return client


def fully_signed_in(app: Flask, user: StaffUser, authenticator: SoftwareAuthenticator) -> FlaskClient:
    """A client signed in with the person's password and passkey."""
    client = password_accepted(app, user)
    options = passkey_options(client, {"mode": "second_factor"})
    response = post_json(client, "/sign-in/passkey", {"credential": authenticator.get(options)})
    assert response.status_code == 200, response.get_json()
    return client


def events(action: str) -> list[AuditEvent]:
    db.session.expire_all()
    return db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == action).order_by(AuditEvent.id)
    ).all()


def passkey_of(user: StaffUser) -> StaffPasskey:
    db.session.expire_all()
    return db.session.scalars(select(StaffPasskey).where(StaffPasskey.staff_user_id == user.id)).one()


def make_factor_old(client: FlaskClient) -> None:
    with client.session_transaction() as session:
        session[sessions.FACTOR_AT] = (utcnow() - timedelta(hours=2)).isoformat()


# --------------------------------------------------------------------------------------------- adding one


def test_a_signed_in_person_adds_a_passkey_under_the_name_they_give(app, authenticator):
    user = create_staff("clerk", "western")
    client = signed_in_client(app, user)
    options = post_json(client, "/account/passkeys/options").get_json()
    assert options["rp"] == {"name": "IRB My Case back office", "id": RP_ID}
    assert options["user"]["name"] == user.email
    assert str(user.id).encode() not in unb64url(options["user"]["id"])  # an opaque handle, not the id
    assert options["authenticatorSelection"]["residentKey"] == "preferred"
    assert options["authenticatorSelection"]["userVerification"] == "preferred"
    assert [param["alg"] for param in options["pubKeyCredParams"]] == [-7, -257]
    assert options["attestation"] == "none" and options["excludeCredentials"] == []

    credential = authenticator.create(options)
    response = post_json(client, "/account/passkeys", {"credential": credential, "name": "  Work   laptop "})

    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"redirect": "/account/security"}
    passkey = passkey_of(user)
    assert (passkey.name, passkey.credential_id, passkey.sign_count) == ("Work laptop", credential["id"], 0)
    [added] = events("staff_users.passkey_added")
    assert (added.actor_id, added.record_id, added.after) == (user.id, str(user.id), {"name": "Work laptop"})
    again = post_json(client, "/account/passkeys/options").get_json()
    assert [each["id"] for each in again["excludeCredentials"]] == [credential["id"]]


def test_a_passkey_added_without_a_name_is_numbered_and_ends_a_pending_enrolment(app, authenticator):
    user = create_staff("clerk", "western")
    user.must_enrol = True
    db.session.commit()
    client = signed_in_client(app, user)
    assert add_passkey(client, authenticator, name="   ").status_code == 200
    assert add_passkey(client, authenticator).status_code == 200
    db.session.expire_all()
    assert [key.name for key in db.session.get(StaffUser, user.id).passkeys] == ["Passkey 1", "Passkey 2"]
    assert db.session.get(StaffUser, user.id).must_enrol is False


def test_the_same_passkey_cannot_be_registered_twice(app, authenticator):
    client = signed_in_client(app, create_staff("clerk", "western"))
    options = post_json(client, "/account/passkeys/options").get_json()
    credential = authenticator.create(options)
    assert post_json(client, "/account/passkeys", {"credential": credential}).status_code == 200
    # The browser would refuse (excludeCredentials); a script sends it again to another challenge.
    options = post_json(client, "/account/passkeys/options").get_json()
    replayed = dict(credential, response=dict(credential["response"]))
    client_data = json.loads(unb64url(credential["response"]["clientDataJSON"]))
    replayed["response"]["clientDataJSON"] = b64url(
        json.dumps(dict(client_data, challenge=options["challenge"])).encode()
    )

    response = post_json(client, "/account/passkeys", {"credential": replayed})

    assert response.status_code == 400
    assert response.get_json() == {
        "error": "refused",
        "message": "This passkey is already registered. Use it to sign in, or add another one.",
    }
    assert len(events("staff_users.passkey_added")) == 1


def test_a_passkey_is_added_only_after_a_recent_factor(app, authenticator):
    client = signed_in_client(app, create_staff("clerk", "western"))
    make_factor_old(client)

    response = post_json(client, "/account/passkeys/options")

    assert response.status_code == 403
    assert response.get_json()["error"] == "step_up_required"
    assert response.get_json()["redirect"].startswith("/account/confirm?next=")


def test_a_person_enrolling_long_after_signing_in_confirms_the_password_then_adds_the_passkey(
    app, authenticator
):
    app.config["REQUIRE_MFA"] = True
    user = create_staff("clerk", "western")
    client = signed_in_client(app, user)  # a password alone, where a second factor is required
    make_factor_old(client)

    confirm_at = post_json(client, "/account/passkeys/options").get_json()["redirect"]
    page = client.get(confirm_at)  # the enrolment gate lets the confirmation through: no loop
    assert page.status_code == 200 and "Password" in page.get_data(as_text=True)
    token = csrf_token_from(page.get_data(as_text=True))
    confirmed = client.post(confirm_at, data={"password": PASSWORD, "csrf_token": token})

    assert confirmed.status_code == 302 and confirmed.location == "/account/security"
    assert add_passkey(client, authenticator).status_code == 200
    assert client.get("/admin/case/").status_code == 200  # enrolled: the rest of the back office opens


def test_a_name_too_long_or_with_control_characters_is_refused(app, authenticator):
    client = signed_in_client(app, create_staff("clerk", "western"))
    for name, message in (("x" * 101, "at most 100 characters"), ("a\u0007b", "control characters")):
        response = add_passkey(client, authenticator, name=name)
        assert response.status_code == 400 and message in response.get_json()["message"]
    assert events("staff_users.passkey_added") == []


def test_adding_a_passkey_asks_to_sign_in_first(app, client):
    token = token_of(client)
    response = post_json(client, "/account/passkeys/options", token=token)
    assert (response.status_code, response.get_json()) == (401, {"error": "sign_in_required"})


# --------------------------------------------------------------------------------------------- signing in


def test_a_passkey_alone_signs_in_without_email_or_password(app, authenticator):
    user = staff_with_passkey(app, authenticator)
    client = app.test_client()
    options = passkey_options(client)
    assert options["allowCredentials"] == [] and options["userVerification"] == "required"

    response = post_json(
        client, "/sign-in/passkey", {"credential": authenticator.get(options), "next": "/admin/case/"}
    )

    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"redirect": "/admin/case/"}
    assert client.get("/admin/").status_code == 200
    [signed_in] = events("sign_in.succeeded")[-1:]
    assert (signed_in.actor_id, signed_in.after) == (user.id, {"method": "passkey"})
    passkey = passkey_of(user)
    assert passkey.sign_count == 1 and passkey.last_used_at is not None


def test_a_passkey_alone_must_verify_the_person(app, authenticator):
    staff_with_passkey(app, authenticator)
    client = app.test_client()
    response = sign_in_with(client, authenticator, flags=UP)  # touched, but no PIN, face or fingerprint
    assert response.status_code == 401
    assert client.get("/admin/").status_code == 302


def test_a_passkey_sign_in_goes_only_to_a_path_of_this_site(app, authenticator):
    staff_with_passkey(app, authenticator)
    response = sign_in_with(app.test_client(), authenticator, next_url="https://elsewhere.example/admin/")
    assert response.get_json() == {"redirect": "/admin/"}


def test_a_synced_passkey_that_keeps_no_counter_signs_in_again_and_again(app):
    authenticator = SoftwareAuthenticator(counting=False)
    user = staff_with_passkey(app, authenticator)
    for _attempt in range(2):
        assert sign_in_with(app.test_client(), authenticator).status_code == 200
    assert passkey_of(user).sign_count == 0


def test_a_passkey_is_the_second_factor_after_a_password(app, authenticator):
    user = staff_with_passkey(app, authenticator)
    other = staff_with_passkey(app, SoftwareAuthenticator())
    client = password_accepted(app, user, next_url="/admin/case/")
    options = passkey_options(client, {"mode": "second_factor"})
    assert [each["id"] for each in options["allowCredentials"]] == [passkey_of(user).credential_id]
    assert passkey_of(other).credential_id not in json.dumps(options)
    assert options["userVerification"] == "preferred"

    response = post_json(client, "/sign-in/passkey", {"credential": authenticator.get(options, flags=UP)})

    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"redirect": "/admin/case/"}
    assert client.get("/admin/").status_code == 200
    assert events("sign_in.succeeded")[-1].after == {"method": "password_passkey"}


def test_the_second_factor_waits_for_a_password_first(app):
    response = post_json(app.test_client(), "/sign-in/passkey/options", {"mode": "second_factor"})
    assert response.status_code == 401
    assert response.get_json()["error"] == "no_pending_sign_in"


def test_a_passkey_confirms_who_one_is_before_a_sensitive_action(app, authenticator):
    user = staff_with_passkey(app, authenticator)
    client = fully_signed_in(app, user, authenticator)
    make_factor_old(client)

    options = post_json(client, "/account/confirm/passkey/options").get_json()
    assert [each["id"] for each in options["allowCredentials"]] == [passkey_of(user).credential_id]
    response = post_json(
        client,
        "/account/confirm/passkey",
        {"credential": authenticator.get(options), "next": "/admin/staff/"},
    )

    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {"redirect": "/admin/staff/"}
    with client.session_transaction() as session:
        assert utcnow() - datetime.fromisoformat(session[sessions.FACTOR_AT]) < timedelta(minutes=1)


def test_confirming_with_a_passkey_needs_one(app):
    client = signed_in_client(app, create_staff("clerk", "western"))
    response = post_json(client, "/account/confirm/passkey/options")
    assert (response.status_code, response.get_json()["error"]) == (400, "no_passkeys")


def test_passkey_sign_in_alone_is_off_where_only_single_sign_on_is_offered(app, authenticator):
    staff_with_passkey(app, authenticator)
    client = app.test_client()
    options = passkey_options(client)
    app.config["ALLOW_PASSWORD_SIGN_IN"] = False

    assert post_json(client, "/sign-in/passkey/options").status_code == 403
    response = post_json(client, "/sign-in/passkey", {"credential": authenticator.get(options)})

    assert (response.status_code, response.get_json()["error"]) == (403, "passkey_sign_in_off")


# --------------------------------------------------------------------------------------------- refusals


def test_a_counter_that_goes_back_is_refused_as_a_possible_clone(app, authenticator):
    user = staff_with_passkey(app, authenticator)
    for _attempt in range(3):
        assert sign_in_with(app.test_client(), authenticator).status_code == 200
    authenticator.credentials[0].sign_count = 1  # a copy of the key, made after its first use

    response = sign_in_with(app.test_client(), authenticator)

    assert response.status_code == 401
    assert passkey_of(user).sign_count == 3
    [suspected] = events("staff_users.passkey_clone_suspected")
    assert suspected.record_id == str(user.id)
    assert suspected.after == {"name": "Passkey 1", "stored_count": 3, "presented_count": 2}
    assert events("sign_in.second_factor_failed")[-1].after == {"reason": "wrong_passkey"}


def test_a_counter_that_stays_is_refused_too(app, authenticator):
    staff_with_passkey(app, authenticator)
    assert sign_in_with(app.test_client(), authenticator).status_code == 200
    authenticator.credentials[0].sign_count -= 1
    assert sign_in_with(app.test_client(), authenticator).status_code == 401
    assert len(events("staff_users.passkey_clone_suspected")) == 1


def test_a_challenge_is_answered_once_even_after_a_wrong_answer(app, authenticator):
    staff_with_passkey(app, authenticator)
    client = app.test_client()
    options = passkey_options(client)
    answer = authenticator.get(options)
    wrong = dict(
        answer, response=dict(answer["response"], signature=b64url(b"\x30\x06\x02\x01\x01\x02\x01\x01"))
    )
    assert post_json(client, "/sign-in/passkey", {"credential": wrong}).status_code == 401

    response = post_json(client, "/sign-in/passkey", {"credential": answer})

    assert (response.status_code, response.get_json()["error"]) == (400, "no_ceremony")


def test_an_answer_replayed_with_the_cookie_it_was_made_for_is_refused_by_the_counter(app, authenticator):
    user = staff_with_passkey(app, authenticator)
    client = app.test_client()
    options = passkey_options(client)
    token = token_of(client)
    cookie = client.get_cookie("session").value  # the session cookie still holding the challenge
    answer = {"credential": authenticator.get(options)}
    assert post_json(client, "/sign-in/passkey", answer, token=token).status_code == 200
    replaying = app.test_client()
    replaying.set_cookie("session", cookie)

    response = post_json(replaying, "/sign-in/passkey", answer, token=token)

    assert response.status_code == 401
    assert replaying.get("/admin/").status_code == 302
    assert passkey_of(user).sign_count == 1


def test_an_answer_to_another_challenge_is_refused(app, authenticator):
    user = staff_with_passkey(app, authenticator)
    client = app.test_client()
    earlier = passkey_options(client)
    passkey_options(client)  # the page asked again: only the latest challenge is answered

    response = post_json(client, "/sign-in/passkey", {"credential": authenticator.get(earlier)})

    assert response.status_code == 401
    assert client.get("/admin/").status_code == 302
    db.session.expire_all()
    assert db.session.get(StaffUser, user.id).failed_sign_ins == 1


@pytest.mark.parametrize(
    "origin, rp_id",
    [("http://elsewhere.example", RP_ID), (ORIGIN, "elsewhere.example")],
    ids=["origin", "rp_id"],
)
def test_an_answer_made_for_another_site_is_refused(app, authenticator, origin, rp_id):
    staff_with_passkey(app, authenticator)
    phished = SoftwareAuthenticator(origin=origin, rp_id=rp_id, credentials=authenticator.credentials)
    assert sign_in_with(app.test_client(), phished).status_code == 401


def test_a_passkey_of_another_person_is_refused_as_a_second_factor_and_at_confirmation(app, authenticator):
    staff_with_passkey(app, authenticator)
    own = SoftwareAuthenticator()
    user = staff_with_passkey(app, own)
    stolen = authenticator.credentials[0]
    client = password_accepted(app, user)

    options = passkey_options(client, {"mode": "second_factor"})
    response = post_json(
        client, "/sign-in/passkey", {"credential": authenticator.get(options, credential=stolen)}
    )

    assert response.status_code == 401
    assert client.get("/admin/").status_code == 302
    client = fully_signed_in(app, user, own)
    options = post_json(client, "/account/confirm/passkey/options").get_json()
    answer = authenticator.get(options, credential=stolen)
    assert post_json(client, "/account/confirm/passkey", {"credential": answer}).status_code == 401
    assert [event.actor_id for event in events("sign_in.second_factor_failed")] == [user.id, user.id]


def test_a_passkey_nobody_has_is_refused_and_recorded(app):
    stranger = SoftwareAuthenticator()
    stranger.create(
        {
            "challenge": "",
            "user": {"id": b64url(b"someone")},
            "pubKeyCredParams": [{"alg": -7, "type": "public-key"}],
        }
    )

    response = sign_in_with(app.test_client(), stranger)

    assert (response.status_code, response.get_json()["error"]) == (401, "passkey_not_accepted")
    [failed] = events("sign_in.failed")
    assert (failed.actor_id, failed.actor_label) == (None, "unknown passkey")


def test_failed_passkey_attempts_count_towards_the_lockout(app, authenticator):
    user = staff_with_passkey(app, authenticator)
    limit = app.config["SIGN_IN_MAX_FAILURES"]
    statuses = []
    for _attempt in range(limit):
        client = app.test_client()
        options = passkey_options(client)
        answer = authenticator.get(options)
        answer["response"]["signature"] = b64url(
            b"\x30\x06\x02\x01\x01\x02\x01\x01"
        )  # a signature, not theirs
        statuses.append(post_json(client, "/sign-in/passkey", {"credential": answer}).status_code)

    assert statuses == [401] * (limit - 1) + [423]
    locked = sign_in_with(app.test_client(), authenticator)  # now even the right passkey waits
    assert (locked.status_code, locked.get_json()["error"]) == (423, "locked")
    assert events("staff_users.locked_out")[0].record_id == str(user.id)


def test_a_missing_csrf_token_is_refused_in_json(app):
    response = post_json(app.test_client(), "/sign-in/passkey/options", token="")
    assert (response.status_code, response.get_json()["error"]) == (400, "form_expired")


def test_a_body_too_large_is_refused_in_json(app):
    client = app.test_client()
    response = post_json(client, "/sign-in/passkey", raw=json.dumps({"credential": "x" * 100_000}).encode())
    assert (response.status_code, response.get_json()["error"]) == (413, "request_too_large")


def _credential_like(authenticator: SoftwareAuthenticator, options: dict, **changes) -> dict:
    answer = authenticator.get(options)
    response = changes.pop("response", {})
    if isinstance(response, dict):
        answer["response"].update(response)
    else:
        answer["response"] = response
    answer.update(changes)
    return answer


ODD_BODIES = {
    "empty": b"",
    "null": b"null",
    "a string": b'"credential"',
    "a list": b"[1, 2]",
    "a huge integer": b"9" * 5000,
    "a huge float": b"1e999",
    "nested deep": b"[" * 30_000 + b"]" * 30_000,  # past the parser's depth, inside the size allowed
    "invalid UTF-8": b'{"credential": "\xff\xfe"}',
    "not JSON": b"credential=1",
}
ODD_FIELDS = {
    "credential null": {"credential": None},
    "credential a string": {"credential": "abc"},
    "credential a number": {"credential": 2**200},
    "credential a list": {"credential": [None]},
    "next an object": {"credential": {}, "next": {"a": 1}},
    "name a number": {"credential": {}, "name": 12},
    "mode null": {"mode": None},
}
ODD_CREDENTIALS = {
    "id with NUL": {"id": "a\u0000b", "rawId": "a\u0000b"},
    "id a huge integer": {"id": 12345678901234567890123456789, "rawId": 10**30},
    "id a lone surrogate": {"id": "\ud800", "rawId": "\ud800"},
    "id too long": {"id": "A" * 5000, "rawId": "A" * 5000},
    "id not base64url": {"id": "!!!!", "rawId": "!!!!"},
    "response null": {"response": None},
    "signature not base64": {"response": {"signature": "%%%\u0000"}},
    "userHandle a number": {"response": {"userHandle": 7}},
    "clientDataJSON not JSON": {"response": {"clientDataJSON": b64url(b"\x00\xff")}},
    "authenticatorData short": {"response": {"authenticatorData": b64url(b"\x01")}},
    "type wrong": {"type": "password"},
}
ENDPOINTS = ("/sign-in/passkey", "/account/confirm/passkey", "/account/passkeys", "second factor")


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_odd_bodies_are_refused_in_json_never_with_a_500(app, authenticator, endpoint):
    user = staff_with_passkey(app, authenticator)
    client = password_accepted(app, user) if endpoint == "second factor" else app.test_client()
    if endpoint in ("/account/confirm/passkey", "/account/passkeys"):
        options = passkey_options(client)
        assert (
            post_json(client, "/sign-in/passkey", {"credential": authenticator.get(options)}).status_code
            == 200
        )
    url, options_url, mode = {
        "/sign-in/passkey": ("/sign-in/passkey", "/sign-in/passkey/options", {}),
        "second factor": ("/sign-in/passkey", "/sign-in/passkey/options", {"mode": "second_factor"}),
        "/account/confirm/passkey": (endpoint, "/account/confirm/passkey/options", {}),
        "/account/passkeys": (endpoint, "/account/passkeys/options", {}),
    }[endpoint]
    token = token_of(client)
    bodies = list(ODD_BODIES.values()) + [json.dumps(body).encode() for body in ODD_FIELDS.values()]
    problems = []
    for number in range(len(bodies) + len(ODD_CREDENTIALS)):
        db.session.execute(update(StaffUser).values(failed_sign_ins=0, locked_until=None))  # no lockout here
        db.session.commit()
        options = post_json(client, options_url, mode, token=token)
        if options.status_code != 200:
            problems.append(f"options: {options.status_code} {options.get_data(as_text=True)[:200]}")
            continue
        if number < len(bodies):
            label, raw = f"body {number}", bodies[number]
        else:
            label, changes = list(ODD_CREDENTIALS.items())[number - len(bodies)]
            raw = json.dumps(
                {"credential": _credential_like(authenticator, options.get_json(), **changes)}
            ).encode()
        response = post_json(client, url, raw=raw, token=token)
        answer = response.get_json(silent=True) or {}
        if response.status_code not in (400, 401) or not {"error", "message"} <= answer.keys():
            problems.append(f"{label}: {response.status_code} {response.get_data(as_text=True)[:200]}")
    assert problems == []


def test_options_asked_with_an_odd_body_are_refused_in_json(app):
    client = app.test_client()
    token = token_of(client)
    for raw in ODD_BODIES.values():
        response = post_json(client, "/sign-in/passkey/options", raw=raw, token=token)
        if raw.strip():
            assert response.status_code == 400 and response.get_json()["error"] == "malformed_request", raw[
                :20
            ]
        else:
            assert response.status_code == 200  # nothing said: a sign-in with a passkey alone


def test_the_pages_offer_passkeys_with_the_urls_of_their_ceremony(app, authenticator):
    user = staff_with_passkey(app, authenticator)
    sign_in_page = app.test_client().get("/sign-in?next=/admin/case/").get_data(as_text=True)
    assert 'data-url="/sign-in/passkey"' in sign_in_page and 'data-next="/admin/case/"' in sign_in_page
    assert text_of(sign_in_page, "passkey-sign-in").endswith("Sign in with a passkey")

    client = password_accepted(app, user)
    second_step = client.get("/sign-in/second-factor").get_data(as_text=True)
    assert 'data-mode="second_factor"' in text_between(second_step, "passkey-second-factor")

    client = fully_signed_in(app, user, authenticator)
    confirm_page = client.get("/account/confirm?next=/admin/staff/").get_data(as_text=True)
    widget = text_between(confirm_page, "passkey-second-factor")
    assert 'data-url="/account/confirm/passkey"' in widget and 'data-next="/admin/staff/"' in widget
    security = client.get("/account/security").get_data(as_text=True)
    assert 'data-url="/account/passkeys"' in text_between(security, "passkey-add")
    assert security.count('src="/static/passkeys.js"') == 1


def text_between(page: str, testid: str) -> str:
    """The opening tag of the element with this data-testid: its data- attributes."""
    found = re.search(rf'<div[^>]*data-testid="{testid}"[^>]*>', page)
    assert found, f"no {testid} on the page"
    return found.group()


# --------------------------------------------------------------------------------------------- in Chromium


@pytest.mark.browser
def test_a_clerk_adds_a_passkey_in_chromium_then_signs_in_and_confirms_with_it(app, live_server, browser):
    from playwright.sync_api import expect

    site = live_server.replace("127.0.0.1", "localhost")  # a relying party id is a host name, not an address
    clerk = create_staff("clerk", "western", full_name="Paula Passkey")
    page = browser.new_page(locale="en-CA")
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    authenticator = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )["authenticatorId"]
    page.goto(f"{site}/account/security")
    page.get_by_label("Email").fill(clerk.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(re.compile(r"/account/security$"))

    page.get_by_label("Name of the new passkey (optional)").fill("Work laptop")
    page.get_by_role("button", name="Add a passkey").click()
    expect(page.get_by_test_id("passkeys")).to_contain_text("Work laptop")
    stored = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator})["credentials"]
    assert len(stored) == 1 and stored[0]["isResidentCredential"]

    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    page.get_by_role("button", name="Sign in with a passkey").click()
    expect(page.get_by_test_id("who-am-i")).to_contain_text("Paula Passkey")

    # Confirming who one is before a sensitive action, with the same passkey.
    page.goto(f"{site}/account/confirm?next=/account/security")
    page.get_by_role("button", name="Use a passkey").click()
    expect(page).to_have_url(re.compile(r"/account/security$"))

    # The password, then the passkey as its second factor.
    page.get_by_role("button", name="Sign out").click()
    expect(page).to_have_url(re.compile(r"/sign-in$"))
    page.get_by_label("Email").fill(clerk.email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(re.compile(r"/sign-in/second-factor$"))
    page.get_by_role("button", name="Use a passkey").click()
    expect(page.get_by_test_id("who-am-i")).to_contain_text("Paula Passkey")
    assert [event.after["method"] for event in events("sign_in.succeeded")] == [
        "password",
        "passkey",
        "password_passkey",
    ]
