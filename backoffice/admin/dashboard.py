"""The supervisors' dashboard page, the lists behind its figures that no other screen shows (decisions and
registrations of the last 30 days), and the CSV export of every table.

Each table is built once, as rows of cells with their links, and both the page and the CSV export draw it,
so what is exported is what is shown. The figures come from workflows.dashboard.
"""

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from math import ceil
from urllib.parse import urlencode

from flask import Response, abort, g, request, url_for
from flask_admin import expose
from flask_babel import gettext as _
from flask_babel import ngettext
from markupsafe import Markup
from sqlalchemy import Select, func, select

from backoffice.admin import charts
from backoffice.admin import formatters as fmt
from backoffice.admin.base import StaffPage, reader
from backoffice.admin.registrations import RegistrationView
from backoffice.edge import page_number, record_id
from backoffice.extensions import db
from backoffice.models import (
    Decision,
    Registration,
    RegistrationStatus,
    Submission,
    SubmissionStatus,
)
from backoffice.models.types import utcnow
from backoffice.reports.dashboard import (
    DAY_ZONE,
    QUEUE_OF,
    QUEUES,
    REGISTRATION,
    SETBACKS,
    TARGET_LABELS,
    WINDOW_DAYS,
    Dashboard,
    DashboardScope,
    DecisionFilter,
    RegistrationFilter,
    build_dashboard,
    decisions_behind,
    registrations_behind,
    window_at,
    with_submissions,
)

PAGE_SIZE = 50
QUEUE_ENDPOINTS = {
    SubmissionStatus.WITH_REGISTRY: "registry_queue.index",
    SubmissionStatus.WITH_DIVISION: "division_queue.index",
}


# --------------------------------------------------------------------------------------------- text


