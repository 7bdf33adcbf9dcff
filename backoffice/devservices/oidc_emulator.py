"""An OpenID Connect provider emulator on 127.0.0.1: what a department's Microsoft Entra ID is to the back office.

It runs the whole authorization-code flow with PKCE (S256 only) as a real provider does, so the back office
signs in through the real client library: discovery, a sign-in page listing the people it knows, single-use
codes, RS256 ID tokens whose keys are published at /jwks, userinfo, and RP-initiated logout. Any http
redirect URI on 127.0.0.1 or localhost is accepted: it is a development emulator, not a registry of clients.

Tests can skip the page (`choose_automatically`), make the next ID token wrong (`tamper_next`,
`sign_next_with_unknown_key`), rotate the signing key, and read back the token calls and sign-outs.
Every authorization is a fresh sign-in (there is no provider session), so `prompt=login` and `max_age`
are always satisfied: auth_time is the moment the person was chosen.

Alone: python -m backoffice.devservices.oidc_emulator --port 6014 --client-id backoffice-dev \
--client-secret dev-oidc-secret
"""

import argparse
import base64
import hashlib
import hmac
import re
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus, urlencode, urlsplit

from flask import Flask, jsonify, redirect, render_template_string, request
from joserfc import jwt
from joserfc.jwk import RSAKey
from werkzeug.datastructures import MultiDict
from werkzeug.serving import BaseWSGIServer, make_server

from backoffice.devservices.processes import serve_until_interrupted

CODE_SECONDS = 60
ID_TOKEN_SECONDS = 300
ACCESS_TOKEN_SECONDS = 3600
KEY_SIZE = 2048
LOOPBACK_HOSTS = {"127.0.0.1", "localhost", "::1"}
CODE_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")  # RFC 7636, section 4.1
SCOPES = ["openid", "email", "profile"]
CLAIMS = [
    "iss",
    "sub",
    "aud",
    "exp",
    "iat",
    "auth_time",
    "nonce",
    "email",
    "email_verified",
    "name",
    "preferred_username",
    "groups",
]
# What a sign-in form carries from the authorization request to the choice of a person.
AUTHORIZATION_PARAMETERS = (
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
    "prompt",
    "max_age",
    "login_hint",
    "ui_locales",
)


@dataclass(frozen=True)
class Person:
    subject: str  # the stable "sub"
    email: str
    name: str
    email_verified: bool = True
    groups: tuple[str, ...] = ()


@dataclass
class Grant:
    """What an authorization code stands for, until it is exchanged once."""

    client_id: str
    redirect_uri: str
    code_challenge: str
    nonce: str | None
    scope: str
    subject: str
    auth_time: int
    expires_at: float
    used: bool = False
    access_token: str | None = None


