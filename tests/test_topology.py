"""The back office as a department runs it, on loopback: nginx in front of two gunicorn web processes, three
workers, PostgreSQL, Redis and SeaweedFS (S3), each web process and worker with its own empty local folder.
A submission received by one web process is screened by a worker, viewed through the other web process,
decided, and counsel's email delivered; the documents live in the bucket only.

It needs PostgreSQL (the run's TEST_DATABASE_URL server), Debian's redis-server and nginx: CI has them all and
runs it; elsewhere it is skipped when one is missing."""

import hashlib
import io
import json
import os
import re
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import pyotp
import pytest
import requests
from sqlalchemy import create_engine, make_url, text

from backoffice.devservices.sample_pdfs import numbered_document
from backoffice.devservices.topology import Topology
from tests.conftest import PROCESS
from tests.helpers import csrf_token_from

WITHIN_SECONDS = 120
MISSING = [
    name
    for name in ("redis-server", "nginx", "openssl")
    if not shutil.which(name) and not Path(f"/usr/sbin/{name}").exists()
]
pytestmark = [
    pytest.mark.skipif(not os.environ.get("TEST_DATABASE_URL"), reason="the topology runs on PostgreSQL"),
    pytest.mark.skipif(
        bool(MISSING) and not os.environ.get("CI"), reason=f"not installed: {', '.join(MISSING)}"
    ),
]


@pytest.fixture(scope="module")
def topology(tmp_path_factory) -> Topology:
    address = make_url(os.environ["TEST_DATABASE_URL"])
    database = address.set(database=f"{address.database}_topology_{PROCESS}")
    topology = Topology(
        tmp_path_factory.mktemp("topology"), database_url=database.render_as_string(hide_password=False)
    )
    try:
        yield topology.start()
    finally:
        topology.stop()


