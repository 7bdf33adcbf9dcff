"""Seeing it run: a JSON line per request and per job, the request id carried into the jobs a request queues,
no personal information in the logs, and Prometheus metrics at /metrics (for the scraper's token only) and on
a worker's metrics port, whose numbers move as things happen and add up across processes."""

import json
import logging
import os
import runpy
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from datetime import timedelta
from pathlib import Path
from types import SimpleNamespace

import pytest
import requests
from flask import g
from prometheus_client.multiprocess import mark_process_dead
from prometheus_client.parser import text_string_to_metric_families
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from sqlalchemy import func, select

from backoffice import health
from backoffice.extensions import db
from backoffice.integrations import webex
from backoffice.models import Notification, Office, Submission
from backoffice.observability.exposition import OUTBOX_STATUSES, serve_worker_metrics
from backoffice.observability.logs import configure_logging, job_running
from backoffice.queue import JobName, enqueue, enqueue_after_commit, enqueue_in, job_queue
from backoffice.reports.dashboard import QUEUES
from backoffice.workflows.message_templates import TEMPLATES
from backoffice.workflows.notifications import queue_message
from tests.factories import (
    PASSWORD,
    create_case,
    create_counsel,
    create_filer,
    create_portal_client,
    create_staff,
    create_submission,
    pdf_bytes,
    with_registry,
)
from tests.helpers import (
    PROJECT_ROOT,
    csrf_token_from,
    environment_for,
    run_command,
    sign_in,
    submit_through_api,
    with_division,
)

TOKEN = "a-scraper-token-of-the-monitoring"
SCRAPER = {"Authorization": f"Bearer {TOKEN}"}
QUEUE = "/admin/registry_queue/"


class Logged:
    """What the application logged meanwhile (its handler writes to stderr, captured here)."""

    def __init__(self, capsys: pytest.CaptureFixture) -> None:
        self.capsys, self.text = capsys, ""

    def lines(self) -> list[dict]:
        self.text += self.capsys.readouterr().err
        return [json.loads(line) for line in self.text.splitlines() if line.strip()]

    def of_request(self, request_id: str) -> dict:
        [line] = [
            line for line in self.lines() if line["message"] == "request" and line["request_id"] == request_id
        ]
        return line

    def of_jobs(self, job: JobName) -> list[dict]:
        return [line for line in self.lines() if line.get("job") == job.value]


@pytest.fixture
def logged(app, capsys):
    """The application as in production: JSON lines, and metrics for the scraper's token. The plain handler
    that the migrations' logging configuration left on the root logger of this process is set aside meanwhile:
    in production, only the application configures logging."""
    app.config.update(LOG_FORMAT="json", METRICS_TOKEN=TOKEN)
    root = logging.getLogger()
    set_aside = [handler for handler in root.handlers if type(handler) is logging.StreamHandler]
    for handler in set_aside:
        root.removeHandler(handler)
    configure_logging("json", "INFO")
    capsys.readouterr()
    yield Logged(capsys)
    configure_logging("text", "INFO")
    for handler in set_aside:
        root.addHandler(handler)


# --------------------------------------------------------------------------------------------- logs


def test_each_request_is_one_json_line_with_its_route_status_time_and_staff_user(app, login_as, logged):
    clerk = login_as("clerk", "western")
    response = clerk.get(f"{QUEUE}?q=V-12345&page=1")
    line = logged.of_request(response.headers["X-Request-Id"])
    assert line["level"] == "info" and line["logger"] == "backoffice.requests"
    assert line["time"].endswith("+00:00") and "T" in line["time"]
    assert (line["method"], line["route"], line["endpoint"], line["status"]) == (
        "GET",
        QUEUE,
        "registry_queue.index",
        200,
    )
    assert line["duration_ms"] > 0
    assert line["staff_user_id"] == clerk.user.id
    assert line["remote_addr"] == "127.0.0.1"
    assert "portal_client" not in line
    assert "V-12345" not in logged.text and "page=" not in logged.text
    # Every line written is JSON, whatever wrote it.
    assert all(isinstance(line, dict) for line in logged.lines())