class OidcEmulator:
    def __init__(
        self, client_id: str, client_secret: str, people: list[Person], issuer: str | None = None
    ) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.issuer = issuer  # set by serve_in_thread when None
        self.people: dict[str, Person] = {person.subject: person for person in people}
        self.keys: list[RSAKey] = [_new_key()]  # the last one signs; the last two are published
        self.codes: dict[str, Grant] = {}
        self.access_tokens: dict[str, tuple[str, float]] = {}  # token -> (subject, expires at)
        self.signed_out: list[dict[str, str | None]] = []
        self.token_requests: list[dict[str, str | None]] = []
        self.tampering: dict[str, Any] = {}
        self.unknown_key_next = False
        self.automatic_subject: str | None = None
        self.lock = threading.Lock()
        self.app = self._build_app()

    def add_person(self, person: Person) -> None:
        with self.lock:
            self.people[person.subject] = person

    def rotate_keys(self) -> None:
        """A new key signs from now on; the previous one stays published, as providers do during rotation."""
        key = _new_key()
        with self.lock:
            self.keys.append(key)

    def tamper_next(self, **claims: Any) -> None:
        """The next ID token issued has these claims replaced or added; a None value removes the claim."""
        with self.lock:
            self.tampering.update(claims)

    def sign_next_with_unknown_key(self) -> None:
        """The next ID token issued is signed with a key (and kid) that /jwks never lists."""
        with self.lock:
            self.unknown_key_next = True

    def choose_automatically(self, subject: str | None) -> None:
        """GET /authorize signs in as this person at once, without the page (even with prompt=login); None shows
        the page again."""
        with self.lock:
            if subject is not None and subject not in self.people:
                raise ValueError(f"no person with subject {subject!r}")
            self.automatic_subject = subject

    def _build_app(self) -> Flask:
        app = Flask("oidc_emulator")

        @app.get("/.well-known/openid-configuration")
        def discovery():
            return jsonify(self._discovery(self._issuer()))

        @app.route("/authorize", methods=["GET", "POST"])
        def authorize():
            return self._authorize(request.values)

        @app.post("/token")
        def token():
            body, status = self._exchange(request.form)
            with self.lock:
                self.token_requests.append(
                    {"code": request.form.get("code"), "outcome": body.get("error", "issued")}
                )
            return _no_store(jsonify(body), status)

        @app.get("/jwks")
        def jwks():
            with self.lock:
                published = self.keys[-2:]
            return jsonify({"keys": [key.as_dict(private=False) for key in published]})

        @app.route("/userinfo", methods=["GET", "POST"])
        def userinfo():
            return self._userinfo(request.headers.get("Authorization", ""))

        @app.route("/logout", methods=["GET", "POST"])
        def logout():
            return self._logout(request.values)

        return app

    def _issuer(self) -> str:
        return self.issuer or request.host_url.rstrip("/")

    @staticmethod
    def _discovery(issuer: str) -> dict[str, Any]:
        """The endpoints are under the issuer, so an issuer given by hand names where the emulator listens
        (with no path: it serves at the root)."""
        base = issuer.rstrip("/")
        return {
            "issuer": issuer,
            "authorization_endpoint": f"{base}/authorize",
            "token_endpoint": f"{base}/token",
            "jwks_uri": f"{base}/jwks",
            "userinfo_endpoint": f"{base}/userinfo",
            "end_session_endpoint": f"{base}/logout",
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "scopes_supported": SCOPES,
            "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
            "code_challenge_methods_supported": ["S256"],
            "claims_supported": CLAIMS,
            "prompt_values_supported": ["none", "login"],
        }

    # The authorization endpoint

    def _authorize(self, params: MultiDict):
        unanswerable = self._unanswerable(params)
        if unanswerable:
            return _refused_page(unanswerable)
        problem = _authorization_problem(params)
        if problem:
            return _redirect_back(params, error=problem[0], error_description=problem[1])
        if request.method == "POST":
            return self._chosen(params)
        with self.lock:
            subject = self.automatic_subject
        if subject:
            return self._sign_in(params, subject)
        if "none" in params.get("prompt", "").split():
            return _redirect_back(params, error="login_required", error_description="No one is signed in.")
        return self._sign_in_page(params)

    def _unanswerable(self, params: MultiDict) -> str | None:
        """Problems that must not be sent back to the redirect URI (RFC 6749, section 4.1.2.1): shown instead."""
        if params.get("client_id") != self.client_id:
            return f"Unknown client_id: {params.get('client_id')!r}."
        if not _is_loopback_http(params.get("redirect_uri", "")):
            return "redirect_uri must be an http URI on 127.0.0.1 or localhost, without a fragment."
        return None

    def _chosen(self, params: MultiDict):
        if "refuse" in params:
            return _redirect_back(params, error="access_denied", error_description="The person cancelled.")
        subject = params.get("subject", "")
        with self.lock:
            known = subject in self.people
        return self._sign_in(params, subject) if known else _refused_page(f"Unknown person: {subject!r}.")

    def _sign_in(self, params: MultiDict, subject: str):
        code = secrets.token_urlsafe(32)
        grant = Grant(
            client_id=params["client_id"],
            redirect_uri=params["redirect_uri"],
            code_challenge=params["code_challenge"],
            nonce=params.get("nonce"),
            scope=" ".join(params["scope"].split()),
            subject=subject,
            auth_time=int(time.time()),
            expires_at=time.time() + CODE_SECONDS,
        )
        with self.lock:
            self.codes[code] = grant
        return _redirect_back(params, code=code)

    def _sign_in_page(self, params: MultiDict):
        with self.lock:
            people = list(self.people.values())
        carried = {name: params[name] for name in AUTHORIZATION_PARAMETERS if name in params}
        return render_template_string(SIGN_IN_PAGE, people=people, carried=carried)

    # The token endpoint

    def _exchange(self, form: MultiDict) -> tuple[dict[str, Any], int]:
        if form.get("grant_type") != "authorization_code":
            return _oauth_error("unsupported_grant_type", "Only authorization_code is supported."), 400
        client_id = self._authenticated_client(form)
        if client_id is None:
            return _oauth_error("invalid_client", "Client authentication failed."), 401
        if not form.get("code"):
            return _oauth_error("invalid_request", "code is required."), 400
        with self.lock:
            grant = self.codes.get(form["code"])
            problem = _grant_problem(grant, client_id, form)
            if problem:
                if grant and grant.used and grant.access_token:
                    # RFC 6749, section 4.1.2: a code used twice revokes what it gave.
                    self.access_tokens.pop(grant.access_token, None)
                return _oauth_error("invalid_grant", problem), 400
            grant.used = True
            grant.access_token = secrets.token_urlsafe(32)
            self.access_tokens[grant.access_token] = (grant.subject, time.time() + ACCESS_TOKEN_SECONDS)
            person = self.people[grant.subject]
            tampering, self.tampering = self.tampering, {}
            key = self._next_signing_key()
        return self._token_response(grant, person, tampering, key), 200

    def _authenticated_client(self, form: MultiDict) -> str | None:
        """The client's id when it authenticated with its secret, by HTTP Basic or by form fields."""
        basic = request.authorization
        if basic is not None and basic.type == "basic":
            # RFC 6749, section 2.3.1: both are form-encoded before they are put in the header.
            client_id, secret = unquote_plus(basic.username or ""), unquote_plus(basic.password or "")
        else:
            client_id, secret = form.get("client_id", ""), form.get("client_secret", "")
        if client_id == self.client_id and hmac.compare_digest(secret.encode(), self.client_secret.encode()):
            return client_id
        return None

    def _next_signing_key(self) -> RSAKey:
        """Called with the lock held."""
        if self.unknown_key_next:
            self.unknown_key_next = False
            return _new_key()
        return self.keys[-1]

    def _token_response(
        self, grant: Grant, person: Person, tampering: dict[str, Any], key: RSAKey
    ) -> dict[str, Any]:
        now = int(time.time())
        claims = {
            "iss": self._issuer(),
            "sub": person.subject,
            "aud": grant.client_id,
            "exp": now + ID_TOKEN_SECONDS,
            "iat": now,
            "auth_time": grant.auth_time,
            "nonce": grant.nonce,
            "email": person.email,
            "email_verified": person.email_verified,
            "name": person.name,
            "preferred_username": person.email,
            "groups": list(person.groups),
        } | tampering
        claims = {name: value for name, value in claims.items() if value is not None}
        return {
            "access_token": grant.access_token,
            "token_type": "Bearer",
            "expires_in": ACCESS_TOKEN_SECONDS,
            "id_token": jwt.encode({"alg": "RS256", "kid": key.kid}, claims, key),
            "scope": grant.scope,
        }

    # Userinfo and logout

    def _userinfo(self, authorization: str):
        token = authorization[7:] if authorization.startswith("Bearer ") else ""
        with self.lock:
            subject, expires_at = self.access_tokens.get(token, ("", 0.0))
            person = self.people.get(subject)
        if person is None or expires_at < time.time():
            response = jsonify(_oauth_error("invalid_token", "The access token is unknown or expired."))
            response.headers["WWW-Authenticate"] = 'Bearer error="invalid_token"'
            return response, 401
        return jsonify(
            {
                "sub": person.subject,
                "email": person.email,
                "email_verified": person.email_verified,
                "name": person.name,
                "groups": list(person.groups),
            }
        )

    def _logout(self, params: MultiDict):
        back_to, state = params.get("post_logout_redirect_uri"), params.get("state")
        with self.lock:
            self.signed_out.append(
                {
                    "id_token_hint": params.get("id_token_hint"),
                    "post_logout_redirect_uri": back_to,
                    "state": state,
                }
            )
        if back_to and _is_loopback_http(back_to):
            return redirect(_with_query(back_to, state=state), 302)
        return render_template_string(SIGNED_OUT_PAGE)


