"""The work queues, the submission page and the supervisor dashboard at volume, on PostgreSQL.

Builds a database of its own (BENCH_DATABASE_URL, default postgresql://postgres@127.0.0.1:5432/irb_bench,
dropped and made again), migrates it and fills it with the `seed-volume` generator: 2,000 submissions, then
200,000 (BENCH_QUEUE_SMALL / BENCH_QUEUE_LARGE), on the same 20,000 counsel and 60,000 cases. At each size it
signs in through the sign-in form and times each page in this process with the Flask test client, counting
the SQL statements it issues. Prints the median and 95th percentile, the statements and the rows shown, the
ratio between the sizes, whether each target is met, and the plan of the slowest statement of a page that
misses one.

Run alone with `python -m benchmarks.queues`.
"""

import os
import re
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import Flask
from flask_migrate import upgrade
from sqlalchemy import String, cast, create_engine, event, func, select, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from backoffice import create_app
from backoffice.extensions import db
from backoffice.models import (
    Attachment,
    AuditEvent,
    Case,
    Counsel,
    Division,
    Office,
    Submission,
)
from backoffice.workflows.volume import VOLUME_PASSWORD, VolumeRequest, load_volume, staff_email
from config import DevelopmentConfig

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/irb_bench"
SMALL = int(os.environ.get("BENCH_QUEUE_SMALL", "2000"))
LARGE = int(os.environ.get("BENCH_QUEUE_LARGE", "200000"))
COUNSEL, CASES = 20_000, 60_000
WARM_UP, REPEATS = 3, 30
SEED = 2026
QUEUE_TARGET_MS = 150
RATIO_TARGET = 1.5


@dataclass(frozen=True)
class Page:
    label: str
    url: str
    user: str  # the email of who opens it
    rows: Callable[[str], int]  # what it shows, counted in its HTML


@dataclass
class Measure:
    status: int
    median_ms: float = 0.0
    p95_ms: float = 0.0
    statements: list[tuple[str, dict, float]] = field(default_factory=list)  # statement, parameters, ms
    rows: int = 0


def queue_rows(html: str) -> int:
    return html.count('data-testid="queue-row"')


def table_rows(html: str) -> int:
    return len(re.findall(r"<tr[ >]", html))