def test_a_request_id_given_by_the_caller_is_the_one_logged(app, client, logged):
    response = client.get("/sign-in", headers={"X-Request-Id": "portal-7f3a9c"})
    assert response.headers["X-Request-Id"] == "portal-7f3a9c"
    line = logged.of_request("portal-7f3a9c")
    assert line["route"] == "/sign-in" and "staff_user_id" not in line


def test_an_api_call_names_its_portal_client_and_the_jobs_it_queued_carry_its_request_id(
    app, logged, run_worker
):
    token = create_portal_client("My Case portal")
    response = submit_through_api(app.test_client(), token, create_filer("western"))
    assert response.status_code == 201, response.get_data(as_text=True)
    request_id = response.headers["X-Request-Id"]
    line = logged.of_request(request_id)
    assert line["portal_client"] == "My Case portal" and line["route"] == "/api/v1/submissions"
    assert "staff_user_id" not in line

    run_worker()  # screens the submission; its receipt finds the SMTP server down, so a retry is scheduled

    submission_id = db.session.scalar(select(func.max(Submission.id)))
    [screening] = logged.of_jobs(JobName.SCREEN_SUBMISSION)
    assert screening["request_id"] == request_id and screening["ids"] == [submission_id]
    assert screening["job_id"] == f"screen-submission-{submission_id}"
    assert screening["outcome"] == "finished" and screening["duration_ms"] > 0
    [receipt] = logged.of_jobs(JobName.DELIVER_MESSAGE)
    assert receipt["request_id"] == request_id and receipt["outcome"] == "finished"
    # The delivery job queued its own retry: the retry carries the request id on.
    scheduled = ScheduledJobRegistry(queue=job_queue(app))
    jobs = [Job.fetch(job_id, connection=scheduled.connection) for job_id in scheduled.get_job_ids()]
    [retry] = [job for job in jobs if job.func_name == JobName.DELIVER_MESSAGE.value]
    assert retry.meta["request_id"] == request_id
    [sweep] = [job for job in jobs if job.func_name == JobName.SWEEP.value]
    assert "request_id" not in sweep.meta  # queued by the worker itself, for no request


def test_jobs_queued_in_a_request_now_after_its_commit_or_later_keep_its_request_id(app):
    with app.test_request_context():
        g.request_id = "r-42"
        enqueue(JobName.SWEEP, job_id="now")
        enqueue_after_commit(JobName.SWEEP, job_id="after-commit")
        enqueue_in(timedelta(minutes=5), JobName.SWEEP, job_id="later")
    db.session.commit()  # the request is over: the job queued now still names it
    connection = job_queue(app).connection
    for job_id in ("now", "after-commit", "later"):
        assert Job.fetch(job_id, connection=connection).meta == {"request_id": "r-42"}, job_id


def test_ordinary_records_carry_the_ids_of_their_request_or_job(app, logged):
    with job_running("job-1", "request-1"):
        logging.getLogger("backoffice.anything").warning("Something to know.")
    with app.test_request_context():
        g.request_id = "request-2"
        logging.getLogger("backoffice.anything").warning("Something else.")
    first, second = [line for line in logged.lines() if line["logger"] == "backoffice.anything"]
    assert first == {**first, "message": "Something to know.", "job_id": "job-1", "request_id": "request-1"}
    assert second["request_id"] == "request-2" and "job_id" not in second


def failing_job(submission_id: int) -> None:
    """A job whose error quotes a person, as a database's error can quote a row."""
    raise ValueError(f"Duplicate: Key (email)=(jean.tremblay@law.example) for submission {submission_id}")