def _new_key() -> RSAKey:
    return RSAKey.generate_key(KEY_SIZE, parameters={"use": "sig", "alg": "RS256"}, auto_kid=True)


def _is_loopback_http(uri: str) -> bool:
    try:
        parts = urlsplit(uri)
        return parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS and not parts.fragment
    except ValueError:
        return False


def _authorization_problem(params: MultiDict) -> tuple[str, str] | None:
    """(error, description) for a request that can be answered at its redirect URI but not granted."""
    if params.get("response_type") != "code":
        return "unsupported_response_type", "Only response_type=code is supported."
    if "openid" not in params.get("scope", "").split():
        return "invalid_scope", "The scope must include openid."
    if not params.get("code_challenge") or params.get("code_challenge_method") != "S256":
        return "invalid_request", "PKCE is required: code_challenge with code_challenge_method=S256."
    if "max_age" in params and not params["max_age"].isdigit():
        return "invalid_request", "max_age must be a number of seconds."
    prompt = params.get("prompt", "").split()
    if "none" in prompt and len(prompt) > 1:
        return "invalid_request", "prompt=none cannot be combined with other values."
    return None


def _grant_problem(grant: Grant | None, client_id: str, form: MultiDict) -> str | None:
    if grant is None:
        return "The authorization code is unknown."
    if grant.used:
        return "The authorization code has already been used."
    if grant.expires_at < time.time():
        return "The authorization code has expired."
    if grant.client_id != client_id:
        return "The authorization code was issued to another client."
    if grant.redirect_uri != form.get("redirect_uri"):
        return "redirect_uri is not the one of the authorization request."
    verifier = form.get("code_verifier", "")
    if not CODE_VERIFIER.match(verifier):
        return "code_verifier is required: 43 to 128 unreserved characters."
    if not hmac.compare_digest(s256(verifier), grant.code_challenge):
        return "code_verifier does not match the code_challenge."
    return None