def main() -> None:
    url = _psycopg_url(os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    problem = "not a PostgreSQL URL" if url.get_backend_name() != "postgresql" else _recreate_database(url)
    if problem:
        print(
            "work queues at volume: skipped; this benchmark needs PostgreSQL at BENCH_DATABASE_URL "
            f"(default {DEFAULT_URL}): {problem}"
        )
        return
    started = time.perf_counter()
    app = create_app(
        DevelopmentConfig,
        SQLALCHEMY_DATABASE_URI=url.render_as_string(hide_password=False),
        REDIS_URL=os.environ.get("BENCH_REDIS_URL"),
        WTF_CSRF_ENABLED=False,
    )
    with app.app_context():
        upgrade()
        version = db.session.scalar(text("SHOW server_version"))
    print(
        f"work queues at volume (PostgreSQL {version}, {os.cpu_count()} cores; {COUNSEL:,} counsel and "
        f"{CASES:,} cases at both sizes; {REPEATS} timed requests after {WARM_UP} warm-up ones, "
        "pages in turn):"
    )
    _seed(app, VolumeRequest(SMALL, COUNSEL, CASES, seed=SEED), f"{SMALL:,} submissions, counsel and cases")
    pages = _pages(app)
    results_small = _measure_all(app, pages)
    _seed(
        app,
        VolumeRequest(LARGE - SMALL, 0, 0, seed=SEED + 1, add=True),
        f"{LARGE - SMALL:,} more submissions",
    )
    results_large = _measure_all(app, pages)
    _report(app, pages, results_small, results_large)
    print(f"  (this section took {time.perf_counter() - started:.0f} s)")
    with app.app_context():
        db.engine.dispose()


def _psycopg_url(raw: str):
    url = make_url(raw)
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def _recreate_database(url) -> str | None:
    """Drop and create the benchmark's database; why not, when the server cannot be reached."""
    admin = create_engine(
        url.set(database="postgres"), isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    except SQLAlchemyError as error:
        return f"{type(error).__name__}: {' '.join(str(getattr(error, 'orig', error)).split())[:200]}"
    finally:
        admin.dispose()
    return None


def _seed(app: Flask, request: VolumeRequest, what: str) -> None:
    started = time.perf_counter()
    with app.app_context():
        load_volume(request)
        db.session.remove()
    print(f"  seeded {what} in {time.perf_counter() - started:.0f} s")


# ------------------------------------------------------------------------------------------ the pages


def _pages(app: Flask) -> list[Page]:
    """The pages measured, chosen once (at the small size) so that both sizes open the same ones."""
    with app.app_context():
        office = _busiest_office()
        clerk, supervisor = staff_email("clerk", office.code, 1), staff_email("supervisor", office.code, 1)
        rpd = db.session.scalar(select(Division.id).where(Division.code == "RPD"))
        queue = "/admin/registry_queue/"
        long_one, short_one = _submissions_to_open(office.id)
        pages = [
            Page("registry queue, first page", queue, clerk, queue_rows),
            Page(
                "registry queue, failed checks + disclosures + RPD",
                f"{queue}?failed=1&kind=disclosure&division={rpd}",
                clerk,
                queue_rows,
            ),
            Page(
                "registry queue, search by counsel surname",
                _search(_common_surname(office.id)),
                clerk,
                queue_rows,
            ),
            Page(
                "registry queue, search by file number",
                _search(_queued_file_number(office.id)),
                clerk,
                queue_rows,
            ),
            Page("submission page, 5 files and a long timeline", _details(long_one), clerk, table_rows),
            Page("submission page, 1 file and a short timeline", _details(short_one), clerk, table_rows),
            Page("supervisor dashboard", "/admin/dashboard/", supervisor, table_rows),
        ]
        db.session.remove()
    return pages


def _search(words: str) -> str:
    return f"/admin/registry_queue/?{urlencode({'q': words})}"


def _details(submission_id: int) -> str:
    return f"/admin/submission/details/?id={submission_id}"


def _busiest_office() -> Office:
    office_id = db.session.scalar(
        select(Submission.office_id)
        .where(Submission.status == "with_registry")
        .group_by(Submission.office_id)
        .order_by(func.count().desc())
        .limit(1)
    )
    return db.session.get(Office, office_id)


def _submissions_to_open(office_id: int) -> tuple[int, int]:
    """An accepted submission with the most files and audit events; one with a single file and the fewest."""
    files = (
        select(func.count(Attachment.id)).where(Attachment.submission_id == Submission.id).scalar_subquery()
    )
    events = (
        select(func.count(AuditEvent.id))
        .where(AuditEvent.record_type == "submissions", AuditEvent.record_id == cast(Submission.id, String))
        .scalar_subquery()
    )
    decided = select(Submission.id).where(Submission.office_id == office_id, Submission.status == "accepted")
    long_one = db.session.scalar(decided.order_by(files.desc(), events.desc(), Submission.id).limit(1))
    short_one = db.session.scalar(decided.order_by(files, events, Submission.id).limit(1))
    return long_one, short_one


def _common_surname(office_id: int) -> str:
    """The surname most often met among counsel of the submissions waiting in the office's registry queue."""
    names = db.session.scalars(
        select(Counsel.full_name)
        .join(Submission, Submission.counsel_id == Counsel.id)
        .where(Submission.office_id == office_id, Submission.status == "with_registry")
    ).all()
    surnames = [name.split()[-1] for name in names]
    return max(sorted(set(surnames)), key=surnames.count)


def _queued_file_number(office_id: int) -> str:
    return db.session.scalar(
        select(Case.file_number)
        .join(Submission, Submission.case_id == Case.id)
        .where(Submission.office_id == office_id, Submission.status == "with_registry")
        .order_by(Case.id)
        .limit(1)
    )


# ------------------------------------------------------------------------------------------ measuring


def _measure_all(app: Flask, pages: list[Page]) -> dict[str, Measure]:
    """Every page in turn, round after round, so that whatever else the machine does weighs on all alike."""
    clients = {email: _signed_in(app, email) for email in dict.fromkeys(page.user for page in pages)}
    timings: dict[str, list[float]] = {page.label: [] for page in pages}
    results = {page.label: Measure(200) for page in pages}
    recorder = StatementRecorder(app)
    loads = [os.getloadavg()[0]]
    try:
        for round_number in range(WARM_UP + REPEATS):
            for page in (page for page in pages if results[page.label].status == 200):
                elapsed, response = _request(app, clients[page.user], page, recorder)
                results[page.label].status = response.status_code
                if round_number >= WARM_UP:
                    timings[page.label].append(elapsed)
                results[page.label].statements = recorder.statements
                results[page.label].rows = page.rows(response.get_data(as_text=True))
            loads.append(os.getloadavg()[0])
    finally:
        recorder.stop()
    for label, measure in results.items():
        if measure.status == 200:
            measure.median_ms = 1000 * statistics.median(timings[label])
            measure.p95_ms = 1000 * statistics.quantiles(timings[label], n=20, method="inclusive")[-1]
    print(
        f"  measured at {_size(app):,} submissions; load average (1 min) {min(loads):.1f} to {max(loads):.1f}"
    )
    return results


def _request(app: Flask, client, page: Page, recorder: "StatementRecorder"):
    recorder.start()
    started = time.perf_counter()
    with app.app_context():  # a context of its own per request, as in production
        response = client.get(page.url)
    return time.perf_counter() - started, response


def _size(app: Flask) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count(Submission.id)))
        db.session.remove()
    return count


