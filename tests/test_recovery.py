"""Recovery after a crash: a real worker killed in the middle of a screening is replaced by a new one that
takes over at once what the dead one left (the screening, a delivery retry its scheduler held) and does each
once; and `make run` starts a worker that stopped again, after a pause, while the web server keeps running."""

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from rq.exceptions import NoSuchJobError
from rq.job import Job, JobStatus
from rq.registry import StartedJobRegistry
from sqlalchemy import func, select

from backoffice.devservices import sample_pdfs
from backoffice.devservices.run import RestartingChild, supervise
from backoffice.extensions import db
from backoffice.models import AuditEvent, CheckResultRecord, Notification, NotificationStatus, Submission
from backoffice.models import SubmissionStatus as Status
from backoffice.queue import job_queue
from backoffice.worker import keep_the_sweep_going
from backoffice.workflows import submissions
from backoffice.workflows.jobs import SWEEP_JOB_ID
from tests.factories import create_filer, create_submission
from tests.helpers import PROJECT_ROOT, environment_for, work_the_queue

DEADLINE_SECONDS = 120  # what the product promises after a restart; the outcome is asserted, not the time


def until(condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not condition():
        assert time.monotonic() < deadline, f"not within {DEADLINE_SECONDS} s: {what}"
        time.sleep(0.02)


def status_of(model, record_id: int):
    db.session.commit()  # a fresh snapshot: the workers write meanwhile
    return db.session.get(model, record_id).status


def job_status(app, job_id: str) -> JobStatus | None:
    try:
        return Job.fetch(job_id, connection=job_queue(app).connection).get_status()
    except NoSuchJobError:
        return None


@pytest.fixture
def workers(app, tmp_path):
    """`workers()` starts the real worker command (not in burst mode) in its own process group, so that it
    can be killed with its scheduler and work horse; whatever still runs is stopped after the test."""
    started: list[subprocess.Popen] = []

    def _start() -> subprocess.Popen:
        db.session.commit()
        with (tmp_path / f"worker-{len(started) + 1}.log").open("w") as log:
            started.append(
                subprocess.Popen(
                    [sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
                    cwd=PROJECT_ROOT,
                    env=environment_for(app),
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    start_new_session=True,
                )
            )
        return started[-1]

    yield _start
    for process in started:
        process.terminate()
    for process in started:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def kill_session(worker: subprocess.Popen) -> None:
    """SIGKILL every process of the worker's session, as when its machine or container goes down: the worker,
    its scheduler and its work horse (which rq puts in a process group of its own). All are stopped first,
    so that none sees another die."""
    members = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rpartition(")")[2].split()
        except OSError:  # ended meanwhile
            continue
        if int(fields[3]) == worker.pid:  # field 6 of proc(5), the session
            members.append(int(stat.parent.name))
    for signal_number in (signal.SIGSTOP, signal.SIGKILL):
        for pid in members:
            os.kill(pid, signal_number)
    worker.wait()


def crash_mid_screening(app, smtp_sink, workers) -> tuple[int, int]:
    """A submission is received; its receipt fails once (the mail server is down) and waits for its retry in
    rq's schedule; the worker and its scheduler are killed while the screening runs; the mail server comes
    back. Returns the submission's and the receipt's ids."""
    app.config["DELIVERY_RETRY_BASE_SECONDS"] = 4  # the retry falls due after the kill
    smtp_sink.stop()
    files = [(f"part-{n}.pdf", sample_pdfs.numbered_document(100)) for n in (1, 2)]
    submission_id = create_submission(create_filer("western", "RPD"), "disclosure", files=files).id
    receipt_id = db.session.scalar(select(Notification.id))
    worker = workers()
    job_id = submissions.screening_job_id(submission_id)
    until(lambda: job_status(app, job_id) is JobStatus.STARTED, "the screening started")
    kill_session(worker)
    assert status_of(Submission, submission_id) in (Status.RECEIVED, Status.SCREENING), "it finished first"
    assert status_of(Notification, receipt_id) is NotificationStatus.RETRYING
    smtp_sink.start()
    return submission_id, receipt_id


def until_recovered(submission_id: int, receipt_id: int) -> None:
    until(lambda: status_of(Submission, submission_id) is Status.WITH_REGISTRY, "the screening finished")
    until(
        lambda: status_of(Notification, receipt_id) is NotificationStatus.SENT, "the receipt's retry went out"
    )


@pytest.mark.worker
def test_a_worker_killed_mid_screening_is_replaced_by_one_that_finishes_it_and_sends_the_due_retry(
    app, smtp_sink, workers
):
    submission_id, receipt_id = crash_mid_screening(app, smtp_sink, workers)

    workers()

    until_recovered(submission_id, receipt_id)
    receipt = db.session.get(Notification, receipt_id)
    [message] = smtp_sink.messages
    assert receipt.reference in message["Message-ID"] and receipt.attempts == 2
    screened = db.session.get(Submission, submission_id)
    assert all(attachment.page_count == 100 for attachment in screened.attachments)


@pytest.mark.worker
def test_workers_restarted_together_after_a_crash_screen_once_and_send_once(app, smtp_sink, workers):
    submission_id, receipt_id = crash_mid_screening(app, smtp_sink, workers)

    workers(), workers()

    until_recovered(submission_id, receipt_id)
    queue = job_queue(app)
    started = StartedJobRegistry(queue=queue)
    until(lambda: queue.count == 0 and started.get_job_count(cleanup=False) == 0, "nothing left to run")
    assert len(smtp_sink.messages) == 1
    assert db.session.get(Notification, receipt_id).attempts == 2

    def actions(action: str) -> int:
        return db.session.scalar(select(func.count()).where(AuditEvent.action == action))

    assert actions("submission.screening_requeued") == 1
    assert actions("submission.finish_screening") == 1
    results = select(CheckResultRecord.attachment_id, CheckResultRecord.code).where(
        CheckResultRecord.submission_id == submission_id
    )
    rows = db.session.execute(results).all()
    assert rows and len(rows) == len(set(rows)), "a check result stored twice"


@pytest.mark.worker
def test_a_worker_stopped_with_sigterm_finishes_the_screening_under_way_then_exits(app, workers):
    files = [(f"part-{n}.pdf", sample_pdfs.numbered_document(100)) for n in (1, 2)]
    submission_id = create_submission(create_filer("western", "RPD"), "disclosure", files=files).id
    worker = workers()
    job_id = submissions.screening_job_id(submission_id)
    until(lambda: job_status(app, job_id) is JobStatus.STARTED, "the screening started")

    worker.send_signal(signal.SIGTERM)  # what an orchestrator sends to scale down or roll out

    assert worker.wait(timeout=DEADLINE_SECONDS) == 0
    assert status_of(Submission, submission_id) is Status.WITH_REGISTRY
    assert job_status(app, job_id) is JobStatus.FINISHED


def test_a_redis_restarted_empty_gets_its_sweep_back_at_the_next_maintenance(app):
    queue = job_queue(app)
    queue.connection.flushdb()  # what a restart of a Redis that keeps nothing on disk leaves

    assert keep_the_sweep_going(queue) is True
    assert job_status(app, SWEEP_JOB_ID) is JobStatus.QUEUED
    assert keep_the_sweep_going(queue) is False  # another worker's maintenance: still one sweep
    assert queue.job_ids.count(SWEEP_JOB_ID) == 1


def test_a_sweep_that_finished_and_scheduled_its_next_is_not_queued_again(app):
    queue = job_queue(app)
    queue.connection.flushdb()
    work_the_queue(app)  # the worker's start schedules the sweep; the scheduler has not run it yet
    assert SWEEP_JOB_ID in queue.scheduled_job_registry
    # What rq leaves when the sweep that scheduled this one finishes: the shared id's record says "finished".
    Job.fetch(SWEEP_JOB_ID, connection=queue.connection).set_status(JobStatus.FINISHED)

    assert keep_the_sweep_going(queue) is False
    assert SWEEP_JOB_ID not in queue.get_job_ids()


# `make run`: the supervisor starts a worker that stopped again, after a pause, without waiting itself.


class Clock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def exits_at_once() -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-c", "raise SystemExit(3)"])


def announced_pause(stderr: str) -> float:
    return float(
        re.fullmatch(r"The job worker stopped \(exit code 3\); starting it again in (\S+) s\.\n", stderr)[1]
    )


def test_make_run_starts_a_stopped_worker_again_after_a_pause_that_doubles_up_to_30_s(capsys):
    clock = Clock()
    worker = RestartingChild("job worker", exits_at_once, clock)
    pauses = []
    for ran_for in (0, 0, 0, 0, 0, 0, 0, 60):
        stopped = worker.process
        stopped.wait()
        clock.now += ran_for
        worker.check()
        pauses.append(announced_pause(capsys.readouterr().err))
        clock.now += pauses[-1] - 0.5
        worker.check()
        assert worker.process is stopped, "started again before its pause was over"
        clock.now += 0.5
        worker.check()
        assert worker.process is not stopped and worker.process.args == stopped.args
    worker.process.wait()
    assert pauses == [1, 2, 4, 8, 16, 30, 30, 1]  # short again after it had run a minute


def test_make_run_keeps_the_web_server_running_while_the_worker_is_started_again(capsys):
    web_server = subprocess.Popen(
        [sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=subprocess.PIPE
    )
    clock = Clock()
    starts = []

    def start_worker() -> subprocess.Popen:
        starts.append(exits_at_once())
        return starts[-1]

    worker = RestartingChild("job worker", start_worker, clock)

    def sleep(seconds: float) -> None:
        assert web_server.poll() is None, "the web server was stopped"
        worker.process.wait()  # each turn finds the worker stopped
        clock.now += seconds
        if len(starts) == 4:  # started again three times: now the web server stops
            web_server.stdin.close()
            web_server.wait()

    assert supervise([web_server], [worker], sleep) == 1
    worker.process.wait()
    lines = capsys.readouterr().err.splitlines()
    assert lines == [
        "The job worker stopped (exit code 3); starting it again in 1 s.",
        "The job worker stopped (exit code 3); starting it again in 2 s.",
        "The job worker stopped (exit code 3); starting it again in 4 s.",
        "A process stopped; stopping the others.",
    ]


def test_a_worker_killed_by_a_signal_is_announced_by_the_signal(capsys):
    worker = RestartingChild(
        "job worker", lambda: subprocess.Popen([sys.executable, "-c", "import os; os.kill(os.getpid(), 9)"])
    )
    worker.process.wait()
    worker.check()
    assert (
        capsys.readouterr().err == "The job worker stopped (killed by SIGKILL); starting it again in 1 s.\n"
    )
