"""`make loadtest`: the production topology under a working day's load, then a count that nothing was lost.

Starts the topology (backoffice/devservices/topology.py: nginx with TLS, 2 web processes, N workers,
PostgreSQL, Redis, SeaweedFS), runs locust headless (loadtest/locustfile.py) for a bounded time on loopback:
the portal posting submissions of 1 to 5 PDFs at a steady rate, and staff working the queues at human pace.
With --chaos, the worker running a job is killed (SIGKILL, with its work horse) at 40 % of the run and
started again 10 s later, and Redis is stopped at 60 % for 20 s and started again empty. Then it waits for
the back office to finish what it was given and prints: submissions per minute sustained, p50/p95/p99 per page, the screening backlog over time, errors, how long the
work caught by each failure took to finish after recovery, and the loss count (every 201 has its rows, each of
its objects in the bucket with the right hash, its screening and its receipt sent).

    python -m loadtest.run --minutes 5 --workers 3 --rate 600 --staff 50 --chaos

Exits non-zero when anything was lost, a request failed or the work did not finish.
"""

import argparse
import csv
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from redis import Redis
from rq import Worker
from sqlalchemy import create_engine, text
from sqlalchemy.engine import Engine

from backoffice.devservices.topology import PROJECT_ROOT, Process, Topology

FINISH_WITHIN_SECONDS = 300  # the product's promise after a failure
REDIS_DOWN_SECONDS = 20
PORTAL_USERS = 2
STAFF_PAGES = ("GET /admin/", "POST /admin/")  # the pages of a working day (signing in once is not one)


@dataclass
class Backlog:
    """Samples, every `every` seconds, of what waits: submissions not yet screened and messages not yet sent."""

    engine: Engine
    every: float = 15.0
    samples: list[tuple[float, int, int]] = field(default_factory=list)
    started: float = field(default_factory=time.monotonic)
    stopped: threading.Event = field(default_factory=threading.Event)

    def count(self) -> tuple[int, int]:
        with self.engine.connect() as connection:
            screening = connection.scalar(
                text("SELECT count(*) FROM submissions WHERE status IN ('received', 'screening')")
            )
            outbox = connection.scalar(
                text("SELECT count(*) FROM notifications WHERE status IN ('queued', 'sending', 'retrying')")
            )
        return screening, outbox

    def start(self) -> "Backlog":
        threading.Thread(target=self._sample, daemon=True).start()
        return self

    def _sample(self) -> None:
        while not self.stopped.wait(self.every):
            self.samples.append((time.monotonic() - self.started, *self.count()))


@dataclass
class Chaos:
    """The failures of a bad day, at set points of the run; each recovery's time is kept (UTC)."""

    topology: Topology
    seconds: float
    recoveries: dict[str, datetime] = field(default_factory=dict)

    def run(self) -> None:
        time.sleep(self.seconds * 0.4)
        victim = self._busy_worker()
        _say(f"SIGKILL {victim.name} and its children (the job under way is left as a crash leaves it)")
        victim.kill()
        self.recoveries["a worker killed mid-job (from the kill; the others carry on)"] = datetime.now(UTC)
        time.sleep(10)
        victim.start()
        _say(f"{victim.name} started again")
        time.sleep(self.seconds * 0.2)
        _say(f"Redis stopped for {REDIS_DOWN_SECONDS} s, then started empty: every job it held is gone")
        self.topology.redis.stop()
        time.sleep(REDIS_DOWN_SECONDS)  # submissions keep arriving: their jobs cannot be queued
        self.topology.redis.start()
        self.recoveries["Redis down, then restarted empty"] = datetime.now(UTC)
        _say("Redis is back")

    def _busy_worker(self, seconds: float = 60) -> Process:
        """The worker that is running a job now (waiting up to `seconds` for one to be), else the first."""
        connection = Redis.from_url(self.topology.redis.url)
        by_pid = {worker.process.pid: worker for worker in self.topology.workers}
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for worker in Worker.all(connection=connection):
                if worker.get_state() == "busy" and worker.pid in by_pid:
                    return by_pid[worker.pid]
            time.sleep(0.2)
        return self.topology.workers[0]


def main() -> int:
    options = _options()
    root = Path(tempfile.mkdtemp(prefix="backoffice-loadtest-"))
    topology = Topology(root, worker_count=options.workers)
    _say(f"starting the topology under {root}: nginx, 2 web processes, {options.workers} workers")
    topology.start()
    try:
        return _load(topology, options, root)
    finally:
        topology.stop()