class Browser:
    """A staff member's browser on one web process, over plain HTTP on loopback: production's session cookie
    is Secure (HTTPS only, as nginx serves it), so it is sent back here by hand, as the browser would over TLS."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.cookies: dict[str, str] = {}

    def open(self, method: str, path: str, **kwargs) -> requests.Response:
        cookie = "; ".join(f"{name}={value}" for name, value in self.cookies.items())
        response = requests.request(
            method,
            f"{self.base_url}{path}",
            headers={"Cookie": cookie},
            allow_redirects=False,
            timeout=30,
            **kwargs,
        )
        self.cookies.update(response.cookies.get_dict())
        return response

    def sign_in(self, email: str, password: str, app: pyotp.TOTP | None = None) -> pyotp.TOTP:
        """Sign in as production asks (REQUIRE_MFA): the password, then the authenticator app's code; a person
        without one sets it up first, as production makes them. Answers the app."""
        token = csrf_token_from(self.open("GET", "/sign-in").text)
        response = self.open(
            "POST", "/sign-in", data={"email": email, "password": password, "csrf_token": token}
        )
        assert response.status_code == 302, response.text[-500:]
        if app is None:
            assert response.headers["Location"] == "/admin/"
            assert self.open("GET", "/admin/").headers["Location"] == "/account/security"
            page = self.open("GET", "/account/authenticator-app").text
            app = pyotp.TOTP(re.search(r'data-testid="totp-secret">([A-Z2-7 ]+)<', page)[1].replace(" ", ""))
            enrolled = self.post_form(
                "/account/authenticator-app", "/account/authenticator-app", code=app.now()
            )
            assert enrolled.status_code == 200 and "totp-secret" not in enrolled.text, enrolled.text[-500:]
        else:
            assert response.headers["Location"] == "/sign-in/second-factor"
            code = app.at(time.time() + app.interval)  # the step after the enrolment's, whose code is spent
            done = self.post_form("/sign-in/second-factor", "/sign-in/second-factor", kind="totp", code=code)
            assert done.status_code == 302 and done.headers["Location"] == "/admin/", done.text[-500:]
        return app

    def post_form(self, path: str, page: str, **data) -> requests.Response:
        token = csrf_token_from(self.open("GET", page).text)
        return self.open("POST", path, data={"csrf_token": token, **data})


def until(condition: Callable[[], object], what: str) -> object:
    deadline = time.monotonic() + WITHIN_SECONDS
    while not (found := condition()):
        assert time.monotonic() < deadline, f"not within {WITHIN_SECONDS} s: {what}"
        time.sleep(0.2)
    return found


def job_lines(topology: Topology) -> list[dict]:
    """The JSON lines the workers logged about their jobs."""
    lines = []
    for worker in topology.workers:
        for line in (worker.folder / f"{worker.name}.log").read_text().splitlines():
            if line.startswith("{") and '"backoffice.jobs"' in line:
                lines.append(json.loads(line))
    return lines


def files_under(folder: Path) -> list[Path]:
    return [path for path in folder.rglob("*") if path.is_file()]


def test_a_submission_travels_across_hosts_that_share_nothing_but_the_services(topology):
    plan = topology.plan
    account = next(account for account in plan["portal_accounts"] if account["cases"])
    case = account["cases"][0]
    clerk = next(p for p in plan["staff"] if p["role"] == "clerk" and p["office"] == case["office"])
    files = [(f"exhibit-{n}.pdf", numbered_document(3 * n, seed=n)) for n in (1, 2)]
    web_a, web_b = topology.webs

    # Received by one web process...
    received = requests.post(
        f"{web_a.url}/api/v1/submissions",
        data={
            "portal_account_id": account["id"],
            "case_file_number": case["file_number"],
            "document_kind": "written_submission",
            "subject": "Across hosts",
        },
        files=[("attachments", (name, io.BytesIO(content), "application/pdf")) for name, content in files],
        headers={"Authorization": f"Bearer {plan['portal_token']}"},
        timeout=60,
    )
    assert received.status_code == 201, received.text
    public_id = received.json()["id"]

    # ...screened by a worker, and seen screened through the other web process.
    def screened() -> bool:
        answer = requests.get(
            f"{web_b.url}/api/v1/submissions/{public_id}",
            headers={"Authorization": f"Bearer {plan['portal_token']}"},
            timeout=10,
        ).json()
        return answer["status"] == "with_registry" and answer

    until(screened, "the submission screened by a worker")
    request_id = received.headers["X-Request-Id"]
    screenings = [
        line for line in job_lines(topology) if line.get("job") == "jobs.screening.screen_submission"
    ]
    assert {"request_id": request_id, "outcome": "finished"}.items() <= next(
        line for line in screenings if line.get("request_id") == request_id
    ).items(), "the worker's job line carries the id of the request that queued it"

    # The documents are in the bucket, with their hash, and on no host's disk.
    store = topology.document_store()
    for _name, content in files:
        sha256 = hashlib.sha256(content).hexdigest()
        with store.open(sha256).stream as stream:
            assert hashlib.sha256(stream.read()).hexdigest() == sha256
    for host in [*topology.webs, *topology.workers]:
        assert not [path for path in files_under(host.folder / "storage") if path.suffix != ".log"], host.name

    # Viewed, through the other web process, by a clerk of the case's office; decided through the first one.
    engine = create_engine(topology.database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.connect() as connection:
        submission_id = connection.scalar(
            text("SELECT id FROM submissions WHERE public_id = :id"), {"id": public_id}
        )
        reason = connection.scalar(
            text("SELECT code FROM reasons WHERE used_by = 'registry' AND active LIMIT 1")
        )
    engine.dispose()
    reader = Browser(web_b.url)
    app = reader.sign_in(clerk["email"], clerk["password"])
    page = reader.open("GET", f"/admin/submission/details/?id={submission_id}")
    assert page.status_code == 200 and "exhibit-2.pdf" in page.text
    pdf = reader.open("GET", f"/admin/submission/attachment/view/?id={submission_id}&position=2")
    assert pdf.status_code == 200 and pdf.content == files[1][1]

    decider = Browser(web_a.url)
    decider.sign_in(clerk["email"], clerk["password"], app)
    details = f"/admin/submission/details/?id={submission_id}"
    assert decider.post_form("/admin/registry_queue/claim/", details, id=submission_id).status_code == 302
    decided = decider.post_form(
        "/admin/registry_queue/decide/", details, id=submission_id, decision="reject", reason=reason, note=""
    )
    assert decided.status_code == 302

    # Counsel is told: the worker delivers the email through the mail server, naming the file and the subject.
    def rejection_sent():
        subjects = [str(message["Subject"]) for message in topology.mail.messages]
        return [
            subject
            for subject in subjects
            if case["file_number"] in subject and "Across hosts" in subject and "rej" in subject.lower()
        ]

    until(rejection_sent, "the rejection email delivered")


def test_the_front_door_is_nginx_with_tls_and_every_part_is_ready(topology):
    trusted = str(topology.certificate[0])  # nginx's own certificate, made for 127.0.0.1
    ready = requests.get(f"{topology.url}/readyz", verify=trusted, timeout=10)
    assert ready.status_code == 200 and ready.json()["checked"] == ["database", "redis", "document_store"]
    for _ in range(6):
        assert requests.get(f"{topology.url}/healthz", verify=trusted, timeout=10).status_code == 200
    served_by = set(re.findall(r"upstream=(\S+)", topology.front.access_log.read_text()))
    assert {web.address for web in topology.webs} <= served_by  # nginx spreads the requests over both
    assert re.fullmatch(r"[A-Za-z0-9._-]{1,64}", ready.headers["X-Request-Id"])
