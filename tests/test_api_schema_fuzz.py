"""The portal API holds to its OpenAPI document whatever it is sent.

Schemathesis reads /api/v1/openapi.json from the application and runs what `schemathesis run` runs (examples,
coverage, fuzzing, then stateful sequences along the document's links) with every check, in process through
WSGI. Its data is derived from a fixed seed, so a failure is seen again on the next run.
"""

from collections import Counter
from collections.abc import Callable, Iterable

import schemathesis
from flask import Flask
from schemathesis.engine import Status, events, from_schema
from schemathesis.transport.wsgi import WSGITransport

from tests.factories import create_filer, create_portal_client, create_submission, registration_with_code

MAX_EXAMPLES = 40
# A request the schema allows may still be refused by a rule the schema cannot state: an unknown invitation
# code, case or account (422), a file that is not a PDF (415). Both are documented answers of the API.
REFUSED_BY_A_RULE = ["422", "415"]


def test_the_api_answers_as_its_document_says_in_every_schemathesis_phase(app, capsys, monkeypatch):
    monkeypatch.setattr(WSGITransport, "send", _send_without_socket_settings(WSGITransport.send))
    token = create_portal_client("My Case portal")
    schema = schemathesis.openapi.from_wsgi(
        "/api/v1/openapi.json",
        fresh_context_per_request(app),
        config=schemathesis_config(token, known_values()),
        headers={"Authorization": f"Bearer {token}"},
    )
    failures, phases, statuses = [], Counter(), Counter()
    for event in from_schema(schema).execute():
        if isinstance(event, events.FatalError):
            raise event.exception
        if isinstance(event, events.NonFatalError):
            failures.append(f"{event.label}: {event.info.message}")
        if isinstance(event, events.ScenarioFinished):
            phases[event.phase.value] += len(event.recorder.cases)
            statuses.update(_statuses(event.recorder.interactions.values()))
            failures.extend(f"[{event.phase.value}] {failure}" for failure in _failed_checks(event.recorder))
    with capsys.disabled():
        print(
            f"\nschemathesis: cases by phase {dict(phases)}; answers by status {dict(sorted(statuses.items()))}"
        )
    assert set(phases) >= {"examples", "coverage", "fuzzing", "stateful"}
    assert not failures, "\n\n".join(dict.fromkeys(failures))


def known_values() -> dict[str, list[str]]:
    """Records that exist, so that some requests get past "unknown" and the links lead somewhere: an
    account with a case it may file on, a submission, invitation codes still to redeem."""
    filer = create_filer("western", "RPD")
    codes = [registration_with_code("western")[1] for _ in range(2)]
    return {
        "body.code": codes,
        "body.portal_account_id": [filer.public_id],
        "path.portal_account_id": [filer.public_id],
        "body.case_file_number": [filer.case.file_number],
        "path.submission_id": [create_submission(filer).public_id],
    }


def schemathesis_config(token: str, known: dict[str, list[str]]) -> schemathesis.Config:
    generation = {"mode": "all", "max-examples": MAX_EXAMPLES, "deterministic": True, "database": "none"}
    return schemathesis.Config.from_dict(
        {
            "seed": 20260105,
            "headers": {"Authorization": f"Bearer {token}"},
            "dictionaries": {name: {"values": values} for name, values in known.items()},
            "parameters": {name: {"dictionary": name, "probability": 0.5} for name in known},
            "generation": generation,
            "checks": {"enabled": True, "positive_data_acceptance": {"expected-statuses": _accepted()}},
            "phases": {
                "examples": {"enabled": True},
                "coverage": {"enabled": True},
                "fuzzing": {"enabled": True},
                "stateful": {"enabled": True, "max-steps": 6},
            },
        }
    )


def _accepted() -> list[str]:
    return ["2xx", "3xx", "401", "403", "404", "409", "429", *REFUSED_BY_A_RULE]


def fresh_context_per_request(app: Flask) -> Callable:
    """Each request in its own application context, as in production (the test keeps one open for itself)."""

    def wsgi(environ, start_response):
        with app.app_context():
            return list(app(environ, start_response))

    return wsgi


def _send_without_socket_settings(send: Callable) -> Callable:
    """Schemathesis 4.32.5 drops the network-only settings (max_redirects, verify, cert) before calling a
    WSGI application, except when the ignored_auth check resends a request without its token: werkzeug then
    refuses them and the check errs instead of running. They mean nothing in process, so they go here too."""

    def send_in_process(self, case, *, session=None, **kwargs):
        for name in ("max_redirects", "verify", "cert", "proxies"):
            kwargs.pop(name, None)
        return send(self, case, session=session, **kwargs)

    return send_in_process


def _failed_checks(recorder) -> list[str]:
    failed = []
    for case_id, checks in recorder.checks.items():
        for check in checks:
            if check.status not in (Status.FAILURE, Status.ERROR):
                continue
            if check.failure_info is None:
                failed.append(f"{recorder.label} [{check.name}] {check.status.value} on case {case_id}")
            else:
                failure = check.failure_info.failure
                failed.append(
                    f"{recorder.label} [{check.name}] {failure.title}\n{failure.message}\n"
                    f"{check.failure_info.code_sample}"
                )
    return failed


def _statuses(interactions: Iterable) -> Counter:
    return Counter(item.response.status_code for item in interactions if item.response is not None)