def _load(topology: Topology, options: argparse.Namespace, root: Path) -> int:
    engine = create_engine(topology.database_url.replace("postgresql://", "postgresql+psycopg://", 1))
    results = root / "results.jsonl"
    results.touch()
    plan = root / "plan.json"
    pacing = 3600 * PORTAL_USERS / options.rate
    plan.write_text(
        json.dumps(
            {
                **topology.plan,
                "portal_users": PORTAL_USERS,
                "portal_pacing_seconds": pacing,
                "certificate": str(topology.certificate[0]),
            }
        )
    )
    backlog = Backlog(engine).start()
    chaos = Chaos(topology, options.minutes * 60)
    if options.chaos:
        threading.Thread(target=chaos.run, daemon=True).start()
    started = time.monotonic()
    _run_locust(topology.url, plan, results, options, root)
    load_seconds = time.monotonic() - started
    finished_after = _wait_until_done(backlog, FINISH_WITHIN_SECONDS)
    backlog.stopped.set()
    accepted = [json.loads(line) for line in results.read_text().splitlines() if line]
    lost = _count_losses(engine, topology, accepted)
    stats = _stats(root)
    errors = sum(int(row["Failure Count"]) for row in stats if row["Name"] == "Aggregated")
    print()
    _say(
        f"{options.minutes:g} min, {options.workers} workers, {options.staff} staff, portal at {options.rate}/h"
    )
    print(f"Submissions answered 201: {len(accepted)} ({len(accepted) / (load_seconds / 60):.1f} per minute)")
    _print_pages(stats)
    _print_backlog(backlog)
    print(f"Errors (failed requests): {errors}")
    print(
        f"Everything screened and sent {finished_after:.0f} s after the load ended"
        if finished_after is not None
        else f"NOT finished within {FINISH_WITHIN_SECONDS} s of the end of the load"
    )
    late = _print_recoveries(engine, chaos.recoveries)
    print("Lost: " + ", ".join(f"{count} {what}" for what, count in lost.items()))
    return 0 if not any(lost.values()) and errors == 0 and finished_after is not None and not late else 1


def _run_locust(url: str, plan: Path, results: Path, options: argparse.Namespace, root: Path) -> None:
    command = [
        sys.executable, "-m", "locust", "-f", str(PROJECT_ROOT / "loadtest" / "locustfile.py"), "--headless",
        "--host", url, "--users", str(options.staff + PORTAL_USERS), "--spawn-rate", "1",
        "--run-time", f"{options.minutes * 60:.0f}s", "--csv", str(root / "locust"), "--only-summary",
        "--stop-timeout", "60", "--exit-code-on-error", "0", "--loglevel", "WARNING",
    ]  # fmt: skip
    env = {
        **os.environ,
        "LOADTEST_PLAN": str(plan),
        "LOADTEST_RESULTS": str(results),
        "PYTHONWARNINGS": "ignore",
    }
    subprocess.run(command, cwd=PROJECT_ROOT, env=env, check=True, timeout=options.minutes * 60 + 600)  # noqa: S603


def _wait_until_done(backlog: Backlog, seconds: float) -> float | None:
    """Seconds after the load until nothing waits (no screening, no message to send), or None if never."""
    started = time.monotonic()
    while time.monotonic() - started < seconds:
        if backlog.count() == (0, 0):
            return time.monotonic() - started
        time.sleep(1)
    return None


def _count_losses(engine: Engine, topology: Topology, accepted: list[dict]) -> dict[str, int]:
    """Every 201: its rows, each object in the bucket with the right hash, its screening and its receipt."""
    with engine.connect() as connection:
        status = dict(connection.execute(text("SELECT public_id, status FROM submissions")).all())
        files: dict[str, list[str]] = {}
        pairs = "SELECT s.public_id, a.sha256 FROM attachments a JOIN submissions s ON s.id = a.submission_id"
        for public_id, sha256 in connection.execute(text(pairs)):
            files.setdefault(public_id, []).append(sha256)
        sent = (
            "SELECT \"values\" FROM notifications WHERE template = 'submission_receipt' AND status = 'sent'"
        )
        receipts = {_values(row[0])["submission_id"] for row in connection.execute(text(sent))}
    store = topology.document_store()
    objects = {sha256 for item in accepted for sha256 in item["attachments"]}
    return {
        "without their rows": sum(item["id"] not in status for item in accepted),
        "with files missing": sum(
            sorted(files.get(item["id"], [])) != sorted(item["attachments"]) for item in accepted
        ),
        "objects missing or wrong": sum(not _object_is_right(store, sha256) for sha256 in objects),
        "not screened": sum(status.get(item["id"]) in ("received", "screening") for item in accepted),
        "without a receipt sent": sum(item["id"] not in receipts for item in accepted),
    }