def test_no_personal_information_reaches_the_logs(app, logged, run_worker):
    staff = create_staff("clerk", "western", email="marie.lafleur@irb.example", full_name="Marie Lafleur")
    client = app.test_client()
    assert sign_in(client, "jean.inconnu@law.example", "a wrong password").status_code == 200
    assert sign_in(client, staff.email, PASSWORD).status_code == 302
    page = client.get(QUEUE).get_data(as_text=True)
    search = client.post(
        f"{QUEUE}filters/save/?q=Jean+Tremblay&email=jean.tremblay@law.example",
        data={"name": "Jean Tremblay", "csrf_token": csrf_token_from(page)},
    )
    assert search.status_code == 302
    filer = create_filer("western")
    filer.counsel.full_name, filer.counsel.email = "Jean Tremblay", "jean.tremblay@law.example"
    db.session.commit()
    submission = create_submission(filer, files=[("Jean-Tremblay-passport.pdf", pdf_bytes())])
    job_queue(app).enqueue(f"{__name__}.failing_job", submission.id)
    run_worker()

    lines = logged.lines()
    for personal in (
        "marie.lafleur",
        "Marie Lafleur",
        "jean.inconnu",
        "Jean Tremblay",
        "Jean+Tremblay",
        "jean.tremblay",
        "Jean-Tremblay-passport",
        PASSWORD,
    ):
        assert personal not in logged.text, personal
    assert search.headers["X-Request-Id"] in logged.text
    assert logged.of_request(search.headers["X-Request-Id"])["route"] == f"{QUEUE}filters/save/"
    [failed] = [line for line in lines if line["message"] == "job failed"]
    assert (failed["job"], failed["error"], failed["ids"]) == ("other", "ValueError", [submission.id])
    rq_error = next(line for line in lines if line["logger"] == "rq.worker" and line["level"] == "error")
    assert rq_error["job_id"] == failed["job_id"] and any(
        "failing_job" in frame for frame in rq_error["stack"]
    )


# --------------------------------------------------------------------------------------------- /metrics


def scraped(client) -> dict[tuple[str, frozenset], float]:
    response = client.get("/metrics", headers=SCRAPER)
    assert response.status_code == 200
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.get_data(as_text=True))
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def test_metrics_are_found_only_with_the_scrapers_token(app, client, login_as):
    assert client.get("/metrics", headers=SCRAPER).status_code == 404  # no token configured: nobody
    app.config["METRICS_TOKEN"] = TOKEN
    admin = login_as("admin", "western")
    for asking, headers in (
        (client, {}),
        (client, {"Authorization": "Bearer not-the-token"}),
        (client, {"Authorization": f"Basic {TOKEN}"}),
        (client, {"Authorization": f"Bearer {TOKEN}x"}),
        (admin, {}),  # signed in as an administrator is not the scraper
    ):
        refused = asking.get("/metrics", headers=headers)
        assert refused.status_code == 404 and "backoffice_" not in refused.get_data(as_text=True)
    answered = client.get("/metrics", headers=SCRAPER)
    assert answered.status_code == 200 and answered.content_type.startswith("text/plain")
    assert "Set-Cookie" not in answered.headers and "backoffice_http_requests_total" in answered.get_data(
        as_text=True
    )
    assert client.post("/metrics", headers=SCRAPER).status_code == 405  # a GET only; no CSRF token asked


def test_a_request_counts_for_its_endpoint_and_status(app, client, login_as):
    app.config["METRICS_TOKEN"] = TOKEN
    clerk = login_as("clerk", "western")
    labels = {"endpoint": "registry_queue.index", "method": "GET", "status": "200"}
    before = scraped(client)
    assert clerk.get(QUEUE).status_code == 200
    after = scraped(client)
    assert value(after, "backoffice_http_requests_total", **labels) == (
        value(before, "backoffice_http_requests_total", **labels) + 1
    )
    count = "backoffice_http_request_duration_seconds_count"
    assert value(after, count, **labels) == value(before, count, **labels) + 1
    assert value(after, "backoffice_http_requests_total", endpoint="metrics", method="GET", status="200") > 0