def _signed_in(app: Flask, email: str):
    client = app.test_client()
    with app.app_context():
        response = client.post("/sign-in", data={"email": email, "password": VOLUME_PASSWORD})
    assert response.status_code == 302, (email, response.status_code)
    return client


class StatementRecorder:
    """The statements of the last request, with their parameters and times, from the engine's events."""

    def __init__(self, app: Flask) -> None:
        with app.app_context():
            self.engine = db.engine
        self.statements: list[tuple[str, dict, float]] = []
        self._started: list[float] = []
        event.listen(self.engine, "before_cursor_execute", self._before)
        event.listen(self.engine, "after_cursor_execute", self._after)

    def start(self) -> None:
        self.statements = []

    def stop(self) -> None:
        event.remove(self.engine, "before_cursor_execute", self._before)
        event.remove(self.engine, "after_cursor_execute", self._after)

    def _before(self, connection, cursor, statement, parameters, context, executemany) -> None:
        self._started.append(time.perf_counter())

    def _after(self, connection, cursor, statement, parameters, context, executemany) -> None:
        elapsed = 1000 * (time.perf_counter() - self._started.pop())
        self.statements.append((statement, parameters, elapsed))


# ------------------------------------------------------------------------------------------ reporting


def _report(app: Flask, pages: list[Page], small: dict[str, Measure], large: dict[str, Measure]) -> None:
    sizes = [f"{size:>9,}: median    p95 stmts rows" for size in (SMALL, LARGE)]
    print(f"  {'page':<52} {sizes[0]} | {sizes[1]} | ratio")
    for page in pages:
        cells = [_cells(results[page.label]) for results in (small, large)]
        print(f"  {page.label:<52} {cells[0]} | {cells[1]} | {_ratio(small, large, page)}")
    problems = _targets(pages, small, large)
    for page in pages:
        measure = large[page.label]
        if measure.status == 200:
            print(f"  statements of '{page.label}' at {LARGE:,} ({len(measure.statements)}):")
            for statement, _parameters, elapsed in measure.statements:
                print(f"    {elapsed:7.1f} ms  {_abridged(statement)}")
    for label in problems:
        _explain_slowest(app, label, large[label])


def _cells(measure: Measure) -> str:
    if measure.status != 200:
        text_ = "not available yet (404)" if measure.status == 404 else f"answered {measure.status}"
        return f"{text_:>38}"
    return f"{measure.median_ms:7.1f} ms {measure.p95_ms:6.1f} {len(measure.statements):5} {measure.rows:4}"


def _ratio(small: dict[str, Measure], large: dict[str, Measure], page: Page) -> str:
    before, after = small[page.label], large[page.label]
    if before.status != 200 or after.status != 200:
        return "  -"
    return f"{after.median_ms / before.median_ms:5.2f}"


def _targets(pages: list[Page], small: dict[str, Measure], large: dict[str, Measure]) -> list[str]:
    """Print each target and whether it is met; return the pages too slow, to explain their plans."""
    measured = [page for page in pages if small[page.label].status == 200 and large[page.label].status == 200]
    for page in pages:
        if page not in measured:
            print(f"  target: '{page.label}' not measured (answered {large[page.label].status})")
    print("  target: a fixed number of statements, whatever the rows shown and the size:")
    for group in ("registry queue", "submission page", "supervisor dashboard"):
        _fixed_statements([page for page in measured if page.label.startswith(group)], group, small, large)
    print(f"  target: median at {LARGE:,} no more than {RATIO_TARGET} x the median at {SMALL:,}:")
    slow = [page.label for page in measured if not _scales(page, pages, small, large)]
    first = large[pages[0].label]
    met = first.status == 200 and first.median_ms < QUEUE_TARGET_MS
    print(f"  target: registry queue's first page under {QUEUE_TARGET_MS} ms median at {LARGE:,}: ", end="")
    print(f"{first.median_ms:.1f} ms -> {'met' if met else 'MISSED'}")
    if not met and pages[0].label not in slow:
        slow.insert(0, pages[0].label)
    return slow


