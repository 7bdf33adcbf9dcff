"""Production starts with its variables set, and refuses to start, naming each one, without them.

The commands an operator runs (migrations, a worker, the web server under gunicorn) are run here as they are
in production: separate processes, configured by environment variables only."""

import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from sqlalchemy import create_engine, make_url, text

from backoffice.devservices.processes import clean_environment, free_port, wait_until_answering
from config import DEVELOPMENT_SECRET_KEY, REQUIRED_IN_PRODUCTION, ProductionConfig
from tests.conftest import PROCESS

PROJECT = Path(__file__).resolve().parent.parent
FLASK = [sys.executable, "-m", "flask", "--app", "wsgi"]
COMMANDS = {
    "migrations": [*FLASK, "db", "upgrade"],
    "worker": [*FLASK, "worker", "--burst"],
    "web": [sys.executable, "-m", "gunicorn", "-c", "gunicorn.conf.py", "wsgi:app"],
}


def production_settings(database_url: str, redis_url: str, tmp_path: Path) -> dict[str, str]:
    return {
        "BACKOFFICE_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "CODE_HASH_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": database_url,
        "REDIS_URL": redis_url,
        "STORAGE_ROOT": str(tmp_path / "storage"),
        "RQ_QUEUE": f"production-test-{os.getpid()}",
    }


@pytest.fixture
def fresh_database_url(tmp_path) -> str:
    """An empty database of the run's engine, for the migrations to build."""
    given = os.environ.get("TEST_DATABASE_URL")
    if not given:
        return f"sqlite:///{tmp_path / 'production.sqlite'}"
    address = make_url(given)
    name = f"{address.database}_production_{PROCESS}"
    server = create_engine(address.set(database="postgres"), isolation_level="AUTOCOMMIT")
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    server.dispose()
    return address.set(database=name).render_as_string(hide_password=False)


@pytest.mark.parametrize("missing", REQUIRED_IN_PRODUCTION)
def test_production_refuses_to_start_naming_the_one_variable_missing(monkeypatch, tmp_path, missing):
    for name, value in production_settings("postgresql://db/backoffice", "redis://cache", tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv(missing)
    with pytest.raises(RuntimeError) as refused:
        ProductionConfig.check()
    assert str(refused.value).splitlines()[0] == f"Production cannot start: {missing} is not set."


@pytest.mark.parametrize(
    ("secret_key", "code_hash_key", "problem"),
    [
        (DEVELOPMENT_SECRET_KEY, None, "SECRET_KEY is the development key"),
        ("short-key", None, "SECRET_KEY is shorter than 32 characters"),
        ("k" * 40, "k" * 40, "CODE_HASH_KEY is the same as SECRET_KEY"),
    ],
)
def test_production_refuses_keys_that_are_not_secret(
    monkeypatch, tmp_path, secret_key, code_hash_key, problem
):
    for name, value in production_settings("postgresql://db/backoffice", "redis://cache", tmp_path).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("SECRET_KEY", secret_key)
    if code_hash_key:
        monkeypatch.setenv("CODE_HASH_KEY", code_hash_key)
    with pytest.raises(RuntimeError, match=problem):
        ProductionConfig.check()


def test_production_requires_a_second_factor_or_single_sign_on_for_staff(monkeypatch, tmp_path):
    for name, value in production_settings("postgresql://db/backoffice", "redis://cache", tmp_path).items():
        monkeypatch.setenv(name, value)
    ProductionConfig.check()  # REQUIRE_MFA is on unless turned off
    monkeypatch.setenv("REQUIRE_MFA", "0")
    with pytest.raises(
        RuntimeError, match="REQUIRE_MFA=0 lets staff sign in with a password alone"
    ) as refused:
        ProductionConfig.check()
    assert "REQUIRE_MFA=0 permet au personnel de se connecter avec un mot de passe seul" in str(refused.value)
    monkeypatch.setenv("ALLOW_PASSWORD_SIGN_IN", "0")  # single sign-on only, then: it must be configured
    with pytest.raises(RuntimeError, match="ALLOW_PASSWORD_SIGN_IN=0 without OIDC_ISSUER"):
        ProductionConfig.check()
    monkeypatch.setenv("OIDC_ISSUER", "https://login.microsoftonline.com/tenant/v2.0")
    with pytest.raises(
        RuntimeError, match="OIDC_ISSUER is set without OIDC_CLIENT_ID and OIDC_CLIENT_SECRET"
    ):
        ProductionConfig.check()
    monkeypatch.setenv("OIDC_CLIENT_ID", "backoffice")
    monkeypatch.setenv("OIDC_CLIENT_SECRET", secrets.token_urlsafe(32))
    ProductionConfig.check()


def test_production_names_every_problem_at_once(monkeypatch):
    for name in REQUIRED_IN_PRODUCTION:
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(RuntimeError) as refused:
        ProductionConfig.check()
    assert all(f"{name} is not set" in str(refused.value) for name in REQUIRED_IN_PRODUCTION)


@pytest.mark.parametrize(("command", "missing"), [("migrations", "DATABASE_URL"), ("worker", "REDIS_URL")])
def test_each_production_command_refuses_to_start_without_its_settings(tmp_path, redis_url, command, missing):
    settings = production_settings(f"sqlite:///{tmp_path / 'unused.sqlite'}", redis_url, tmp_path)
    del settings[missing]
    finished = subprocess.run(
        COMMANDS[command],
        cwd=PROJECT,
        env=clean_environment(settings),
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert finished.returncode != 0
    assert f"{missing} is not set" in finished.stderr
    assert settings["SECRET_KEY"] not in finished.stderr + finished.stdout  # a refusal tells no secret


def test_production_migrates_works_and_serves_with_its_variables_set(tmp_path, redis_url, fresh_database_url):
    env = clean_environment(production_settings(fresh_database_url, redis_url, tmp_path))
    for command in ("migrations", "worker"):
        finished = subprocess.run(
            COMMANDS[command], cwd=PROJECT, env=env, capture_output=True, text=True, timeout=300
        )
        assert finished.returncode == 0, finished.stderr[-2000:]

    port = free_port()
    web = subprocess.Popen(
        COMMANDS["web"],
        cwd=PROJECT,
        env={**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "1"},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        assert wait_until_answering(f"{base}/healthz", web), web.stderr.read().decode()[-2000:]
        assert requests.get(f"{base}/readyz", timeout=10).json() == {
            "status": "ok",
            "checked": ["database", "redis", "document_store"],
        }
        sign_in = requests.get(f"{base}/sign-in", timeout=10)
        assert sign_in.status_code == 200
        assert "Secure" in sign_in.headers["Set-Cookie"]  # production's cookies go over TLS only
    finally:
        web.terminate()
        assert web.wait(timeout=60) == 0  # a graceful stop on SIGTERM