def test_a_screening_observes_its_seconds_per_page_and_counts_the_job(app, client, run_worker):
    app.config["METRICS_TOKEN"] = TOKEN
    before = scraped(client)
    create_submission(create_filer("western"), files=[("letter.pdf", pdf_bytes(pages=3))])
    run_worker()
    after = scraped(client)
    pages = "backoffice_screening_seconds_per_page_count"
    assert value(after, pages) == value(before, pages) + 1
    assert value(after, "backoffice_screening_seconds_per_page_sum") > value(
        before, "backoffice_screening_seconds_per_page_sum"
    )
    job = {"job": JobName.SCREEN_SUBMISSION.value, "outcome": "finished"}
    assert value(after, "backoffice_jobs_total", **job) == value(before, "backoffice_jobs_total", **job) + 1


def test_queue_lengths_and_the_outbox_are_what_the_database_holds(app, client):
    app.config["METRICS_TOKEN"] = TOKEN
    for _ in range(2):
        with_registry("western")
    with_registry("central")
    with_division(files=1)  # western
    held = db.session.execute(
        select(Office.code, Submission.status, func.count())
        .join(Office, Office.id == Submission.office_id)
        .where(Submission.status.in_(QUEUES))
        .group_by(Office.code, Submission.status)
    ).all()
    assert {(code, status.value): count for code, status, count in held} == {
        ("western", "with_registry"): 2,
        ("western", "with_division"): 1,
        ("central", "with_registry"): 1,
    }
    samples = scraped(client)
    for code in ("western", "central", "eastern"):
        for queue in QUEUES:
            expected = dict(((c, s.value), n) for c, s, n in held).get((code, queue.value), 0)
            assert (
                value(samples, "backoffice_submissions_waiting", queue=queue.value, office=code) == expected
            )
    outbox = dict(
        db.session.execute(select(Notification.status, func.count()).group_by(Notification.status)).all()
    )
    assert sum(outbox.values()) > 0  # each submission's receipt waits in the outbox
    for status in OUTBOX_STATUSES:
        assert value(samples, "backoffice_outbox_messages", status=status.value) == outbox.get(status, 0)
    queue_name = app.config["RQ_QUEUE"]
    assert value(samples, "backoffice_rq_jobs", queue=queue_name, state="queued") == job_queue(app).count
    assert value(samples, "backoffice_metrics_source_up", source="database") == 1


def test_failed_sign_ins_and_a_lockout_are_counted(app, client):
    app.config["METRICS_TOKEN"] = TOKEN
    staff = create_staff("clerk", "western")
    before = scraped(client)
    sign_in(client, "nobody@staff.example", PASSWORD)
    for _ in range(app.config["SIGN_IN_MAX_FAILURES"]):
        sign_in(client, staff.email, "not the password")
    sign_in(client, staff.email, PASSWORD)  # refused: locked
    after = scraped(client)
    failures = "backoffice_sign_in_failures_total"
    for reason, more in (
        ("unknown_account", 1),
        ("wrong_password", app.config["SIGN_IN_MAX_FAILURES"]),
        ("locked", 1),
    ):
        assert value(after, failures, reason=reason) == value(before, failures, reason=reason) + more, reason
    lockouts = "backoffice_account_lockouts_total"
    assert value(after, lockouts) == value(before, lockouts) + 1


def test_delivery_and_webex_errors_are_counted_by_provider_and_kind(app, client, notify_emulator, run_worker):
    app.config.update(METRICS_TOKEN=TOKEN, EMAIL_PROVIDER="notify")
    errors = "backoffice_integration_errors_total"
    before = scraped(client)
    notify_emulator.fail_next(503)
    counsel = create_counsel()
    queue_message("invitation", TEMPLATES["invitation"].sample, counsel=counsel, case=create_case("western"))
    db.session.commit()
    run_worker()
    with pytest.raises(webex.WebexTemporaryError):  # nothing listens where Webex is configured
        webex.get_meeting(webex.WebexSettings.from_config(app.config), "a-meeting")
    after = scraped(client)
    for provider in ("notify", "webex"):
        assert value(after, errors, provider=provider, kind="temporary") == (
            value(before, errors, provider=provider, kind="temporary") + 1
        ), provider


