"""The load of a working day: the portal sending submissions at a steady rate, and staff working the queues.

Run by `make loadtest` (loadtest/run.py), which starts the topology, gives this file its plan through
LOADTEST_PLAN (a JSON file: the portal token, portal accounts and their cases, staff sign-ins, the rate) and
reads back LOADTEST_RESULTS (one JSON line per submission the back office answered 201 to), to count that
nothing was lost. Not imported by the back office or its tests: locust patches the standard library.
"""

import json
import os
import random
import re
import threading
from pathlib import Path

from locust import HttpUser, between, constant_pacing, events, task

from backoffice.devservices.sample_pdfs import PageSpec, build_pdf, disclosure_bundle, numbered_document

PLAN = json.loads(Path(os.environ["LOADTEST_PLAN"]).read_text())
RESULTS = Path(os.environ["LOADTEST_RESULTS"])
CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')
SUBMISSION_LINK = re.compile(r"/admin/submission/details/\?id=(\d+)")
_written = threading.Lock()


def _document_pool() -> list[tuple[str, bytes]]:
    """Documents of the sizes counsel send: letters, written submissions, disclosure bundles with a table of
    contents, and scanned exhibits (images: the large ones)."""
    pool = [(f"letter-{n}.pdf", numbered_document(n + 1, seed=n)) for n in range(1, 5)]
    pool += [
        (f"submissions-{n}.pdf", numbered_document(10 * n, heading="Written submissions", seed=n))
        for n in (1, 2, 4)
    ]
    pool += [
        (
            f"disclosure-{n}.pdf",
            disclosure_bundle([(f"Exhibit {i}", 6 + i % 9) for i in range(n * 6)], seed=n),
        )
        for n in (1, 2, 3, 5)
    ]
    pool += [
        (
            f"scanned-exhibit-{n}.pdf",
            build_pdf([PageSpec(scanned=True, footer=f"Page {p} of {n}") for p in range(1, n + 1)], seed=n),
        )
        for n in (2, 4, 8, 24)
    ]
    return pool


POOL = _document_pool()
# The people who work the queues all day (administrators do not).
QUEUE_WORKERS = [
    person for person in PLAN["staff"] if person["role"] in ("clerk", "division_member", "supervisor")
]
# The cases on which the portal lets counsel file now: at an appeal division, only once the appeal is filed.
OPEN_CASES = [
    (account, case)
    for account in PLAN["portal_accounts"]
    for case in account["cases"]
    if case["appeal_filed"] or case["division"] in ("RPD", "ID")
]


@events.init.add_listener
def _describe_pool(environment, **_) -> None:
    sizes = sorted(len(content) for _, content in POOL)
    print(f"Documents: {len(POOL)}, from {sizes[0] // 1024} KB to {sizes[-1] // 1024} KB.")


class Portal(HttpUser):
    """The My Case portal: each of these users posts one submission every PORTAL_PACING seconds."""

    fixed_count = PLAN["portal_users"]
    wait_time = constant_pacing(PLAN["portal_pacing_seconds"])

    def on_start(self) -> None:
        self.client.verify = PLAN["certificate"]

    @task
    def submit(self) -> None:
        account, case = random.choice(OPEN_CASES)
        files = random.sample(POOL, k=random.randint(1, 5))
        fields = {
            "portal_account_id": account["id"],
            "case_file_number": case["file_number"],
            "document_kind": "written_submission",
            "subject": "Submissions under load",
        }
        with self.client.post(
            "/api/v1/submissions",
            data=fields,
            files=[("attachments", (name, content, "application/pdf")) for name, content in files],
            headers={"Authorization": f"Bearer {PLAN['portal_token']}"},
            name="POST /api/v1/submissions",
            catch_response=True,
        ) as response:
            if response.status_code != 201:
                response.failure(f"{response.status_code}: {response.text[:200]}")
                return
            body = response.json()
            record = {"id": body["id"], "attachments": [item["sha256"] for item in body["attachments"]]}
            with _written, RESULTS.open("a") as results:
                results.write(json.dumps(record) + "\n")


class Staff(HttpUser):
    """A member of staff at human pace: the queue, a submission, its PDF; clerks also take the next one and
    accept it to the division."""

    wait_time = between(4, 12)

    def on_start(self) -> None:
        self.client.verify = PLAN["certificate"]  # nginx's own, made for 127.0.0.1
        self.person = random.choice(QUEUE_WORKERS)
        self.queue = (
            "/admin/division_queue/" if self.person["role"] == "division_member" else "/admin/registry_queue/"
        )
        page = self.client.get("/sign-in", name="GET /sign-in")
        self.client.post(
            "/sign-in",
            data={
                "email": self.person["email"],
                "password": self.person["password"],
                "csrf_token": _csrf(page.text),
            },
            headers=self._referer("/sign-in"),
            name="POST /sign-in",
        )
        self.seen: list[str] = []
        self.token = ""

    def _referer(self, path: str) -> dict[str, str]:
        return {"Referer": f"{self.host}{path}"}  # Flask-WTF checks it over HTTPS

    @task(4)
    def open_the_queue(self) -> None:
        page = self.client.get(self.queue, name=f"GET {self.queue}")
        self.seen = SUBMISSION_LINK.findall(page.text) or self.seen
        self.token = _csrf(page.text) or self.token

    @task(4)
    def open_a_submission(self) -> None:
        self._get_a_seen_submission("/admin/submission/details/")

    @task(2)
    def read_its_pdf(self) -> None:
        self._get_a_seen_submission("/admin/submission/attachment/view/", "&position=1")

    def _get_a_seen_submission(self, path: str, more_query: str = "") -> None:
        """GET `path` for one of the submissions the queue showed, counted under the path in the statistics."""
        if self.seen:
            self.client.get(f"{path}?id={random.choice(self.seen)}{more_query}", name=f"GET {path}")

    @task(1)
    def watch_the_office(self) -> None:
        if self.person["role"] == "supervisor":
            self.client.get("/admin/dashboard/", name="GET /admin/dashboard/")

    @task(1)
    def take_the_next_and_accept_it(self) -> None:
        if self.person["role"] != "clerk" or not self.token:
            return
        opened = self.client.post(
            "/admin/registry_queue/next/",
            data={"csrf_token": self.token},
            headers=self._referer(self.queue),
            name="POST /admin/registry_queue/next/",
        )
        claimed = re.search(r"[?&]id=(\d+)", opened.url)
        if claimed and "/submission/details/" in opened.url:
            self.client.post(
                "/admin/registry_queue/decide/",
                data={
                    "csrf_token": _csrf(opened.text) or self.token,
                    "id": claimed.group(1),
                    "decision": "accept",
                },
                headers=self._referer(opened.url.removeprefix(self.host)),
                name="POST /admin/registry_queue/decide/",
            )


def _csrf(html: str) -> str:
    match = CSRF_INPUT.search(html)
    return (match.group(1) or match.group(2)) if match else ""