def _fixed_statements(
    group: list[Page], name: str, small: dict[str, Measure], large: dict[str, Measure]
) -> None:
    if not group:
        return
    counts = set()
    for page in group:
        for size, results in ((SMALL, small), (LARGE, large)):
            measure = results[page.label]
            counts.add(len(measure.statements))
            print(
                f"    {page.label} at {size:,}: {len(measure.statements)} statements for {measure.rows} rows"
            )
    print(f"    -> {name}: {'met' if len(counts) == 1 else 'MISSED'}")
    if len(counts) > 1:
        _differences(group, large)


def _scales(page: Page, pages: list[Page], small: dict[str, Measure], large: dict[str, Measure]) -> bool:
    """Print the ratio of the medians; when the page shows more rows at the large size, also the ratio to a
    page of the same screen that shows as many rows at the small size, which is the one judged."""
    ratio = large[page.label].median_ms / small[page.label].median_ms
    rows = (small[page.label].rows, large[page.label].rows)
    baseline = _equal_rows_baseline(page, pages, small, rows[1]) if rows[0] != rows[1] else None
    if baseline is None:
        print(f"    {page.label}: {ratio:.2f} -> {'met' if ratio <= RATIO_TARGET else 'MISSED'}")
        return ratio <= RATIO_TARGET
    equal = large[page.label].median_ms / small[baseline.label].median_ms
    verdict = "met" if equal <= RATIO_TARGET else "MISSED"
    print(f"    {page.label}: {ratio:.2f} as measured, but it shows {rows[0]} rows at {SMALL:,}", end="")
    print(f" and {rows[1]} at {LARGE:,};")
    print(
        f"      against '{baseline.label}' at {SMALL:,} ({rows[1]} rows too): {equal:.2f} -> {verdict}",
        end="",
    )
    print(" at equal rows")
    return equal <= RATIO_TARGET


def _equal_rows_baseline(page: Page, pages: list[Page], small: dict[str, Measure], rows: int) -> Page | None:
    screen = page.label.split(",")[0]
    same = [
        other for other in pages if other.label.split(",")[0] == screen and small[other.label].rows == rows
    ]
    return next((other for other in same if small[other.label].status == 200), None)


def _differences(pages: list[Page], results: dict[str, Measure]) -> None:
    """The statements some of these pages issue and others do not, and any issued twice in one page (the
    sign of a statement per row)."""
    shapes = {
        page.label: [" ".join(statement.split()) for statement, *_rest in results[page.label].statements]
        for page in pages
    }
    common = set.intersection(*(set(found) for found in shapes.values()))
    for label, found in shapes.items():
        for statement in sorted(set(found) - common):
            print(f"       only on '{label}': {_abridged(statement)}")
    repeated = {statement for found in shapes.values() for statement in found if found.count(statement) > 1}
    for statement in sorted(repeated):
        print(f"       issued more than once in a page: {_abridged(statement)}")
    if not repeated:
        print("       no statement is issued more than once in a page: the difference is not per row")


def _abridged(statement: str, width: int = 150) -> str:
    """The statement on one line, the outer select list left out."""
    flat = " ".join(statement.split())
    flat = re.sub(r"^SELECT (?:(?!\bFROM\b).)+? FROM ", "SELECT … FROM ", flat, count=1)
    return flat if len(flat) <= width else flat[: width - 1] + "…"


def _explain_slowest(app: Flask, label: str, measure: Measure) -> None:
    statement, parameters, elapsed = max(measure.statements, key=lambda item: item[2])
    print(f"  why '{label}' misses a target: its slowest statement ({elapsed:.1f} ms) is planned as:")
    with app.app_context():
        plan = db.session.connection().exec_driver_sql(f"EXPLAIN (ANALYZE, BUFFERS) {statement}", parameters)
        for (line,) in plan:
            print(f"    {line}")
        db.session.rollback()


if __name__ == "__main__":
    main()