# --------------------------------------------------------------------------------------------- processes

COUNTING_PROCESS = """
import os
from backoffice.observability.metrics import REQUESTS_IN_PROGRESS, count_job, count_sign_in_failure
count_sign_in_failure("wrong_password")
count_job("jobs.screening.screen_submission", "finished", 0.2)
REQUESTS_IN_PROGRESS.inc()
print(os.getpid())
"""


def test_multiprocess_mode_adds_up_the_processes_on_the_web_and_on_the_workers_port(app, client, tmp_path):
    folder = tmp_path / "metrics"
    folder.mkdir()
    environment = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(folder)}
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", COUNTING_PROCESS],
            cwd=PROJECT_ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    pids = [int(process.communicate(timeout=60)[0]) for process in processes]
    app.config.update(METRICS_TOKEN=TOKEN, PROMETHEUS_MULTIPROC_DIR=str(folder))

    samples = scraped(client)
    assert value(samples, "backoffice_sign_in_failures_total", reason="wrong_password") == 2
    finished = {"job": JobName.SCREEN_SUBMISSION.value, "outcome": "finished"}
    assert value(samples, "backoffice_jobs_total", **finished) == 2
    assert value(samples, "backoffice_job_duration_seconds_sum", job=finished["job"]) == pytest.approx(0.4)
    assert value(samples, "backoffice_submissions_waiting", queue="with_registry", office="western") == 0
    # A live gauge counts the processes alive: gunicorn's child_exit marks a dead one.
    assert value(samples, "backoffice_http_requests_in_progress") == 2
    mark_process_dead(pids[0], str(folder))
    assert value(scraped(client), "backoffice_http_requests_in_progress") == 1

    server = serve_worker_metrics(str(folder), 0)
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{server.server_port}/metrics", timeout=10) as answer:
            text = answer.read().decode()
    finally:
        server.shutdown()
        server.server_close()
    assert 'backoffice_jobs_total{job="jobs.screening.screen_submission",outcome="finished"} 2.0' in text
    assert "backoffice_submissions_waiting" not in text  # the web's scrape reads those, once