def _values(stored) -> dict:
    return json.loads(stored) if isinstance(stored, str) else stored


def _object_is_right(store, sha256: str) -> bool:
    digest = hashlib.sha256()
    try:
        opened = store.open(sha256)
        with opened.stream as stream:
            for chunk in iter(lambda: stream.read(1024 * 1024), b""):
                digest.update(chunk)
    except Exception:  # noqa: BLE001 (missing or unreadable: counted as lost)
        return False
    return digest.hexdigest() == sha256


def _stats(root: Path) -> list[dict[str, str]]:
    with (root / "locust_stats.csv").open() as stats:
        return list(csv.DictReader(stats))


def _print_pages(stats: list[dict[str, str]]) -> None:
    print(f"{'page':<44} {'requests':>8} {'errors':>6} {'p50 ms':>7} {'p95 ms':>7} {'p99 ms':>7}")
    for row in stats:
        print(
            f"{row['Name'][:44]:<44} {row['Request Count']:>8} {row['Failure Count']:>6} "
            f"{row['50%']:>7} {row['95%']:>7} {row['99%']:>7}"
        )
    staff = [row for row in stats if row["Name"].startswith(STAFF_PAGES)]
    if staff:
        worst = max(staff, key=lambda row: float(row["95%"]))
        print(f"Slowest staff page at p95: {worst['Name']} {worst['95%']} ms")


def _print_backlog(backlog: Backlog) -> None:
    print("Backlog over time (seconds into the run: submissions waiting for screening / messages waiting):")
    line = ", ".join(f"{seconds:.0f}s {screening}/{outbox}" for seconds, screening, outbox in backlog.samples)
    print(f"  {line}")
    if backlog.samples:
        print(f"  most waiting at once: {max(sample[1] for sample in backlog.samples)} submissions")


def _print_recoveries(engine: Engine, recoveries: dict[str, datetime]) -> bool:
    """For each failure, how long after recovery the last of the work it caught was done: the submissions
    received before and not yet screened, the messages queued before and not yet sent. Returns whether any
    took longer than promised."""
    late = False
    for failure, recovered in recoveries.items():
        with engine.connect() as connection:
            caught, screened = connection.execute(
                text(
                    "SELECT count(DISTINCT s.id), max(a.screened_at) FROM attachments a "
                    "JOIN submissions s ON s.id = a.submission_id WHERE s.received_at <= :at AND a.screened_at > :at"
                ),
                {"at": recovered},
            ).one()
            messages, sent = connection.execute(
                text(
                    "SELECT count(*), max(sent_at) FROM notifications WHERE created_at <= :at AND sent_at > :at"
                ),
                {"at": recovered},
            ).one()
        parts = []
        for what, count, done in (("screenings", caught, screened), ("messages", messages, sent)):
            seconds = (_utc(done) - recovered).total_seconds() if done else 0.0
            late = late or seconds > FINISH_WITHIN_SECONDS
            parts.append(f"{count} {what} waiting at recovery, the last done {seconds:.0f} s after it")
        print(f"{failure}: " + "; ".join(parts))
    return late


def _utc(moment: datetime) -> datetime:
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _say(message: str) -> None:
    print(f"[loadtest] {message}", flush=True)


def _options() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--minutes", type=float, default=5, help="how long the load lasts")
    parser.add_argument("--workers", type=int, default=3)
    parser.add_argument("--rate", type=int, default=600, help="submissions per hour from the portal")
    parser.add_argument("--staff", type=int, default=50, help="staff users working at human pace")
    parser.add_argument(
        "--chaos", action="store_true", help="kill a worker and restart Redis during the load"
    )
    return parser.parse_args()


if __name__ == "__main__":
    sys.exit(main())
