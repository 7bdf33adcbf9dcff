"""Helpers shared by the tests: pages read and forms posted as a browser would, the queue worked by the real
worker, clocks, statements counted, actions raced at the same moment, and who may use each route.
Records are made by tests/factories.py; fixtures are in tests/conftest.py."""

import csv
import io
import logging
import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from datetime import time as time_of_day
from html.parser import HTMLParser
from pathlib import Path
from types import ModuleType
from typing import Any

import pikepdf
import pytest
from click.testing import Result
from flask import Flask
from flask.testing import FlaskClient
from rq.registry import ScheduledJobRegistry
from rq.worker import SimpleWorker
from sqlalchemy import event

from backoffice.extensions import db
from backoffice.models import CheckOutcome, CheckResultRecord, Language, StaffUser, Submission
from backoffice.models.types import utcnow
from backoffice.queue import job_queue
from backoffice.worker import run_worker
from backoffice.workflows import decisions, submissions
from backoffice.workflows.case_import import COLUMNS
from backoffice.workflows.refusals import Refused
from backoffice.workflows.timeliness import EASTERN
from tests.factories import (
    PASSWORD,
    create_filer,
    create_staff,
    create_submission,
    division,
    pdf_bytes,
    with_registry,
)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = PROJECT_ROOT / "test-artifacts"  # screenshots kept for a person to look at

# --------------------------------------------------------------------------------------------- pages and forms

CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token_from(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def sign_in(client: FlaskClient, email: str, password: str):
    page = client.get("/sign-in")
    token = csrf_token_from(page.get_data(as_text=True))
    return client.post("/sign-in", data={"email": email, "password": password, "csrf_token": token})


def post_form(
    client: FlaskClient, url: str, page: str = "/admin/", follow_redirects: bool = False, **data: Any
):
    """POST `data` to `url` with a CSRF token read from `page`, as the browser would."""
    token = csrf_token_from(client.get(page).get_data(as_text=True))
    return client.post(url, data={"csrf_token": token, **data}, follow_redirects=follow_redirects)


def post_and_follow(client: FlaskClient, url: str, **data: Any):
    """POST `data` as `post_form` does, and follow the redirect to the page the browser lands on."""
    return post_form(client, url, follow_redirects=True, **data)


def page_of(client: FlaskClient, url: str) -> str:
    """The page at `url`, which must be there (200)."""
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[-500:]
    return response.get_data(as_text=True)


def switch_to_french(client: FlaskClient, next_url: str) -> None:
    token = csrf_token_from(page_of(client, next_url))
    response = client.post("/language", data={"language": "fr", "next": next_url, "csrf_token": token})
    assert response.status_code == 302


class _TextOfTestId(HTMLParser):
    VOID = {"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr"}

    def __init__(self, testid: str) -> None:
        super().__init__()
        self.testid, self.depth, self.done, self.parts = testid, 0, False, []

    def handle_starttag(self, tag, attrs) -> None:
        if tag in self.VOID or self.done:
            return
        if self.depth or dict(attrs).get("data-testid") == self.testid:
            self.depth += 1

    def handle_endtag(self, tag) -> None:
        if self.depth and tag not in self.VOID:
            self.depth -= 1
            self.done = self.depth == 0

    def handle_data(self, data) -> None:
        if self.depth:
            self.parts.append(data)


def text_of(page: str, testid: str) -> str:
    """The text (entities decoded, spaces collapsed) of the first element with this data-testid."""
    parser = _TextOfTestId(testid)
    parser.feed(page)
    assert parser.done, f'no element with data-testid="{testid}"'
    return " ".join(" ".join(parser.parts).split())


def rows_of(html: str) -> list[int]:
    """The submissions of a work queue page, in their order."""
    return [int(found) for found in re.findall(r'data-testid="queue-row" data-submission="(\d+)"', html)]


# --------------------------------------------------------------------------------------------- the job queue


def work_the_queue(app: Flask) -> str:
    """Work the test's queue until it is empty with the real worker (backoffice.worker.run_worker: the sweep at
    start, rq's scheduler queueing the scheduled jobs that are due, rq's failure handling), in this process:
    rq's SimpleWorker runs each job here rather than in a forked process, in an application context of its own
    so that the jobs have their own database session. The test's session is committed first, so that the jobs
    see what it wrote, and expired after, so that it reads what they wrote. Returns what the worker and its
    jobs logged (INFO and above, as the worker command prints)."""
    db.session.commit()
    with app.app_context(), _signal_handlers_kept(), _logged() as output:
        run_worker(app, burst=True, worker_class=SimpleWorker)
    db.session.expire_all()
    return output.getvalue()


@contextmanager
def _signal_handlers_kept() -> Iterator[None]:
    """rq's worker takes SIGINT and SIGTERM for its warm shutdown; they are the test run's again after it."""
    kept = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for number, handler in kept.items():
            signal.signal(number, handler)


@contextmanager
def _logged(level: int = logging.INFO) -> Iterator[io.StringIO]:
    """What this thread logs meanwhile, as a worker process would print it: every logger on, even those that
    the migrations' logging configuration turned off in this process."""
    output, root, thread = io.StringIO(), logging.getLogger(), threading.get_ident()
    handler, kept_level = logging.StreamHandler(output), root.level
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    handler.setLevel(level)
    handler.addFilter(lambda record: record.thread == thread)
    turned_off = [
        logger
        for logger in logging.root.manager.loggerDict.values()
        if isinstance(logger, logging.Logger) and logger.disabled
    ]
    for logger in turned_off:
        logger.disabled = False
    root.addHandler(handler)
    root.setLevel(min(level, kept_level or level))
    try:
        yield output
    finally:
        root.removeHandler(handler)
        root.setLevel(kept_level)
        for logger in turned_off:
            logger.disabled = True


def bring_schedule_forward(app: Flask, seconds: float) -> list[str]:
    """rq's schedule as it will stand `seconds` from now: every job due by then is due now, so that the next
    worker's scheduler queues it. Returns their ids."""
    registry = ScheduledJobRegistry(queue=job_queue(app))
    due = registry.get_jobs_to_schedule(int(time.time() + seconds) + 1)
    if due:
        registry.connection.zadd(registry.key, dict.fromkeys(due, int(time.time())))
    return due


def environment_for(app: Flask) -> dict[str, str]:
    """The environment a separate process needs to work on this test's database and queue."""
    return {
        **{name: value for name, value in os.environ.items() if not name.startswith(("TEST_", "FLASK_"))},
        "BACKOFFICE_ENV": "development",
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["REDIS_URL"],
        "RQ_QUEUE": app.config["RQ_QUEUE"],
        "STORAGE_ROOT": app.config["STORAGE_ROOT"],
        "SECRET_KEY": app.config["SECRET_KEY"],
        **{name: str(app.config[name]) for name in DELIVERY_SETTINGS + WEBEX_SETTINGS},
        **{name: str(app.config[name] or "") for name in STORAGE_SETTINGS},
    }


STORAGE_SETTINGS = ("STORAGE_URL", "S3_ENDPOINT_URL", "S3_REGION", "S3_ACCESS_KEY_ID", "S3_SECRET_ACCESS_KEY")


DELIVERY_SETTINGS = (
    "EMAIL_PROVIDER",
    "SMTP_HOST",
    "SMTP_PORT",
    "NOTIFY_BASE_URL",
    "NOTIFY_API_KEY",
    "NOTIFY_EMAIL_TEMPLATE_ID",
    "NOTIFY_SMS_TEMPLATE_ID",
    "DELIVERY_RETRY_BASE_SECONDS",
    "DELIVERY_MAX_ATTEMPTS",
    "DELIVERY_LEASE_SECONDS",
)
WEBEX_SETTINGS = ("WEBEX_BASE_URL", "WEBEX_ACCESS_TOKEN", "WEBEX_MAX_ATTEMPTS", "WEBEX_RETRY_BASE_SECONDS")


def run_command(app: Flask, *args: str, input: str | None = None) -> Result:
    """A `flask` command, run in this process as the command line runs it: in an application context of its
    own, so with its own database session (the test's is committed first and expired after)."""
    db.session.commit()
    with app.app_context():
        result = app.test_cli_runner().invoke(args=list(args), input=input)
    db.session.expire_all()
    return result


def run_flask_command(app: Flask, *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    """The real `flask` command line, in a process of its own, on this test's database and queue."""
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=PROJECT_ROOT,
        env=environment_for(app),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


# --------------------------------------------------------------------------------------------- PDF forms


def fill_in(form: bytes, values: dict[str, str]) -> bytes:
    """Type `values` into the form as a PDF viewer saves them: each field's /V (the chosen radio button's
    appearance state too) and NeedAppearances, so that viewers redraw the fields."""
    with pikepdf.open(io.BytesIO(form)) as pdf:
        for field in pdf.Root.AcroForm.Fields:
            name = str(field.T)
            if name not in values:
                continue
            if field.FT == pikepdf.Name.Btn:
                chosen = pikepdf.Name("/" + values[name])
                field.V = chosen
                for kid in field.Kids:
                    kid.AS = chosen if chosen in kid.AP.N else pikepdf.Name.Off
            else:
                field.V = pikepdf.String(values[name])
        pdf.Root.AcroForm.NeedAppearances = True
        output = io.BytesIO()
        pdf.save(output)
    return output.getvalue()


def flattened(data: bytes) -> bytes:
    """The form as "print to PDF" leaves it: the fields' appearances drawn into the page, no fields left."""
    with pikepdf.open(io.BytesIO(data)) as pdf:
        pdf.generate_appearance_streams()
        pdf.flatten_annotations("all")
        output = io.BytesIO()
        pdf.save(output)
    return output.getvalue()


# --------------------------------------------------------------------------------------------- the portal API


def submission_fields(account, **changes) -> dict:
    """The form fields of a submission through the portal API; a change to None leaves that field out."""
    fields = {
        "portal_account_id": account.public_id,
        "case_file_number": account.case.file_number,
        "document_kind": "written_submission",
        "subject": "Change of address",
    }
    fields.update(changes)
    return {name: value for name, value in fields.items() if value is not None}


def submit_through_api(
    client: FlaskClient, token: str, account, files: list[tuple[str, bytes]] | None = None, **changes: Any
):
    """POST a submission of `files` (a one-page letter by default) to the portal API, as the portal does."""
    data = submission_fields(account, **changes)
    files = files if files is not None else [("letter.pdf", pdf_bytes())]
    data["attachments"] = [(io.BytesIO(content), name) for name, content in files]
    return client.post(
        "/api/v1/submissions",
        data=data,
        headers={"Authorization": f"Bearer {token}"},
        content_type="multipart/form-data",
    )


# --------------------------------------------------------------------------------------------- the work queues


def with_division(files: int = 3, language: Language = Language.ENGLISH) -> Submission:
    """A submission of `files` PDFs, screened and accepted by registry: waiting in its division's queue."""
    filer = create_filer("western", "RPD")
    filer.counsel.preferred_language = language
    names = [f"exhibit-{n}.pdf" for n in range(1, files + 1)]
    submission = create_submission(filer, files=[(name, pdf_bytes(text=name)) for name in names])
    for transition in ("start_screening", "finish_screening"):
        submissions.fire(submission, transition)
    clerk = create_staff("clerk", "western")
    decisions.claim(submission.id, clerk)
    decisions.decide(submission.id, clerk, True, [])
    db.session.commit()
    return submission


def waiting(office_code: str = "western", division_code: str = "RPD", days: float = 0) -> Submission:
    """A submission waiting in the registry queue since `days` ago."""
    appeal = {"appeal_filed_on": date(2026, 1, 5)} if division(division_code).is_appeal else {}
    submission = with_registry(office_code, division_code, **appeal)
    submission.received_at = utcnow() - timedelta(days=days)
    db.session.commit()
    return submission


def add_results(submission: Submission, failures: int, warnings: int) -> None:
    """Check results as screening would leave them: so many failures and warnings, and a pass."""
    outcomes = [CheckOutcome.FAILURE] * failures + [CheckOutcome.WARNING] * warnings + [CheckOutcome.PASS]
    for outcome in outcomes:
        db.session.add(
            CheckResultRecord(
                submission_id=submission.id, code="test", outcome=outcome, message_en="m", message_fr="m"
            )
        )
    # What screening keeps on the submission when it ends.
    submission.failed_checks, submission.warning_checks = failures, warnings
    db.session.commit()


def one_of_many_queued(number: int, holder: StaffUser) -> Submission:
    """The `number`th submission of a long registry queue: every other one failed a check, and every third
    is claimed by `holder`."""
    submission = with_registry()
    add_results(submission, failures=number % 2, warnings=1)
    if number % 3 == 0:
        decisions.claim(submission.id, holder)
        db.session.commit()
    return submission


def decide(
    submission: Submission,
    staff: StaffUser,
    accepted: bool,
    reasons: list[str],
    at: datetime,
    received: datetime | None = None,
) -> None:
    """A decision through the workflow (on a submission `received` then, if given), made `at`, so that it is
    counted on that day as it is recorded."""
    if received is not None:
        submission.received_at = received
    decisions.claim(submission.id, staff)
    decisions.decide(submission.id, staff, accepted, reasons, now=at)
    db.session.commit()


# --------------------------------------------------------------------------------------------- clocks


def fix_clock(monkeypatch: pytest.MonkeyPatch, instant: datetime) -> None:
    """Submissions are received at `instant`."""
    monkeypatch.setattr(submissions, "now", lambda: instant)


def time_passes(monkeypatch: pytest.MonkeyPatch, app: Flask, seconds: float, *modules: ModuleType) -> None:
    """As if `seconds` went by: rq's schedule is brought forward as much, and so is the clock (utcnow) of each
    of the `modules` (added up when time passes again)."""
    for module in modules:
        earlier = module.utcnow
        monkeypatch.setattr(module, "utcnow", lambda earlier=earlier: earlier() + timedelta(seconds=seconds))
    bring_schedule_forward(app, seconds)


def noon(days_ago: int) -> datetime:
    """Noon in Eastern time some days ago, well inside a day of the window whatever the hour of the test;
    in UTC, so that adding hours or days to it counts elapsed time even across a change of the clocks."""
    day = utcnow().astimezone(EASTERN).date() - timedelta(days=days_ago)
    return datetime.combine(day, time_of_day(12), tzinfo=EASTERN).astimezone(UTC)


# --------------------------------------------------------------------------------------------- statements


def count_statements(client: FlaskClient, url: str) -> int:
    """How many SQL statements the page at `url` costs."""
    statements = []

    def counted(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", counted)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", counted)
    return len(statements)


# --------------------------------------------------------------------------------------------- races


def copies_of(app: Flask, client: FlaskClient, count: int) -> list[FlaskClient]:
    """`count` clients sharing `client`'s session cookie: the same person in several tabs."""
    cookie = client.get_cookie("session").value
    copies = []
    for _ in range(count):
        copy = app.test_client()
        copy.set_cookie("session", cookie)
        copies.append(copy)
    return copies


def race(
    app: Flask, actions: list[Callable[[], Any]], refusals: tuple[type[Exception], ...] = ()
) -> list[Any]:
    """Run the actions at the same moment, each in its own thread with its own application context and
    database session, all released together by a barrier; answers what each returned, in order, or "refused"
    for one that raised one of `refusals` (its session rolled back).

    An action that changes data commits it itself; the test's own session is committed first so that the
    threads see what it wrote.
    """
    db.session.commit()
    barrier = threading.Barrier(len(actions))

    def run(action: Callable[[], Any]) -> Any:
        with app.app_context():
            try:
                barrier.wait()
                return action()
            except refusals:
                db.session.rollback()
                return "refused"
            finally:
                db.session.remove()

    with ThreadPoolExecutor(max_workers=len(actions)) as pool:
        outcomes = list(pool.map(run, actions))
    db.session.expire_all()
    return outcomes


def race_as_staff(app: Flask, action: Callable[[Any], Any], staff_ids: list[int]) -> list[str]:
    """`action(staff)` for each staff member at the same moment (see `race`), committed: "won" for each that
    took effect, "refused" for each that was refused, sorted."""

    def as_staff(staff_id: int) -> Callable[[], str]:
        def attempt() -> str:
            action(db.session.get(StaffUser, staff_id))
            db.session.commit()
            return "won"

        return attempt

    return sorted(race(app, [as_staff(staff_id) for staff_id in staff_ids], (Refused,)))


@contextmanager
def signalled_before_each_statement(asked: threading.Event) -> Iterator[None]:
    """Set `asked` just before this thread sends each SQL statement meanwhile: another thread can wait until this
    one asks the database for something (a lock it holds, say) rather than sleep and hope."""
    thread = threading.get_ident()

    def asking(conn, cursor, statement, parameters, context, executemany) -> None:
        if threading.get_ident() == thread:
            asked.set()

    event.listen(db.engine, "before_cursor_execute", asking)
    try:
        yield
    finally:
        event.remove(db.engine, "before_cursor_execute", asking)


# --------------------------------------------------------------------------------------------- routes and screens

PUBLIC = "public"
PORTAL = "portal client token"
METRICS = "metrics scraper token"  # METRICS_TOKEN as the bearer token: no principal has it, all get 404
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
    "metrics": METRICS,
    "health": PUBLIC,
    "auth.sign_in_page": PUBLIC,
    "auth.choose_language": PUBLIC,
    "auth.sign_out": SIGNED_IN,
    # The second step of a password sign-in and single sign-on: before anyone is signed in.
    "auth.second_factor": PUBLIC,
    "auth.single_sign_on": PUBLIC,
    "auth.single_sign_on_return": PUBLIC,
    # Each person's own factors.
    **{
        f"auth.{name}": SIGNED_IN
        for name in (
            "security",
            "confirm_identity",
            "totp_setup",
            "totp_remove",
            "recovery_codes",
            "passkey_remove",
        )
    },
    "ssogroup": ADMINS,
    "passkeys.sign_in_options": PUBLIC,
    "passkeys.sign_in": PUBLIC,
    **{
        f"passkeys.{name}": SIGNED_IN
        for name in ("registration_options", "register", "confirm_options", "confirm")
    },
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
    "submission.reject_confirm_view": {"clerk", "division_member"},
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


class PortalClient:
    """The My Case portal calling with its bearer token, and nothing else."""

    def __init__(self, app, token: str) -> None:
        self.client = app.test_client()
        self.headers = {"Authorization": f"Bearer {token}"}

    def open(self, url, method="GET", data=None):
        return self.client.open(url, method=method, headers=self.headers)

    def get(self, url):
        return self.open(url)


def model_views(app: Flask) -> list:
    """Every model screen of the back office, walked rather than listed, so that a new one is covered."""
    from backoffice.admin.base import ScopedModelView

    (admin,) = app.extensions["admin"]
    return [view for view in admin._views if isinstance(view, ScopedModelView)]


# ----------------------------------------------------------------------------------------- what a person reads


class _VisibleText(HTMLParser):
    READ_ATTRIBUTES = {"title", "aria-label", "placeholder", "alt"}
    UNREAD = {"script", "style", "template", "noscript", "code", "kbd", "samp", "textarea", "iframe"}
    VOID = {"area", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "wbr", "base"}

    def __init__(self, language: str) -> None:
        super().__init__(convert_charrefs=True)
        self.language = language
        self.parts: list[str] = []
        self.open: list[tuple[str, bool]] = []  # (tag, left out)

    @property
    def left_out(self) -> bool:
        return any(skipped for _tag, skipped in self.open)

    def handle_starttag(self, tag, attrs) -> None:
        named = dict(attrs)
        skipped = (
            tag in self.UNREAD
            or "hidden" in named
            or "d-none" in (named.get("class") or "").split()
            or named.get("lang", self.language).split("-")[0] != self.language
            or "data-bilingual" in named  # a message to counsel in both languages
        )
        if not (self.left_out or skipped):
            self.parts.extend(value for name, value in attrs if name in self.READ_ATTRIBUTES and value)
            if tag == "input" and named.get("type") in {"submit", "button", "reset"}:
                self.parts.append(named.get("value") or "")
        if tag not in self.VOID:
            self.open.append((tag, skipped))

    def handle_startendtag(self, tag, attrs) -> None:
        self.handle_starttag(tag, attrs)
        if tag not in self.VOID:
            self.open.pop()

    def handle_endtag(self, tag) -> None:
        for depth in range(len(self.open) - 1, -1, -1):  # closes what was left open inside (<li>, <p>)
            if self.open[depth][0] == tag:
                del self.open[depth:]
                return

    def handle_data(self, data) -> None:
        if not self.left_out:
            self.parts.append(data)


def visible_text(html: str, language: str) -> str:
    parser = _VisibleText(language)
    parser.feed(html)
    return " ".join(" ".join(parser.parts).split())


def sign_in_from(page, email: str, landing: str) -> None:
    """Sign in, in Chromium, on the sign-in page the browser was sent to, and wait to land on `landing` (a URL
    pattern)."""
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(landing)


# ------------------------------------------------------------------------------------------------ case import


def write_csv(path: Path, rows: list[dict]) -> Path:
    """A case management system's export holding `rows` (missing columns empty)."""
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for row in rows:
            writer.writerow({column: row.get(column, "") for column in COLUMNS})
    return path


GOOD_ROW = {
    "file_number": "VB5-02246",
    "division": "RPD",
    "office": "western",
    "case_status": "active",
    "uci": "1234-5678",
    "next_hearing_on": "2027-01-15",
    "counsel_id": "C-77",
    "counsel_name": "Grace Li",
    "counsel_kind": "lawyer",
    "regulator": "Law Society of British Columbia",
    "membership_number": "LSBC-30412",
    "counsel_email": "Grace.Li@law.example",
    "counsel_mobile": "604-555-0101",
    "counsel_language": "en",
}