def test_a_workers_horses_count_into_one_set_of_files_and_its_port_is_served(app, tmp_path):
    folder = tmp_path / "metrics"
    folder.mkdir()
    for number in range(3):
        enqueue(JobName.DELIVER_MESSAGE, 900_000 + number)  # no such message: each job ends at once
    db.session.commit()
    (folder / "counter_1.db").write_bytes(b"")  # a process of a run before: the worker empties its folder
    worker = subprocess.Popen(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst", "--metrics-port", "0"],
        cwd=PROJECT_ROOT,
        env={**environment_for(app), "PROMETHEUS_MULTIPROC_DIR": str(folder)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    output, errors = worker.communicate(timeout=120)
    assert worker.returncode == 0, errors
    assert "Worker metrics: http://127.0.0.1:" in output
    # Three horses, forked one after another, wrote into the files of their worker's horses.
    named_for = {path.stem.rpartition("_")[2] for path in Path(folder).glob("*.db")}
    assert named_for <= {str(worker.pid), f"rqhorse-{worker.pid}"}, named_for
    app.config.update(METRICS_TOKEN=TOKEN, PROMETHEUS_MULTIPROC_DIR=str(folder))
    finished = {"job": JobName.DELIVER_MESSAGE.value, "outcome": "finished"}
    assert value(scraped(app.test_client()), "backoffice_jobs_total", **finished) == 3
    lines = [json.loads(line) for line in errors.splitlines() if line.startswith("{")]
    assert not lines  # text logs in development, as before


def test_the_metrics_port_needs_the_multiprocess_folder(app):
    result = run_command(app, "worker", "--burst", "--metrics-port", "0")
    assert result.exit_code != 0 and "PROMETHEUS_MULTIPROC_DIR" in result.output


# --------------------------------------------------------------------------------------------- readiness


def test_a_flood_of_readyz_costs_one_probe_of_each_part_per_two_seconds(app, client, monkeypatch):
    probed = []
    for name, probe in list(health.PARTS.items()):  # the real probes, counted
        monkeypatch.setitem(health.PARTS, name, lambda name=name, probe=probe: (probed.append(name), probe()))
    clock = [1000.0]
    monkeypatch.setattr(health, "_now", lambda: clock[0])
    assert {client.get("/readyz").status_code for _ in range(20)} == {200}
    assert sorted(probed) == sorted(health.PARTS)
    clock[0] += health.ANSWER_KEPT_SECONDS
    assert client.get("/readyz").status_code == 200
    assert len(probed) == 2 * len(health.PARTS)


def test_readyz_answers_within_seconds_when_redis_takes_connections_but_never_answers(app, monkeypatch):
    client = app.test_client()
    with socket.create_server(("127.0.0.1", 0)) as silent:  # listens, never reads: a hung Redis
        monkeypatch.setitem(app.config, "REDIS_URL", f"redis://127.0.0.1:{silent.getsockname()[1]}/0")
        monkeypatch.delitem(app.extensions, "redis", raising=False)
        answered = []
        asking = threading.Thread(target=lambda: answered.append(client.get("/readyz")), daemon=True)
        started = time.monotonic()
        asking.start()
        asking.join(timeout=health.PROBE_SECONDS + 4)
        waited = time.monotonic() - started
    asking.join(timeout=5)  # closing the socket resets a connection waiting on it
    assert waited < health.PROBE_SECONDS + 4, "/readyz waits on an unanswering Redis"
    assert answered[0].status_code == 503 and answered[0].get_json()["failing"] == ["redis"]


def test_the_workers_metrics_port_listens_on_another_address_only_with_the_scrapers_token(app, tmp_path):
    from backoffice.cli import _serve_worker_metrics

    app.config["PROMETHEUS_MULTIPROC_DIR"] = str(tmp_path)
    refused = run_command(app, "worker", "--burst", "--metrics-port", "0", "--metrics-address", "192.0.2.10")
    assert refused.exit_code != 0
    assert "reachable from other hosts: set METRICS_TOKEN" in refused.output
    assert "joignable depuis d'autres hôtes" in refused.output  # and in French, for the operator

    app.config["METRICS_TOKEN"] = TOKEN
    server = _serve_worker_metrics(app, "0.0.0.0", 0)  # noqa: S104 (what is tried)
    try:
        url = f"http://127.0.0.1:{server.server_port}/metrics"
        answers = [
            requests.get(url, headers=headers, timeout=5)
            for headers in ({}, {"Authorization": "Bearer not-the-token"}, SCRAPER)
        ]
    finally:
        server.shutdown()
        server.server_close()
    assert [answer.status_code for answer in answers] == [404, 404, 200]
    assert answers[2].headers["Content-Type"].startswith("text/plain")  # Prometheus' text format


def test_gunicorn_empties_the_metrics_folder_before_its_workers_start(monkeypatch, tmp_path):
    for name in ("counter_4242.db", "histogram_4242.db"):
        (tmp_path / name).write_bytes(b"")
    monkeypatch.setenv("PROMETHEUS_MULTIPROC_DIR", str(tmp_path))
    settings = runpy.run_path(str(PROJECT_ROOT / "gunicorn.conf.py"))
    settings["on_starting"](SimpleNamespace(log=logging.getLogger("gunicorn.error")))
    assert list(tmp_path.iterdir()) == []


def test_the_aws_sdk_and_its_http_library_never_log_below_warning(app):
    configure_logging("json", "DEBUG")
    try:
        for name in ("botocore", "boto3", "urllib3", "s3transfer"):
            assert logging.getLogger(name).getEffectiveLevel() == logging.WARNING, name
    finally:
        configure_logging(app.config["LOG_FORMAT"], app.config["LOG_LEVEL"])
