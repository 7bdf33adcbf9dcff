"""The work queues, the submission page and the supervisor dashboard at volume, on PostgreSQL.

Builds two databases of its own on one server. The small one (BENCH_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/irb_bench, dropped and made again) is migrated and filled with the
`seed-volume` generator: 2,000 submissions (BENCH_QUEUE_SMALL) on 20,000 counsel and 60,000 cases. The large
one (BENCH_DATABASE_URL_LARGE, default the same name ending in `_large`, dropped and made again) is a copy of
the small one (CREATE DATABASE ... TEMPLATE) to which the generator adds submissions up to 200,000
(BENCH_QUEUE_LARGE), on the same counsel and cases. So both hold the same staff and the same first 2,000
submissions, and the pages chosen on the small one open at both. The generator ends with VACUUM (ANALYZE), so
both are measured settled: fresh statistics, and visibility maps set for index-only scans.

Each size has its own application, with its staff signed in through the sign-in form. The pages are timed in
this process with the Flask test client, in pairs: round after round, each page once at each size, one right
after the other, the size that goes first alternating from one round to the next. Whatever else the machine
does at a moment then weighs on both sizes alike, and their ratio holds still where two measurements made
minutes apart would not. Counts the SQL statements each page issues. Prints the median and 95th percentile,
the statements and the rows shown, the ratio between the sizes, whether each target is met, and the plan of
the slowest statement of a page that misses one.

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
from flask.testing import FlaskClient
from flask_migrate import upgrade
from sqlalchemy import String, cast, create_engine, event, func, select, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import SQLAlchemyError

from backoffice import create_app
from backoffice.devdata.volume import VOLUME_PASSWORD, VolumeRequest, load_volume, staff_email
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
from config import DevelopmentConfig

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/irb_bench"
SMALL = int(os.environ.get("BENCH_QUEUE_SMALL", "2000"))
LARGE = int(os.environ.get("BENCH_QUEUE_LARGE", "200000"))
COUNSEL, CASES = 20_000, 60_000
WARM_UP, REPEATS = 3, 30
SEED = 2026
QUEUE_TARGET_MS = 150
RATIO_TARGET = 1.5
QUEUE = "/admin/registry_queue/"


@dataclass(frozen=True)
class Page:
    label: str
    url: str
    user: str  # the email of who opens it
    rows: Callable[[str], int]  # what it shows, counted in its HTML
    # The pages the targets name (first page, filtered pages, submission page, dashboard) are judged on the
    # ratio of their times. A search is measured and shown too, but not judged: it finds more as the queue
    # grows, and its work follows what it finds.
    judged: bool = True


@dataclass
class Measure:
    status: int
    median_ms: float = 0.0
    p95_ms: float = 0.0
    statements: list[tuple[str, dict, float]] = field(default_factory=list)  # statement, parameters, ms
    rows: int = 0


@dataclass
class Size:
    """One of the two databases as measured: its application, its staff signed in, its own recorder (which
    listens on its application's engine only), and what its pages gave."""

    app: Flask
    clients: dict[str, FlaskClient]  # by email
    recorder: "StatementRecorder"
    results: dict[str, Measure]  # by page label
    timings: dict[str, list[float]]  # by page label, seconds, warm-up left out


def queue_rows(html: str) -> int:
    return html.count('data-testid="queue-row"')


def table_rows(html: str) -> int:
    return len(re.findall(r"<tr[ >]", html))


def main() -> None:
    url = _psycopg_url(os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    large_url = _large_url(url)
    problem = _urls_problem(url, large_url) or _recreate_database(url)
    if problem:
        print(
            "work queues at volume: skipped; this benchmark needs PostgreSQL at BENCH_DATABASE_URL "
            f"(default {DEFAULT_URL}): {problem}"
        )
        return
    started = time.perf_counter()
    small_app = _app(url)
    with small_app.app_context():
        upgrade()
        version = db.session.scalar(text("SHOW server_version"))
        db.session.remove()
    print(
        f"work queues at volume (PostgreSQL {version}, {os.cpu_count()} cores; {COUNSEL:,} counsel and "
        f"{CASES:,} cases at both sizes, in two databases; {REPEATS} timed requests after {WARM_UP} warm-up "
        "ones, pages in turn, each at both sizes one after the other, the size first alternating by round):"
    )
    _seed(
        small_app,
        VolumeRequest(SMALL, COUNSEL, CASES, seed=SEED),
        f"{SMALL:,} submissions, counsel and cases",
    )
    pages = _pages(small_app)
    _dispose(small_app)  # a template must have no connection open while it is copied
    _copy_database(url, large_url)
    large_app = _app(large_url)
    _seed(
        large_app,
        VolumeRequest(LARGE - SMALL, 0, 0, seed=SEED + 1, add=True),
        f"{LARGE - SMALL:,} more submissions in the copy",
    )
    small, large = _measure_paired(pages, small_app, large_app)
    _report(large_app, pages, small, large)
    print(f"  (this section took {time.perf_counter() - started:.0f} s)")
    for app in (small_app, large_app):
        _dispose(app)


def _psycopg_url(raw: str) -> URL:
    url = make_url(raw)
    if url.drivername in ("postgres", "postgresql"):
        url = url.set(drivername="postgresql+psycopg")
    return url


def _large_url(url: URL) -> URL:
    raw = os.environ.get("BENCH_DATABASE_URL_LARGE")
    return _psycopg_url(raw) if raw else url.set(database=f"{url.database}_large")


def _urls_problem(url: URL, large_url: URL) -> str | None:
    """Why the two URLs cannot serve: the large database is made from the small one as its template, so it
    must be another database of the same server."""
    if url.get_backend_name() != "postgresql" or large_url.get_backend_name() != "postgresql":
        return "not a PostgreSQL URL"
    if (large_url.host, large_url.port) != (url.host, url.port) or large_url.database == url.database:
        return "BENCH_DATABASE_URL_LARGE must name another database on the same server"
    return None


def _app(url: URL) -> Flask:
    return create_app(
        DevelopmentConfig,
        SQLALCHEMY_DATABASE_URI=url.render_as_string(hide_password=False),
        REDIS_URL=os.environ.get("BENCH_REDIS_URL"),
        WTF_CSRF_ENABLED=False,
    )


def _dispose(app: Flask) -> None:
    with app.app_context():
        db.session.remove()
        db.engine.dispose()


def _admin_engine(url: URL):
    return create_engine(
        url.set(database="postgres"), isolation_level="AUTOCOMMIT", connect_args={"connect_timeout": 3}
    )


def _recreate_database(url: URL) -> str | None:
    """Drop and create the benchmark's database; why not, when the server cannot be reached."""
    admin = _admin_engine(url)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{url.database}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{url.database}"'))
    except SQLAlchemyError as error:
        return f"{type(error).__name__}: {' '.join(str(getattr(error, 'orig', error)).split())[:200]}"
    finally:
        admin.dispose()
    return None


def _copy_database(url: URL, large_url: URL) -> None:
    """Make the large database a copy of the small one, file for file: the same schema, staff, counsel,
    cases and first submissions, with their statistics and visibility maps."""
    started = time.perf_counter()
    admin = _admin_engine(large_url)
    try:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{large_url.database}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{large_url.database}" TEMPLATE "{url.database}"'))
    finally:
        admin.dispose()
    print(f"  copied {url.database} to {large_url.database} in {time.perf_counter() - started:.0f} s")


def _seed(app: Flask, request: VolumeRequest, what: str) -> None:
    """load_volume ends with VACUUM (ANALYZE) on PostgreSQL, on a connection of its own in autocommit: each
    database is measured with fresh statistics and its visibility map set, with nothing more to do here."""
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
        long_one, short_one = _submissions_to_open(office.id)
        surname, file_number = _common_surname(office.id), _queued_file_number(office.id)
        db.session.remove()
    return [
        Page("registry queue, first page", QUEUE, clerk, queue_rows),
        # A whole page at both sizes; and a narrower filter, fewer rows at 2,000 (judged at equal rows).
        Page("registry queue, filtered by division", f"{QUEUE}?division={rpd}", clerk, queue_rows),
        Page(
            "registry queue, failed checks + division", f"{QUEUE}?failed=1&division={rpd}", clerk, queue_rows
        ),
        Page("registry queue, search by counsel surname", _search(surname), clerk, queue_rows, judged=False),
        Page("registry queue, search by file number", _search(file_number), clerk, queue_rows, judged=False),
        Page("submission page, 5 files and a long timeline", _details(long_one), clerk, table_rows),
        Page("submission page, 1 file and a short timeline", _details(short_one), clerk, table_rows),
        Page("supervisor dashboard", "/admin/dashboard/", supervisor, table_rows),
    ]


def _search(words: str) -> str:
    return f"{QUEUE}?{urlencode({'q': words})}"


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


def _measure_paired(
    pages: list[Page], small_app: Flask, large_app: Flask
) -> tuple[dict[str, Measure], dict[str, Measure]]:
    """Round after round, every page in turn, each time once at each size one right after the other, the
    size that goes first alternating by round: whatever else the machine does weighs on both sizes alike,
    and neither always runs on the caches the other just warmed or cooled."""
    sizes = [_prepared(app, pages) for app in (small_app, large_app)]
    loads = [os.getloadavg()[0]]
    try:
        for round_number in range(WARM_UP + REPEATS):
            order = sizes if round_number % 2 == 0 else sizes[::-1]
            for page in pages:
                for size in order:
                    _measure_once(size, page, counted=round_number >= WARM_UP)
            loads.append(os.getloadavg()[0])
    finally:
        for size in sizes:
            size.recorder.stop()
    for size in sizes:
        _summarise(size)
    counts = " and ".join(f"{_submissions(size.app):,}" for size in sizes)
    loads_range = f"{min(loads):.1f} to {max(loads):.1f}"
    print(f"  measured at {counts} submissions, in pairs; load average (1 min) {loads_range}")
    return sizes[0].results, sizes[1].results


def _prepared(app: Flask, pages: list[Page]) -> Size:
    return Size(
        app=app,
        clients={email: _signed_in(app, email) for email in dict.fromkeys(page.user for page in pages)},
        recorder=StatementRecorder(app),
        results={page.label: Measure(200) for page in pages},
        timings={page.label: [] for page in pages},
    )


def _measure_once(size: Size, page: Page, counted: bool) -> None:
    """One request; a page that does not answer 200 is not asked again at this size."""
    measure = size.results[page.label]
    if measure.status != 200:
        return
    elapsed, response = _request(size.app, size.clients[page.user], page, size.recorder)
    measure.status = response.status_code
    if counted:
        size.timings[page.label].append(elapsed)
    measure.statements = size.recorder.statements
    measure.rows = page.rows(response.get_data(as_text=True))


def _summarise(size: Size) -> None:
    for label, measure in size.results.items():
        if measure.status == 200:
            measure.median_ms = 1000 * statistics.median(size.timings[label])
            measure.p95_ms = 1000 * statistics.quantiles(size.timings[label], n=20, method="inclusive")[-1]


def _request(app: Flask, client: FlaskClient, page: Page, recorder: "StatementRecorder"):
    recorder.start()
    started = time.perf_counter()
    with app.app_context():  # a context of its own per request, as in production
        response = client.get(page.url)
    return time.perf_counter() - started, response


def _submissions(app: Flask) -> int:
    with app.app_context():
        count = db.session.scalar(select(func.count(Submission.id)))
        db.session.remove()
    return count


def _signed_in(app: Flask, email: str) -> FlaskClient:
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
    judged = [page for page in measured if page.judged]
    slow = [page.label for page in judged if not _scales(page, pages, small, large)]
    for page in (page for page in measured if not page.judged):
        rows = f"{small[page.label].rows} rows at {SMALL:,}, {large[page.label].rows} at {LARGE:,}"
        print(f"    ({page.label}: {_ratio(small, large, page).strip()}, {rows}; shown, not a target)")
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
