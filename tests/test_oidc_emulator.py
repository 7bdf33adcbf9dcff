"""The OpenID Connect provider emulator alone, driven over loopback with `requests` and PKCE made by hand: the
shapes a real client library expects, and the faults tests ask it for."""

import base64
import hashlib
import html
import re
import secrets
import time
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
import requests

from backoffice.devservices.oidc_emulator import OidcEmulator, Person, serve_in_thread

CLIENT_ID = "backoffice-test"
CLIENT_SECRET = "test-oidc-secret"
REDIRECT_URI = "http://127.0.0.1:5000/auth/callback"
CLERK = Person("sub-clerk-1", "alex.tremblay@staff.example", "Alex Tremblay", groups=("backoffice-clerks",))
SUPERVISOR = Person("sub-supervisor-2", "sam.gagnon@staff.example", "Sam Gagnon", email_verified=False)
HIDDEN_FIELD = re.compile(r'<input type="hidden" name="([^"]*)" value="([^"]*)">')


@dataclass
class Provider:
    emulator: OidcEmulator
    issuer: str


@pytest.fixture
def provider() -> Iterator[Provider]:
    emulator = OidcEmulator(CLIENT_ID, CLIENT_SECRET, [CLERK, SUPERVISOR])
    server = serve_in_thread(emulator)
    yield Provider(emulator, f"http://127.0.0.1:{server.server_port}")
    server.shutdown()
    server.server_close()