def s256(verifier: str) -> str:
    """The S256 code challenge of a PKCE code verifier (RFC 7636, section 4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def _with_query(uri: str, **values: str | None) -> str:
    query = urlencode({name: value for name, value in values.items() if value is not None})
    if not query:
        return uri
    return f"{uri}{'&' if urlsplit(uri).query else '?'}{query}"


def _redirect_back(params: MultiDict, **values: str):
    return redirect(_with_query(params["redirect_uri"], **values, state=params.get("state")), 302)


def _oauth_error(error: str, description: str) -> dict[str, str]:
    return {"error": error, "error_description": description}


def _no_store(response, status: int):
    response.headers["Cache-Control"] = "no-store"
    response.headers["Pragma"] = "no-cache"
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Basic realm="oidc-emulator"'
    return response, status


def _refused_page(problem: str):
    return render_template_string(REFUSED_PAGE, problem=problem), 400


PAGE_HEAD = """<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{ title }}</title>
<style>
body { font-family: sans-serif; max-width: 36rem; margin: 3rem auto; padding: 0 1rem; }
button { display: block; width: 100%; margin: 0.5rem 0; padding: 0.75rem; text-align: left; font-size: 1rem; }
.email { color: #555; }
</style></head>
<body>
"""

SIGN_IN_PAGE = (
    PAGE_HEAD.replace("{{ title }}", "Department sign-in (emulator) / Connexion ministérielle (émulateur)")
    + """<h1>Department sign-in (emulator)</h1>
<p lang="fr"><strong>Connexion ministérielle (émulateur)</strong></p>
<p>Choose who signs in. / <span lang="fr">Choisissez qui se connecte.</span></p>
<form method="post" action="/authorize">
{% for name, value in carried.items() %}<input type="hidden" name="{{ name }}" value="{{ value }}">
{% endfor %}
{% for person in people %}<button type="submit" name="subject" value="{{ person.subject }}">
<strong>{{ person.name }}</strong> <span class="email">{{ person.email }}</span></button>
{% else %}<p>No one to sign in as. / <span lang="fr">Personne ne peut se connecter.</span></p>
{% endfor %}
<button type="submit" name="refuse" value="1">Cancel / <span lang="fr">Annuler</span></button>
</form>
</body></html>
"""
)

REFUSED_PAGE = (
    PAGE_HEAD.replace("{{ title }}", "Sign-in refused / Connexion refusée")
    + """<h1>Sign-in request refused</h1>
<p lang="fr"><strong>Demande de connexion refusée</strong></p>
<p><code>{{ problem }}</code></p>
</body></html>
"""
)

SIGNED_OUT_PAGE = (
    PAGE_HEAD.replace("{{ title }}", "Signed out / Déconnexion")
    + """<h1>You are signed out of the department</h1>
<p lang="fr">Vous êtes déconnecté du ministère.</p>
</body></html>
"""
)


def serve_in_thread(emulator: OidcEmulator, port: int = 0) -> BaseWSGIServer:
    """Start the emulator on 127.0.0.1; returns the server (its port is server.server_port). An emulator made
    without an issuer gets http://127.0.0.1:<port>."""
    server = make_server("127.0.0.1", port, emulator.app, threaded=True)
    if emulator.issuer is None:
        emulator.issuer = f"http://127.0.0.1:{server.server_port}"
    # A short poll interval lets shutdown() return at once rather than after up to half a second.
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01}, daemon=True).start()
    return server


EXAMPLE_PEOPLE = [
    Person("emulator-0001", "alex.tremblay@staff.example", "Alex Tremblay", groups=("backoffice-clerks",)),
    Person("emulator-0002", "sam.gagnon@staff.example", "Sam Gagnon", groups=("backoffice-supervisors",)),
]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="OpenID Connect provider emulator on 127.0.0.1")
    parser.add_argument("--port", type=int, default=6014)
    parser.add_argument("--client-id", default="backoffice-dev")
    parser.add_argument("--client-secret", default="dev-oidc-secret")
    parser.add_argument("--issuer", help="default: http://127.0.0.1:<port>")
    arguments = parser.parse_args(argv)
    emulator = OidcEmulator(arguments.client_id, arguments.client_secret, EXAMPLE_PEOPLE, arguments.issuer)
    server = make_server("127.0.0.1", arguments.port, emulator.app, threaded=True)
    emulator.issuer = emulator.issuer or f"http://127.0.0.1:{server.server_port}"
    serve_until_interrupted(
        server, f"OpenID Connect emulator: {emulator.issuer}/.well-known/openid-configuration"
    )


if __name__ == "__main__":
    main()