def format_duration(value: timedelta | None) -> str:
    """Days and hours, or hours and minutes under a day."""
    if value is None:
        return "—"
    minutes = max(int(value.total_seconds() // 60), 0)
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return _("%(days)d d %(hours)d h", days=days, hours=hours)
    return _("%(hours)d h %(minutes)d min", hours=hours, minutes=minutes)


def days_text(days: int) -> str:
    return ngettext("%(num)d day", "%(num)d days", days)


def queue_label(queue: SubmissionStatus | str) -> str:
    return str(TARGET_LABELS[queue.value if isinstance(queue, SubmissionStatus) else queue])


# --------------------------------------------------------------------------------------------- tables


@dataclass(frozen=True)
class Cell:
    text: str
    url: str | None = None
    key: str | None = None  # names the figure in the page (data-testid="figure-<key>")


@dataclass(frozen=True)
class Table:
    key: str
    title: str
    headers: list[str]
    rows: list[list[Cell]]
    note: str = ""


def _number(value: int, url: str | None, key: str | None = None) -> Cell:
    return Cell(str(value), url, key)


@dataclass(frozen=True)
class Links:
    """The lists behind the figures, carrying the dashboard's office and division."""

    office_id: int | None  # only when a national user chose one: a regional user's lists are scoped anyway
    division_id: int | None

    def _url(self, endpoint: str, **args) -> str:
        """The endpoint's path with the query: a page draws some hundreds of links, so each path is built once."""
        values = {"office": self.office_id, "division": self.division_id, **args}
        query = urlencode({name: value for name, value in values.items() if value not in (None, "")})
        return f"{_path(endpoint)}?{query}" if query else _path(endpoint)

    def for_office(self, office_id: int) -> "Links":
        return replace(self, office_id=office_id)

    def dashboard(self, **args) -> str:
        return self._url("dashboard.index", **args)

    def queue(self, queue: SubmissionStatus, **args) -> str:
        return self._url(QUEUE_ENDPOINTS[queue], **args)

    def decisions(self, queue: SubmissionStatus, **args) -> str:
        return self._url("dashboard.decisions_view", queue=queue.value, **args)

    def registrations(self, **args) -> str:
        """Registrations have no division."""
        return self._url("dashboard.registrations_view", division=None, **args)

    def registration_list(self, status: RegistrationStatus) -> str:
        office = {"office": str(self.office_id)} if self.office_id else {}
        return RegistrationView.list_url(status=status.value, **office)

    def export(self, table: str) -> str:
        return self._url("dashboard.export_view", table=table)


def _path(endpoint: str) -> str:
    paths = g.setdefault("dashboard_paths", {})
    if endpoint not in paths:
        paths[endpoint] = url_for(endpoint)
    return paths[endpoint]


def _headers_per_queue(first: str, of_queue: Callable[[str], list[str]]) -> list[str]:
    """The header of a table's first column, then the headers of each queue's columns (`of_queue` of its name)."""
    return [first] + [header for queue in QUEUES for header in of_queue(queue_label(queue))]


def queues_table(board: Dashboard, links: Links) -> Table:
    rows = []
    for figures in board.queues:
        queue, key = figures.queue, figures.queue.value
        rows.append(
            [
                Cell(queue_label(queue)),
                _number(
                    figures.unclaimed, links.queue(queue, holder="unassigned", held="no"), f"{key}-unclaimed"
                ),
                _number(figures.claimed, links.queue(queue, holder="claimed", held="no"), f"{key}-claimed"),
                _number(figures.on_hold, links.queue(queue, held="yes"), f"{key}-on_hold"),
                _number(figures.total, links.queue(queue), f"{key}-total"),
                Cell(format_duration(figures.oldest_age(board.now)), links.queue(queue), f"{key}-oldest"),
                Cell(days_text(figures.target_days)),
                _number(
                    figures.over_target,
                    links.queue(queue, older_than=figures.target_days),
                    f"{key}-over_target",
                ),
            ]
        )
    return Table(
        "queues",
        _("Waiting in the work queues"),
        [
            _("Queue"),
            _("Unclaimed"),
            _("Claimed"),
            _("On hold"),
            _("Waiting in all"),
            _("Oldest waiting"),
            _("Service target"),
            _("Over target"),
        ],
        rows,
        _(
            "Ages count from the My Case received time. Held items are counted on hold whether claimed or not."
        ),
    )


def decision_times_table(board: Dashboard, links: Links) -> Table:
    rows = []
    for times in board.decision_times:
        queue, key = times.queue, times.queue.value
        rows.append(
            [
                Cell(queue_label(queue)),
                _number(times.decisions, links.decisions(queue), f"{key}-decisions"),
                _number(times.accepted, links.decisions(queue, accepted=1), f"{key}-accepted"),
                _number(times.rejected, links.decisions(queue, accepted=0), f"{key}-rejected"),
                Cell(format_duration(times.median), links.decisions(queue), f"{key}-median"),
            ]
        )
    return Table(
        "decision_times",
        _("Decisions in the last %(days)d days", days=WINDOW_DAYS),
        [
            _("Queue"),
            _("Decisions"),
            _("Accepted"),
            _("Rejected"),
            _("Median time from received to decision"),
        ],
        rows,
        _(
            "Registry queue: from the My Case received time to registry's decision. "
            "Division queue: from the My Case received time to the division's decision."
        ),
    )


def decisions_per_day_table(board: Dashboard, links: Links) -> Table:
    rows = []
    for n, day in enumerate(board.window.days):
        row = [Cell(day.isoformat())]
        for queue in QUEUES:
            count = board.decisions_per_day[queue][n]
            for accepted, value in ((1, count.accepted), (0, count.rejected)):
                key = f"{queue.value}-{day.isoformat()}-{'accepted' if accepted else 'rejected'}"
                row.append(
                    _number(value, links.decisions(queue, day=day.isoformat(), accepted=accepted), key)
                )
        rows.append(row)
    headers = _headers_per_queue(
        _("Day (Eastern time)"),
        lambda queue: [_("%(queue)s: accepted", queue=queue), _("%(queue)s: rejected", queue=queue)],
    )
    return Table("decisions_per_day", _("Decisions per day"), headers, rows)


def reasons_table(board: Dashboard, links: Links) -> Table:
    rows = [
        [
            Cell(queue_label(item.queue)),
            Cell(item.code),
            Cell(item.text),
            _number(
                item.count,
                links.decisions(item.queue, reason=item.code),
                f"reason-{item.queue.value}-{item.code}",
            ),
        ]
        for item in board.reasons
    ]
    return Table(
        "reasons",
        _("Reasons for rejection, most frequent first"),
        [_("Queue"), _("Code"), _("Reason"), _("Decisions")],
        rows,
        _("A decision on files one by one counts the reasons given for the files it rejected."),
    )


def stages_table(board: Dashboard, links: Links) -> Table:
    target = board.targets[REGISTRATION]
    rows = []
    for stage in board.stages:
        key = stage.status.value
        rows.append(
            [
                Cell(stage.status.label),
                _number(stage.count, links.registration_list(stage.status), f"stage-{key}"),
                Cell(
                    format_duration(stage.oldest_age(board.now)),
                    links.registrations(status=key),
                    f"stage-{key}-oldest",
                ),
                _number(
                    stage.over_target,
                    links.registrations(status=key, older_than=target),
                    f"stage-{key}-over_target",
                ),
            ]
        )
    total = board.open_registrations
    rows.append(
        [
            Cell(_("Every open stage")),
            _number(total.count, links.registrations(), "stage-open"),
            Cell(format_duration(total.oldest_age(board.now)), links.registrations(), "stage-open-oldest"),
            _number(total.over_target, links.registrations(older_than=target), "stage-open-over_target"),
        ]
    )
    return Table(
        "registration_stages",
        _("Registrations waiting, by stage"),
        [
            _("Stage"),
            _("Registrations"),
            _("Oldest, since the invitation or request"),
            _("Over target (%(target)s)", target=days_text(target)),
        ],
        rows,
    )


def registration_times_table(board: Dashboard, links: Links) -> Table:
    times = board.registration_times
    url = links.registrations(status=RegistrationStatus.ACTIVE.value, window=1)
    return Table(
        "registration_times",
        _("Portal accounts made active in the last %(days)d days", days=WINDOW_DAYS),
        [
            _("Registrations made active"),
            _("Median time from the invitation or request to an active account"),
        ],
        [
            [
                _number(times.activations, url, "activations"),
                Cell(format_duration(times.median), url, "activations-median"),
            ]
        ],
        _(
            "For a registration, the decision is the portal account becoming active: the time counts from "
            "the invitation sent (or counsel's request to register) to that moment."
        ),
    )


def activations_per_day_table(board: Dashboard, links: Links) -> Table:
    rows = [
        [
            Cell(day.isoformat()),
            _number(
                count,
                links.registrations(status=RegistrationStatus.ACTIVE.value, day=day.isoformat()),
                f"activations-{day.isoformat()}",
            ),
        ]
        for day, count in board.activations_per_day
    ]
    return Table(
        "activations_per_day",
        _("Portal accounts made active per day"),
        [_("Day (Eastern time)"), _("Registrations made active")],
        rows,
    )


def setbacks_table(board: Dashboard, links: Links) -> Table:
    rows = [
        [
            Cell(status.label),
            _number(count, links.registrations(status=status.value, window=1), f"setback-{status.value}"),
        ]
        for status, count in board.setbacks
    ]
    return Table(
        "setbacks",
        _("Setbacks in the last %(days)d days", days=WINDOW_DAYS),
        [_("Stage"), _("Registrations")],
        rows,
        _(
            "Registrations that reached this stage in the last %(days)d days and are still there.",
            days=WINDOW_DAYS,
        ),
    )


def offices_table(board: Dashboard, links: Links, offices: dict[int, str]) -> Table:
    by_office = {item.office_id: item for item in board.by_office}
    target = board.targets[REGISTRATION]
    rows = []
    for office_id, name in offices.items():
        item = by_office.get(office_id)
        office = links.for_office(office_id)
        row = [Cell(name, office.dashboard(), f"office-{office_id}")]
        for queue in QUEUES:
            figures = item.queues[queue] if item else None
            total, over = (figures.total, figures.over_target) if figures else (0, 0)
            days = board.targets[queue.value]
            row.append(_number(total, office.queue(queue), f"office-{office_id}-{queue.value}"))
            row.append(
                _number(over, office.queue(queue, older_than=days), f"office-{office_id}-{queue.value}-over")
            )
        count, over = (item.registrations.count, item.registrations.over_target) if item else (0, 0)
        row.append(_number(count, office.registrations(), f"office-{office_id}-registrations"))
        row.append(
            _number(over, office.registrations(older_than=target), f"office-{office_id}-registrations-over")
        )
        rows.append(row)
    headers = _headers_per_queue(
        _("Regional office"),
        lambda queue: [_("%(queue)s: waiting", queue=queue), _("%(queue)s: over target", queue=queue)],
    )
    headers += [_("Registrations waiting"), _("Registrations over target")]
    return Table("offices", _("Waiting and over target in each office"), headers, rows)


def dashboard_tables(board: Dashboard, links: Links, offices: dict[int, str] | None) -> dict[str, Table]:
    builders: list[Callable[[Dashboard, Links], Table]] = [
        queues_table,
        decision_times_table,
        decisions_per_day_table,
        reasons_table,
        stages_table,
        registration_times_table,
        activations_per_day_table,
        setbacks_table,
    ]
    tables = {table.key: table for table in (build(board, links) for build in builders)}
    if offices is not None:
        tables["offices"] = offices_table(board, links, offices)
    return tables


# --------------------------------------------------------------------------------------------- charts


@dataclass(frozen=True)
class Chart:
    title: str
    svg: Markup


def _columns(chart_id: str, title: str, description: str, board: Dashboard, series: list) -> Chart:
    """Columns for each day of the window, labelled by month and day."""
    categories = [day.isoformat()[5:] for day in board.window.days]
    nothing = _("Nothing in the last %(days)d days.", days=WINDOW_DAYS)
    return Chart(title, charts.column_chart(chart_id, title, description, categories, series, empty=nothing))


def _bars(chart_id: str, title: str, description: str, bars: list[charts.Bar]) -> Chart:
    nothing = _("Nothing in the last %(days)d days.", days=WINDOW_DAYS)
    return Chart(title, charts.bar_chart(chart_id, title, description, bars, charts.REJECTED_COLOUR, nothing))


def decision_charts(board: Dashboard, links: Links, queue: SubmissionStatus) -> list[Chart]:
    days = [day.isoformat() for day in board.window.days]
    counts = board.decisions_per_day[queue]
    per_day = _columns(
        f"decisions-{queue.value}",
        _("%(queue)s: decisions per day", queue=queue_label(queue)),
        _(
            "Accepted and rejected decisions on each of the last %(days)d days, in Eastern time.",
            days=WINDOW_DAYS,
        ),
        board,
        [
            charts.Series(
                _("Accepted"),
                charts.ACCEPTED_COLOUR,
                [count.accepted for count in counts],
                [links.decisions(queue, day=day, accepted=1) for day in days],
            ),
            charts.Series(
                _("Rejected"),
                charts.REJECTED_COLOUR,
                [count.rejected for count in counts],
                [links.decisions(queue, day=day, accepted=0) for day in days],
            ),
        ],
    )
    reasons = _bars(
        f"reasons-{queue.value}",
        _("%(queue)s: reasons for rejection", queue=queue_label(queue)),
        _("How many decisions gave each reason in the last %(days)d days.", days=WINDOW_DAYS),
        [
            charts.Bar(
                f"{item.code} · {item.text}",
                item.count,
                links.decisions(queue, reason=item.code),
            )
            for item in board.reasons
            if item.queue is queue
        ],
    )
    return [per_day, reasons]


def registration_charts(board: Dashboard, links: Links) -> list[Chart]:
    days = [day.isoformat() for day in board.window.days]
    activations = _columns(
        "activations",
        _("Portal accounts made active per day"),
        _("Registrations made active on each of the last %(days)d days, in Eastern time.", days=WINDOW_DAYS),
        board,
        [
            charts.Series(
                _("Made active"),
                charts.ACCEPTED_COLOUR,
                [count for _day, count in board.activations_per_day],
                [links.registrations(status=RegistrationStatus.ACTIVE.value, day=day) for day in days],
            )
        ],
    )
    setbacks = _bars(
        "setbacks",
        _("Setbacks in the last %(days)d days", days=WINDOW_DAYS),
        _("Registrations that reached each of these stages in the last %(days)d days.", days=WINDOW_DAYS),
        [
            charts.Bar(status.label, count, links.registrations(status=status.value, window=1))
            for status, count in board.setbacks
        ],
    )
    return [activations, setbacks]


def dashboard_charts(board: Dashboard, links: Links) -> dict[str, Chart]:
    """Every chart by its name; each is titled in the page too, and its numbers are in a table."""
    found = {}
    for queue in QUEUES:
        per_day, reasons = decision_charts(board, links, queue)
        found[f"decisions-{queue.value}"], found[f"reasons-{queue.value}"] = per_day, reasons
    found["activations"], found["setbacks"] = registration_charts(board, links)
    return found


# --------------------------------------------------------------------------------------------- lists behind


def decision_table(rows: list[tuple[Decision, Submission]], with_links: bool = True) -> Table:
    cells = []
    for decision, submission in rows:
        outcome = (
            _("Accepted in part")
            if decision.partial
            else (_("Accepted") if decision.accepted else _("Rejected"))
        )
        url = url_for("submission.details_view", id=submission.id) if with_links else None
        cells.append(
            [
                Cell(submission.case.file_number, url, f"decision-{decision.id}"),
                Cell(submission.office.name),
                Cell(submission.division.local_code),
                Cell(queue_label(QUEUE_OF[decision.made_by])),
                Cell(fmt.in_zone(decision.received_at, DAY_ZONE)),
                Cell(fmt.in_zone(decision.decided_at, DAY_ZONE)),
                Cell(format_duration(decision.decided_at - decision.received_at)),
                Cell(decision.staff.full_name),
                Cell(outcome),
                Cell(", ".join(reason.code for reason in decision.reasons)),
            ]
        )
    headers = [
        _("File number"),
        _("Regional office"),
        _("Division"),
        _("Queue"),
        _("Received (Eastern)"),
        _("Decided (Eastern)"),
        _("Time to decision"),
        _("Decided by"),
        _("Outcome"),
        _("Reasons"),
    ]
    return Table("decisions", _("Decisions"), headers, cells)


def registration_table(rows: list[Registration], now, with_links: bool = True) -> Table:
    cells = []
    for registration in rows:
        url = url_for("registration.details_view", id=registration.id) if with_links else None
        cells.append(
            [
                Cell(registration.counsel.full_name, url, f"registration-{registration.id}"),
                Cell(registration.office.name),
                Cell(registration.status.label),
                Cell(registration.channel.label),
                Cell(fmt.in_zone(registration.created_at, DAY_ZONE)),
                Cell(format_duration(now - registration.created_at)),
                Cell(fmt.in_zone(registration.status_changed_at, DAY_ZONE)),
            ]
        )
    headers = [
        _("Counsel"),
        _("Regional office"),
        _("Stage"),
        _("Channel"),
        _("Invited or requested (Eastern)"),
        _("Time since the invitation or request"),
        _("Stage entered (Eastern)"),
    ]
    return Table("registrations", _("Registrations"), headers, cells)


def decision_filter_from(args) -> DecisionFilter:
    queue = args.get("queue", "")
    accepted = args.get("accepted", "")
    return DecisionFilter(
        queue=SubmissionStatus(queue) if queue in {item.value for item in QUEUES} else None,
        day=_day(args.get("day", "")),
        reason=args.get("reason", "").strip()[:40],
        accepted={"1": True, "0": False}.get(accepted),
    )


def registration_filter_from(args) -> RegistrationFilter:
    status = args.get("status", "")
    return RegistrationFilter(
        status=RegistrationStatus(status) if status in {item.value for item in RegistrationStatus} else None,
        older_than_days=min(max(args.get("older_than", 0, type=int), 0), 3650),
        in_window=args.get("window") == "1",
        day=_day(args.get("day", "")),
    )


def _day(text: str) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def decision_summary(wanted: DecisionFilter) -> list[str]:
    parts = [queue_label(wanted.queue) if wanted.queue else _("Both queues")]
    parts.append(wanted.day.isoformat() if wanted.day else _("The last %(days)d days", days=WINDOW_DAYS))
    if wanted.reason:
        parts.append(_("Reason %(code)s", code=wanted.reason))
    if wanted.accepted is not None:
        parts.append(_("Accepted") if wanted.accepted else _("Rejected"))
    return parts


def registration_summary(wanted: RegistrationFilter) -> list[str]:
    parts = [wanted.status.label if wanted.status else _("Every open stage")]
    if wanted.older_than_days:
        parts.append(_("Invited or requested %(days)s ago or more", days=days_text(wanted.older_than_days)))
    if wanted.day:
        parts.append(_("Stage entered on %(day)s", day=wanted.day.isoformat()))
    elif wanted.in_window:
        parts.append(_("Stage entered in the last %(days)d days", days=WINDOW_DAYS))
    return parts


def page_of(query: Select, page: int, counted: Select | None = None) -> tuple[list, int, int]:
    """One page of rows, the number of pages and the number of rows (of `counted`, when the rows join more
    than the count needs): two statements."""
    counted = query if counted is None else counted
    total = db.session.scalar(select(func.count()).select_from(counted.order_by(None).subquery()))
    rows = db.session.execute(query.limit(PAGE_SIZE).offset((page - 1) * PAGE_SIZE)).all()
    return rows, max(1, ceil(total / PAGE_SIZE)), total


def csv_response(table: Table, name: str) -> Response:
    """The table as CSV, headers in the reader's language; a BOM so spreadsheets read the accents right."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow([fmt.csv_safe(header) for header in table.headers])
    for row in table.rows:
        writer.writerow([fmt.csv_safe(cell.text) for cell in row])
    response = Response(buffer.getvalue(), mimetype="text/csv")
    filename = f"{name}-{utcnow().astimezone(DAY_ZONE).date().isoformat()}.csv"
    response.headers["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


# --------------------------------------------------------------------------------------------- the view


class DashboardView(StaffPage):
    """The supervisors' dashboard, for their office (or any office, with national scope) and a division."""

    area = "dashboard"

    def _scope(self) -> DashboardScope:
        return DashboardScope.of(
            reader(), request.args.get("office", type=record_id), request.args.get("division", type=record_id)
        )

    @staticmethod
    def _links(scope: DashboardScope) -> Links:
        return Links(scope.office_id if scope.national else None, scope.division_id)

    @staticmethod
    def _offices(scope: DashboardScope) -> dict[int, str] | None:
        return dict(fmt.office_choices()) if scope.national else None

    @expose("/")
    def index(self):
        scope = self._scope()
        board = build_dashboard(scope)
        links = self._links(scope)
        offices = self._offices(scope)
        breakdown = offices if scope.national and not scope.office_id else None
        return self.render(
            "admin/dashboard.html",
            board=board,
            scope=scope,
            links=links,
            tables=dashboard_tables(board, links, breakdown),
            charts=dashboard_charts(board, links),
            offices=offices,
            office_name=self._office_name(scope, offices),
            divisions=fmt.division_choices(),
            queues=QUEUES,
            setbacks=SETBACKS,
            window_days=WINDOW_DAYS,
            day_zone=DAY_ZONE.key,
        )

    @staticmethod
    def _office_name(scope: DashboardScope, offices: dict[int, str] | None) -> str:
        if offices is None:
            return scope.user.office.name if scope.user.office else ""
        return offices.get(scope.office_id, "") if scope.office_id else _("Every office")

    @expose("/export/")
    def export_view(self):
        scope = self._scope()
        board = build_dashboard(scope)
        breakdown = self._offices(scope) if scope.national and not scope.office_id else None
        table = dashboard_tables(board, self._links(scope), breakdown).get(request.args.get("table", ""))
        if table is None:
            abort(404)
        return csv_response(table, f"dashboard-{table.key}")

    @expose("/decisions/")
    def decisions_view(self):
        scope, wanted = self._scope(), decision_filter_from(request.args)
        window = window_at(utcnow())
        page = max(1, request.args.get("page", 1, type=page_number))
        query = decisions_behind(scope, window, wanted)
        rows, pages, total = page_of(with_submissions(query), page, counted=query)
        return self._list_page(
            scope,
            _("Decisions behind the dashboard"),
            decision_table(rows),
            decision_summary(wanted),
            (page, pages, total),
            ".decisions_export_view",
        )

    def _list_page(self, scope, title, table, summary, paging: tuple[int, int, int], export_endpoint: str):
        """A list behind a figure: its table, a page of it, its CSV export and the way back."""
        page, pages, total = paging
        args = {name: value for name, value in request.args.items() if name != "page"}
        return self.render(
            "admin/dashboard_list.html",
            title=title,
            table=table,
            summary=summary,
            total=total,
            page=page,
            pages=pages,
            args=args,
            export_url=url_for(export_endpoint, **args),
            back_url=self._links(scope).dashboard(),
            day_zone=DAY_ZONE.key,
        )

    @expose("/decisions/export/")
    def decisions_export_view(self):
        scope, wanted = self._scope(), decision_filter_from(request.args)
        rows = db.session.execute(
            with_submissions(decisions_behind(scope, window_at(utcnow()), wanted))
        ).all()
        return csv_response(decision_table(rows, with_links=False), "decisions")

    @expose("/registrations/")
    def registrations_view(self):
        scope, wanted = self._scope(), registration_filter_from(request.args)
        now = utcnow()
        page = max(1, request.args.get("page", 1, type=page_number))
        rows, pages, total = page_of(registrations_behind(scope, window_at(now), wanted, now), page)
        return self._list_page(
            scope,
            _("Registrations behind the dashboard"),
            registration_table([row[0] for row in rows], now),
            registration_summary(wanted),
            (page, pages, total),
            ".registrations_export_view",
        )

    @expose("/registrations/export/")
    def registrations_export_view(self):
        scope, wanted = self._scope(), registration_filter_from(request.args)
        now = utcnow()
        rows = db.session.scalars(registrations_behind(scope, window_at(now), wanted, now)).all()
        return csv_response(registration_table(rows, now, with_links=False), "registrations")