def pkce() -> tuple[str, str]:
    """(code_verifier, S256 code_challenge), as RFC 7636 makes them."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def authorization_request(challenge: str, **overrides: str | None) -> dict[str, str]:
    params = {
        "client_id": CLIENT_ID,
        "redirect_uri": REDIRECT_URI,
        "response_type": "code",
        "scope": "openid email profile",
        "state": "state-123",
        "nonce": "nonce-456",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
    } | overrides
    return {name: value for name, value in params.items() if value is not None}


def answer(response: requests.Response) -> dict[str, list[str]]:
    """The query of the redirect back to the client."""
    assert response.status_code == 302, response.text
    location = response.headers["Location"]
    assert location.startswith(REDIRECT_URI + "?"), location
    return parse_qs(urlsplit(location).query)


def sign_in(provider: Provider, person: Person = CLERK, **overrides: str | None) -> tuple[str, str]:
    """Through the page, as a person would: (code, code_verifier)."""
    verifier, challenge = pkce()
    page = requests.get(
        f"{provider.issuer}/authorize", params=authorization_request(challenge, **overrides), timeout=5
    )
    assert page.status_code == 200, page.text
    carried = {name: html.unescape(value) for name, value in HIDDEN_FIELD.findall(page.text)}
    chosen = requests.post(
        f"{provider.issuer}/authorize",
        data=carried | {"subject": person.subject},
        allow_redirects=False,
        timeout=5,
    )
    return answer(chosen)["code"][0], verifier


def exchange(provider: Provider, code: str, verifier: str, **overrides: str) -> requests.Response:
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
    }
    return requests.post(
        f"{provider.issuer}/token", data=form | overrides, auth=(CLIENT_ID, CLIENT_SECRET), timeout=5
    )


def id_token_of(provider: Provider, code: str, verifier: str) -> str:
    response = exchange(provider, code, verifier)
    assert response.status_code == 200, response.text
    return response.json()["id_token"]


def verified_claims(provider: Provider, id_token: str) -> dict:
    key = jwt.PyJWKClient(f"{provider.issuer}/jwks").get_signing_key_from_jwt(id_token)
    return jwt.decode(id_token, key, algorithms=["RS256"], audience=CLIENT_ID, issuer=provider.issuer)


def test_discovery_names_every_endpoint_under_the_issuer(provider):
    found = requests.get(f"{provider.issuer}/.well-known/openid-configuration", timeout=5).json()

    assert provider.emulator.issuer == provider.issuer
    assert found["issuer"] == provider.issuer
    assert {name: found[name] for name in ("authorization_endpoint", "token_endpoint", "jwks_uri")} == {
        "authorization_endpoint": f"{provider.issuer}/authorize",
        "token_endpoint": f"{provider.issuer}/token",
        "jwks_uri": f"{provider.issuer}/jwks",
    }
    assert found["userinfo_endpoint"] == f"{provider.issuer}/userinfo"
    assert found["end_session_endpoint"] == f"{provider.issuer}/logout"
    assert found["response_types_supported"] == ["code"]
    assert found["id_token_signing_alg_values_supported"] == ["RS256"]
    assert found["code_challenge_methods_supported"] == ["S256"]
    assert set(found["token_endpoint_auth_methods_supported"]) == {
        "client_secret_basic",
        "client_secret_post",
    }
    assert {"sub", "email", "nonce", "groups"} <= set(found["claims_supported"])


def test_the_sign_in_page_lists_each_person_in_both_languages_and_a_choice_gives_a_code_and_the_state(
    provider,
):
    _verifier, challenge = pkce()
    page = requests.get(f"{provider.issuer}/authorize", params=authorization_request(challenge), timeout=5)

    assert page.status_code == 200
    assert "Department sign-in (emulator)" in page.text and "Connexion ministérielle (émulateur)" in page.text
    for person in (CLERK, SUPERVISOR):
        assert f'name="subject" value="{person.subject}"' in page.text
        assert person.name in page.text and person.email in page.text
    assert "<script" not in page.text
    carried = dict(HIDDEN_FIELD.findall(page.text))
    assert carried["code_challenge"] == challenge and carried["nonce"] == "nonce-456"

    chosen = requests.post(
        f"{provider.issuer}/authorize",
        data=carried | {"subject": CLERK.subject},
        allow_redirects=False,
        timeout=5,
    )
    back = answer(chosen)
    assert back["state"] == ["state-123"] and len(back["code"][0]) >= 32


def test_an_exchanged_code_gives_an_id_token_signed_with_a_published_key_carrying_the_person_and_nonce(
    provider,
):
    code, verifier = sign_in(provider)
    before = int(time.time())

    response = exchange(provider, code, verifier)

    assert response.status_code == 200, response.text
    assert response.headers["Cache-Control"] == "no-store"
    tokens = response.json()
    assert tokens["token_type"] == "Bearer" and tokens["expires_in"] == 3600
    assert tokens["scope"] == "openid email profile"
    assert jwt.get_unverified_header(tokens["id_token"])["kid"]
    claims = verified_claims(provider, tokens["id_token"])
    assert {name: claims[name] for name in ("sub", "aud", "nonce", "email", "email_verified", "name")} == {
        "sub": CLERK.subject,
        "aud": CLIENT_ID,
        "nonce": "nonce-456",
        "email": CLERK.email,
        "email_verified": True,
        "name": CLERK.name,
    }
    assert claims["preferred_username"] == CLERK.email and claims["groups"] == ["backoffice-clerks"]
    assert before - 1 <= claims["auth_time"] <= claims["iat"] and claims["exp"] == claims["iat"] + 300
    assert provider.emulator.token_requests == [{"code": code, "outcome": "issued"}]


def test_userinfo_answers_for_the_access_token_and_refuses_any_other(provider):
    code, verifier = sign_in(provider, SUPERVISOR)
    access_token = exchange(provider, code, verifier).json()["access_token"]

    found = requests.get(
        f"{provider.issuer}/userinfo", headers={"Authorization": f"Bearer {access_token}"}, timeout=5
    )
    refused = requests.get(
        f"{provider.issuer}/userinfo", headers={"Authorization": "Bearer forged"}, timeout=5
    )

    assert found.json() == {
        "sub": SUPERVISOR.subject,
        "email": SUPERVISOR.email,
        "email_verified": False,
        "name": SUPERVISOR.name,
        "groups": [],
    }
    assert refused.status_code == 401 and refused.json()["error"] == "invalid_token"


def test_the_client_may_authenticate_with_form_fields_rather_than_basic(provider):
    code, verifier = sign_in(provider)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": REDIRECT_URI,
        "code_verifier": verifier,
        "client_id": CLIENT_ID,
        "client_secret": CLIENT_SECRET,
    }

    response = requests.post(f"{provider.issuer}/token", data=form, timeout=5)

    assert response.status_code == 200, response.text


def test_a_code_used_twice_is_refused_and_what_it_gave_is_revoked(provider):
    code, verifier = sign_in(provider)
    access_token = exchange(provider, code, verifier).json()["access_token"]

    replayed = exchange(provider, code, verifier)

    assert replayed.status_code == 400 and replayed.json()["error"] == "invalid_grant"
    assert replayed.json()["error_description"]
    userinfo = requests.get(
        f"{provider.issuer}/userinfo", headers={"Authorization": f"Bearer {access_token}"}, timeout=5
    )
    assert userinfo.status_code == 401
    assert [call["outcome"] for call in provider.emulator.token_requests] == ["issued", "invalid_grant"]


def test_a_wrong_code_verifier_is_refused(provider):
    code, _verifier = sign_in(provider)
    other_verifier, _challenge = pkce()

    response = exchange(provider, code, other_verifier)

    assert response.status_code == 400 and response.json()["error"] == "invalid_grant"


def test_a_code_is_refused_at_another_redirect_uri_or_once_expired(provider):
    code, verifier = sign_in(provider)
    elsewhere = exchange(provider, code, verifier, redirect_uri="http://127.0.0.1:5000/elsewhere")
    provider.emulator.codes[code].expires_at = time.time() - 1  # rather than wait the 60 s out

    expired = exchange(provider, code, verifier)

    assert elsewhere.json()["error"] == "invalid_grant" and expired.json()["error"] == "invalid_grant"
    assert "expired" in expired.json()["error_description"]


def test_a_wrong_client_secret_is_refused_with_401(provider):
    code, verifier = sign_in(provider)

    response = requests.post(
        f"{provider.issuer}/token",
        data={
            "grant_type": "authorization_code",
            "code": code,
            "redirect_uri": REDIRECT_URI,
            "code_verifier": verifier,
        },
        auth=(CLIENT_ID, "not-the-secret"),
        timeout=5,
    )

    assert response.status_code == 401 and response.json()["error"] == "invalid_client"
    assert provider.emulator.token_requests == [{"code": code, "outcome": "invalid_client"}]
    assert exchange(provider, code, verifier).status_code == 200  # the code was not spent


def ask_to_authorize(provider, overrides: dict[str, str | None]) -> requests.Response:
    _verifier, challenge = pkce()
    return requests.get(
        f"{provider.issuer}/authorize",
        params=authorization_request(challenge, **overrides),
        allow_redirects=False,
        timeout=5,
    )


@pytest.mark.parametrize(
    ("overrides", "error"),
    [
        ({"code_challenge": None, "code_challenge_method": None}, "invalid_request"),
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"scope": "email profile"}, "invalid_scope"),
        ({"response_type": "token"}, "unsupported_response_type"),
    ],
)
def test_a_request_without_pkce_or_openid_is_sent_back_with_an_error_and_the_state(
    provider, overrides, error
):
    response = ask_to_authorize(provider, overrides)

    back = answer(response)
    assert back["error"] == [error] and back["state"] == ["state-123"] and "code" not in back


@pytest.mark.parametrize(
    "overrides",
    [
        {"client_id": "someone-else"},
        {"redirect_uri": "https://attacker.example/callback"},
        {"redirect_uri": None},
    ],
)
def test_an_unknown_client_or_a_foreign_redirect_uri_gets_a_page_never_a_redirect(provider, overrides):
    response = ask_to_authorize(provider, overrides)

    assert response.status_code == 400 and "Location" not in response.headers
    assert "Demande de connexion refusée" in response.text


def test_choosing_automatically_skips_the_page_and_cancelling_answers_access_denied(provider):
    _verifier, challenge = pkce()
    request = authorization_request(challenge, prompt="login")
    cancelled = requests.post(
        f"{provider.issuer}/authorize", data=request | {"refuse": "1"}, allow_redirects=False, timeout=5
    )
    nobody = requests.get(
        f"{provider.issuer}/authorize", params=request | {"prompt": "none"}, allow_redirects=False, timeout=5
    )
    provider.emulator.choose_automatically(SUPERVISOR.subject)

    automatic = requests.get(f"{provider.issuer}/authorize", params=request, allow_redirects=False, timeout=5)

    assert answer(cancelled)["error"] == ["access_denied"]
    assert answer(nobody)["error"] == ["login_required"]
    assert provider.emulator.codes[answer(automatic)["code"][0]].subject == SUPERVISOR.subject


def test_tamper_next_changes_the_next_id_token_only(provider):
    provider.emulator.tamper_next(nonce="wrong", aud="someone-else", email_verified=None)

    tampered = jwt.decode(id_token_of(provider, *sign_in(provider)), options={"verify_signature": False})
    following = verified_claims(provider, id_token_of(provider, *sign_in(provider)))

    assert tampered["nonce"] == "wrong" and tampered["aud"] == "someone-else"
    assert "email_verified" not in tampered
    assert following["nonce"] == "nonce-456" and following["email_verified"] is True


def test_sign_next_with_unknown_key_applies_to_one_id_token(provider):
    provider.emulator.sign_next_with_unknown_key()

    unknown = id_token_of(provider, *sign_in(provider))
    following = id_token_of(provider, *sign_in(provider))

    published = {key["kid"] for key in requests.get(f"{provider.issuer}/jwks", timeout=5).json()["keys"]}
    assert jwt.get_unverified_header(unknown)["kid"] not in published
    with pytest.raises(jwt.PyJWKClientError):
        verified_claims(provider, unknown)
    assert verified_claims(provider, following)["sub"] == CLERK.subject


def test_rotated_keys_sign_with_the_new_key_and_keep_the_previous_one_published(provider):
    before_rotation = id_token_of(provider, *sign_in(provider))
    provider.emulator.rotate_keys()

    after_rotation = id_token_of(provider, *sign_in(provider))

    keys = requests.get(f"{provider.issuer}/jwks", timeout=5).json()["keys"]
    assert len(keys) == 2
    assert all(key["kty"] == "RSA" and key["use"] == "sig" and key["alg"] == "RS256" for key in keys)
    assert all("d" not in key for key in keys)  # public keys only
    old_kid, new_kid = (
        jwt.get_unverified_header(token)["kid"] for token in (before_rotation, after_rotation)
    )
    assert old_kid != new_kid and {key["kid"] for key in keys} == {old_kid, new_kid}
    assert (
        verified_claims(provider, before_rotation)["sub"] == verified_claims(provider, after_rotation)["sub"]
    )


def test_logout_is_recorded_and_goes_back_to_a_loopback_uri_with_the_state(provider):
    back_to = "http://localhost:5000/signed-out"

    returned = requests.get(
        f"{provider.issuer}/logout",
        params={
            "id_token_hint": "token-1",
            "post_logout_redirect_uri": back_to,
            "state": "s-1",
            "client_id": CLIENT_ID,
        },
        allow_redirects=False,
        timeout=5,
    )
    stayed = requests.get(
        f"{provider.issuer}/logout",
        params={"post_logout_redirect_uri": "https://elsewhere.example/"},
        timeout=5,
    )

    assert returned.status_code == 302 and returned.headers["Location"] == f"{back_to}?state=s-1"
    assert stayed.status_code == 200 and "You are signed out of the department" in stayed.text
    assert "Vous êtes déconnecté du ministère" in stayed.text
    assert provider.emulator.signed_out == [
        {"id_token_hint": "token-1", "post_logout_redirect_uri": back_to, "state": "s-1"},
        {"id_token_hint": None, "post_logout_redirect_uri": "https://elsewhere.example/", "state": None},
    ]
