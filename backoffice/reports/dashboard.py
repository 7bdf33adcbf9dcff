"""The supervisors' dashboard: what waits in the work queues and for how long, the decisions of the last
30 days with their times and reasons, and the same for the registration pipeline.

Speed at scale: the whole dashboard is a fixed number of statements, one per kind of figure, whatever the
number of offices, days or rows; none reads all of history. What waits is read from the statuses of waiting
submissions (ix_submissions_status_office, which holds every column the figures need, so the table is not
visited). Decisions per day and reasons are read from daily tallies (`models.tally`), kept as each decision
is made: a row per day, office, division and queue, whatever the number of decisions. The median time to
decision reads the window's decisions from a covering index (ix_decisions_office_decided); a decision keeps
its submission's office, division and received time, so none of this joins the submissions. Registrations
are read by office and stage (ix_registrations_office_status). Each statement answers a few aggregated rows
(medians with percentile_cont on PostgreSQL), so no decision crosses into Python one by one. Figures are
grouped by office too, so the national view's breakdown by office costs no further statement.

The "day" of a decision or an activation is its day in Eastern time (the zone of the My Case timestamp),
the same for every office so that national figures add up.
"""

import statistics
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import TypeVar

from flask_babel import lazy_gettext as _l
from sqlalchemy import Select, and_, case, exists, func, or_, select

from backoffice.extensions import db
from backoffice.i18n import localised
from backoffice.models import (
    Decision,
    DecisionTally,
    Reason,
    ReasonTally,
    ReasonUse,
    Registration,
    RegistrationStatus,
    ServiceTarget,
    StaffUser,
    Submission,
    SubmissionStatus,
)
from backoffice.models.submission import decision_reasons
from backoffice.models.types import utcnow
from backoffice.workflows import access
from backoffice.workflows.timeliness import EASTERN, eastern_day, eastern_midnight

WINDOW_DAYS = 30
DAY_ZONE = EASTERN
QUEUES = (SubmissionStatus.WITH_REGISTRY, SubmissionStatus.WITH_DIVISION)
DECIDED_BY = {
    SubmissionStatus.WITH_REGISTRY: ReasonUse.REGISTRY,
    SubmissionStatus.WITH_DIVISION: ReasonUse.DIVISION,
}
QUEUE_OF = {made_by: queue for queue, made_by in DECIDED_BY.items()}
REGISTRATION = "registration"
# What migration 0006 loads; used only if an administrator's row is missing.
DEFAULT_TARGETS = {"with_registry": 2, "with_division": 10, REGISTRATION: 30}
TARGET_LABELS = {
    "with_registry": _l("Registry queue"),
    "with_division": _l("Division queue"),
    REGISTRATION: _l("Registration of counsel"),
}

R = RegistrationStatus
OPEN_STAGES = tuple(status for status in R if status not in (R.ACTIVE, R.WITHDRAWN))
# Stages where a registration stopped or went back; counted when entered within the window.
SETBACKS = (
    R.FORM_INCOMPLETE,
    R.VERIFICATION_MISSED,
    R.IDENTITY_NOT_CONFIRMED,
    R.CODE_EXPIRED,
    R.ON_HOLD,
    R.WITHDRAWN,
)


# --------------------------------------------------------------------------------------------- scope


@dataclass(frozen=True)
class DashboardScope:
    """Whose figures: the user's scope, narrowed to one office (national scope only) and one division."""

    user: StaffUser
    office_id: int | None = None
    division_id: int | None = None

    @classmethod
    def of(cls, user: StaffUser, office_id: int | None, division_id: int | None) -> "DashboardScope":
        """A regional user's office is theirs whatever they ask for; only national scope chooses one."""
        national = access.has_national_scope(user)
        return cls(user, office_id if national else user.office_id, division_id)

    @property
    def national(self) -> bool:
        return access.has_national_scope(self.user)

    def submissions(self, query: Select) -> Select:
        query = access.scope_submissions(query, self.user)
        if self.office_id:
            query = query.where(Submission.office_id == self.office_id)
        if self.division_id:
            query = query.where(Submission.division_id == self.division_id)
        return query

    def decisions(self, query: Select, model: type = Decision) -> Select:
        """Decisions, and their daily tallies (`model`), keep their submission's office and division: scoped on
        their own columns by the same rule as submissions, so that none of them joins the submissions."""
        query = access.scope_by_office_and_division(query, self.user, model.office_id, model.division_id)
        if self.office_id:
            query = query.where(model.office_id == self.office_id)
        if self.division_id:
            query = query.where(model.division_id == self.division_id)
        return query

    def registrations(self, query: Select) -> Select:
        """Registrations have no division: only the office narrows them."""
        query = access.scope_registrations(query, self.user)
        if self.office_id:
            query = query.where(Registration.office_id == self.office_id)
        return query


@dataclass(frozen=True)
class Window:
    """The last WINDOW_DAYS whole days in Eastern time, today included."""

    start: datetime
    days: tuple[date, ...]

    def bounds(self, day: date) -> tuple[datetime, datetime]:
        """The instants a day begins and ends (23 or 25 hours apart when the clocks change)."""
        return eastern_midnight(day), eastern_midnight(day + timedelta(days=1))


def window_at(now: datetime, days: int = WINDOW_DAYS) -> Window:
    today = now.astimezone(DAY_ZONE).date()
    first = today - timedelta(days=days - 1)
    return Window(eastern_midnight(first), tuple(first + timedelta(days=n) for n in range(days)))


def service_targets() -> dict[str, int]:
    found = {
        queue: days for queue, days in db.session.execute(select(ServiceTarget.queue, ServiceTarget.days))
    }
    return {**DEFAULT_TARGETS, **found}


# --------------------------------------------------------------------------------------------- figures


@dataclass(frozen=True)
class QueueFigures:
    """What waits in one queue, by state: unclaimed, claimed, on hold (held whether claimed or not)."""

    queue: SubmissionStatus
    target_days: int
    unclaimed: int = 0
    claimed: int = 0
    on_hold: int = 0
    over_target: int = 0
    oldest_received_at: datetime | None = None

    @property
    def total(self) -> int:
        return self.unclaimed + self.claimed + self.on_hold

    def oldest_age(self, now: datetime) -> timedelta | None:
        return None if self.oldest_received_at is None else now - self.oldest_received_at

    def __add__(self, other: "QueueFigures") -> "QueueFigures":
        return _added(self, other, ("unclaimed", "claimed", "on_hold", "over_target"), "oldest_received_at")


@dataclass(frozen=True)
class DecisionTimes:
    """A queue's decisions in the window, and the median time from received to that decision."""

    queue: SubmissionStatus
    accepted: int = 0
    rejected: int = 0
    median: timedelta | None = None

    @property
    def decisions(self) -> int:
        return self.accepted + self.rejected


@dataclass(frozen=True)
class DayCount:
    day: date
    accepted: int = 0
    rejected: int = 0


@dataclass(frozen=True)
class ReasonCount:
    """How many decisions of a queue in the window gave this reason (for a whole submission or a file)."""

    queue: SubmissionStatus
    code: str
    text_en: str
    text_fr: str
    count: int

    @property
    def text(self) -> str:
        return localised(self.text_en, self.text_fr)


@dataclass(frozen=True)
class StageFigures:
    """Open registrations at one stage; their age counts from the invitation or counsel's request."""

    status: RegistrationStatus | None  # None for every open stage together
    target_days: int
    count: int = 0
    over_target: int = 0
    oldest_started_at: datetime | None = None

    def oldest_age(self, now: datetime) -> timedelta | None:
        return None if self.oldest_started_at is None else now - self.oldest_started_at

    def __add__(self, other: "StageFigures") -> "StageFigures":
        return _added(self, other, ("count", "over_target"), "oldest_started_at")


@dataclass(frozen=True)
class RegistrationTimes:
    """Registrations that became active in the window, and the median time from invitation or request."""

    activations: int = 0
    median: timedelta | None = None


@dataclass(frozen=True)
class OfficeBacklog:
    """One office's share of the backlog, for the national view."""

    office_id: int
    queues: dict[SubmissionStatus, QueueFigures]
    registrations: StageFigures


@dataclass(frozen=True)
class Dashboard:
    now: datetime
    window: Window
    targets: dict[str, int]
    queues: list[QueueFigures]
    decision_times: list[DecisionTimes]
    decisions_per_day: dict[SubmissionStatus, list[DayCount]]
    reasons: list[ReasonCount]
    stages: list[StageFigures]
    open_registrations: StageFigures
    registration_times: RegistrationTimes
    activations_per_day: list[tuple[date, int]]
    setbacks: list[tuple[RegistrationStatus, int]]
    by_office: list[OfficeBacklog] = field(default_factory=list)


def build_dashboard(scope: DashboardScope, now: datetime | None = None) -> Dashboard:
    """Every figure of the dashboard, in seven statements whatever the data."""
    now = now or utcnow()
    window = window_at(now)
    targets = service_targets()
    queue_rows = waiting_in_queues(scope, targets, now)
    stage_rows = open_registrations(scope, targets[REGISTRATION], now)
    decision_times, per_day, reasons = decisions_in_window(scope, window)
    registration_times, activations, setbacks = registrations_in_window(scope, window)
    stages = _totals_by_stage(stage_rows, targets[REGISTRATION])
    return Dashboard(
        now=now,
        window=window,
        targets=targets,
        queues=_totals_by_queue(queue_rows, targets),
        decision_times=decision_times,
        decisions_per_day=per_day,
        reasons=reasons,
        stages=stages,
        open_registrations=_sum(stages, StageFigures(None, targets[REGISTRATION])),
        registration_times=registration_times,
        activations_per_day=activations,
        setbacks=setbacks,
        by_office=_by_office(queue_rows, stage_rows, targets),
    )


def _count_if(condition) -> object:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def waiting_in_queues(
    scope: DashboardScope, targets: dict[str, int], now: datetime
) -> list[tuple[int, QueueFigures]]:
    """The queues' figures per office, in one statement over waiting submissions only."""
    not_held = Submission.held_at.is_(None)
    over_target = or_(
        *(
            and_(
                Submission.status == queue,
                Submission.received_at <= now - timedelta(days=targets[queue.value]),
            )
            for queue in QUEUES
        )
    )
    query = select(
        Submission.office_id,
        Submission.status,
        _count_if(and_(Submission.claimed_by_id.is_(None), not_held)),
        _count_if(and_(Submission.claimed_by_id.is_not(None), not_held)),
        _count_if(Submission.held_at.is_not(None)),
        _count_if(over_target),
        func.min(Submission.received_at),
    ).where(Submission.status.in_(QUEUES))
    query = scope.submissions(query).group_by(Submission.office_id, Submission.status)
    return [
        (office_id, QueueFigures(status, targets[status.value], *counts, oldest))
        for office_id, status, *counts, oldest in db.session.execute(query)
    ]


def _totals_by_queue(rows: list[tuple[int, QueueFigures]], targets: dict[str, int]) -> list[QueueFigures]:
    return [
        _sum(
            (figures for _office, figures in rows if figures.queue is queue),
            QueueFigures(queue, targets[queue.value]),
        )
        for queue in QUEUES
    ]


def decisions_in_window(
    scope: DashboardScope, window: Window
) -> tuple[list[DecisionTimes], dict[SubmissionStatus, list[DayCount]], list[ReasonCount]]:
    """Decisions per queue and per day, their median time and their reasons: three statements, each
    answering a few aggregated rows. Counts and reasons come from the daily tallies, a row per day, office,
    division and queue (and reason), whatever the number of decisions. The median needs every time to
    decision of the window: it reads them from the covering index ix_decisions_office_decided, without
    visiting the table, and without joining the submissions (a decision keeps its received time)."""
    outcomes = decision_outcomes(scope, window)
    medians = median_times(scope, window)
    times = [
        DecisionTimes(
            queue,
            accepted=sum(n for (q, _day, ok), n in outcomes.items() if q is queue and ok),
            rejected=sum(n for (q, _day, ok), n in outcomes.items() if q is queue and not ok),
            median=medians.get(queue),
        )
        for queue in QUEUES
    ]
    per_day = {
        queue: [DayCount(day, outcomes[queue, day, True], outcomes[queue, day, False]) for day in window.days]
        for queue in QUEUES
    }
    return times, per_day, rejection_reasons(scope, window)


def decision_outcomes(scope: DashboardScope, window: Window) -> Counter:
    """How many decisions each queue made each day of the window, accepted or not, from the daily tallies."""
    query = select(
        DecisionTally.made_by,
        DecisionTally.day,
        func.sum(DecisionTally.accepted),
        func.sum(DecisionTally.rejected),
    ).where(DecisionTally.day >= window.days[0])
    query = scope.decisions(query, DecisionTally).group_by(DecisionTally.made_by, DecisionTally.day)
    outcomes: Counter = Counter()
    for made_by, day, accepted, rejected in db.session.execute(query):
        outcomes[QUEUE_OF[made_by], day, True] = accepted
        outcomes[QUEUE_OF[made_by], day, False] = rejected
    return outcomes


def median_times(scope: DashboardScope, window: Window) -> dict[SubmissionStatus, timedelta]:
    """The median time from received to decision per queue over the window.

    PostgreSQL takes it with percentile_cont and answers a row per queue. SQLite has no percentile_cont:
    there the durations are read and the median taken here, which suits the embedded database's volume
    (the engine of volume is PostgreSQL).
    """
    took = Decision.decided_at - Decision.received_at
    in_window = Decision.decided_at >= window.start
    if db.session.get_bind().dialect.name == "postgresql":
        query = select(Decision.made_by, func.percentile_cont(0.5).within_group(took)).where(in_window)
        rows = db.session.execute(scope.decisions(query).group_by(Decision.made_by))
        return {QUEUE_OF[made_by]: median for made_by, median in rows}
    query = select(Decision.made_by, Decision.decided_at, Decision.received_at).where(in_window)
    durations: dict[SubmissionStatus, list[float]] = defaultdict(list)
    for made_by, decided_at, received_at in db.session.execute(scope.decisions(query)):
        durations[QUEUE_OF[made_by]].append((decided_at - received_at).total_seconds())
    return {queue: timedelta(seconds=statistics.median(found)) for queue, found in durations.items()}


def rejection_reasons(scope: DashboardScope, window: Window) -> list[ReasonCount]:
    """The reasons given in the window's decisions, most frequent first, per queue, from the daily tallies.

    A decision's reasons include those of the files it rejected one by one, so a partly accepted
    submission counts its rejected files' reasons.
    """
    count = func.sum(ReasonTally.decisions)
    query = (
        select(ReasonTally.made_by, Reason.code, Reason.text_en, Reason.text_fr, count)
        .join(Reason, Reason.id == ReasonTally.reason_id)
        .where(ReasonTally.day >= window.days[0])
    )
    query = scope.decisions(query, ReasonTally).group_by(
        ReasonTally.made_by, Reason.id, Reason.code, Reason.text_en, Reason.text_fr
    )
    rows = db.session.execute(query.order_by(count.desc(), Reason.code))
    return [
        ReasonCount(QUEUE_OF[made_by], code, text_en, text_fr, n)
        for made_by, code, text_en, text_fr, n in rows
    ]


def open_registrations(
    scope: DashboardScope, target_days: int, now: datetime
) -> list[tuple[int, StageFigures]]:
    """Open registrations per office and stage, in one statement."""
    started_at = Registration.created_at
    query = select(
        Registration.office_id,
        Registration.status,
        func.count(Registration.id),
        _count_if(started_at <= now - timedelta(days=target_days)),
        func.min(started_at),
    ).where(Registration.status.in_(OPEN_STAGES))
    query = scope.registrations(query).group_by(Registration.office_id, Registration.status)
    return [
        (office_id, StageFigures(status, target_days, count, over, oldest))
        for office_id, status, count, over, oldest in db.session.execute(query)
    ]


def _totals_by_stage(rows: list[tuple[int, StageFigures]], target_days: int) -> list[StageFigures]:
    return [
        _sum(
            (figures for _office, figures in rows if figures.status is stage),
            StageFigures(stage, target_days),
        )
        for stage in OPEN_STAGES
    ]


def registrations_in_window(
    scope: DashboardScope, window: Window
) -> tuple[RegistrationTimes, list[tuple[date, int]], list[tuple[RegistrationStatus, int]]]:
    """Activations (with the median time from invitation or request) and setbacks entered in the window.

    Active and withdrawn are final stages, so a registration's `status_changed_at` there is when it got there.
    """
    query = select(Registration.status, Registration.created_at, Registration.status_changed_at).where(
        Registration.status.in_((R.ACTIVE, *SETBACKS)), Registration.status_changed_at >= window.start
    )
    durations: list[float] = []
    activations: Counter = Counter()
    setbacks: Counter = Counter()
    for status, started_at, changed_at in db.session.execute(scope.registrations(query)):
        if status is R.ACTIVE:
            durations.append((changed_at - started_at).total_seconds())
            activations[eastern_day(changed_at)] += 1
        else:
            setbacks[status] += 1
    return (
        RegistrationTimes(len(durations), _median(durations)),
        [(day, activations[day]) for day in window.days],
        [(status, setbacks[status]) for status in SETBACKS],
    )


def _by_office(
    queue_rows: list[tuple[int, QueueFigures]],
    stage_rows: list[tuple[int, StageFigures]],
    targets: dict[str, int],
) -> list[OfficeBacklog]:
    offices = sorted(
        {office for office, _figures in queue_rows} | {office for office, _figures in stage_rows}
    )
    backlog = []
    for office_id in offices:
        queues = {
            queue: _sum(
                (f for office, f in queue_rows if office == office_id and f.queue is queue),
                QueueFigures(queue, targets[queue.value]),
            )
            for queue in QUEUES
        }
        stages = _sum(
            (f for office, f in stage_rows if office == office_id), StageFigures(None, targets[REGISTRATION])
        )
        backlog.append(OfficeBacklog(office_id, queues, stages))
    return backlog


def _sum(figures: Iterable, start):
    total = start
    for item in figures:
        total = total + item
    return total


Figures = TypeVar("Figures", QueueFigures, StageFigures)


def _added(first: Figures, second: Figures, counts: tuple[str, ...], oldest: str) -> Figures:
    """Figures of what waits, as one: the `counts` added up, the earlier of their `oldest` instants kept."""
    instants = (getattr(first, oldest), getattr(second, oldest))
    return replace(
        first,
        **{name: getattr(first, name) + getattr(second, name) for name in counts},
        **{oldest: min((instant for instant in instants if instant is not None), default=None)},
    )


def _median(seconds: list[float]) -> timedelta | None:
    return timedelta(seconds=statistics.median(seconds)) if seconds else None


# --------------------------------------------------------------------------------------------- lists behind


@dataclass(frozen=True)
class DecisionFilter:
    """The decisions behind a figure: always within the window, narrowed by queue, day, reason, outcome."""

    queue: SubmissionStatus | None = None
    day: date | None = None
    reason: str = ""
    accepted: bool | None = None


def decisions_behind(scope: DashboardScope, window: Window, wanted: DecisionFilter) -> Select:
    """The decisions in scope, newest first (count it as it is; join the submissions for a page of it)."""
    query = select(Decision).where(Decision.decided_at >= window.start)
    if wanted.queue is not None:
        query = query.where(Decision.made_by == DECIDED_BY[wanted.queue])
    if wanted.day is not None:
        first, after = window.bounds(wanted.day)
        query = query.where(Decision.decided_at >= first, Decision.decided_at < after)
    if wanted.reason:
        query = query.where(
            exists().where(
                decision_reasons.c.decision_id == Decision.id,
                decision_reasons.c.reason_id == Reason.id,
                Reason.code == wanted.reason,
            )
        )
    if wanted.accepted is not None:
        query = query.where(Decision.accepted.is_(wanted.accepted))
    return scope.decisions(query).order_by(Decision.decided_at.desc(), Decision.id.desc())


def with_submissions(query: Select) -> Select:
    """(Decision, Submission) rows of a query of decisions."""
    return query.add_columns(Submission).join(Submission, Submission.id == Decision.submission_id)


@dataclass(frozen=True)
class RegistrationFilter:
    """The registrations behind a figure.

    `status` one stage (else every open stage); `older_than_days` started at least that long ago;
    `in_window` entered their stage within the window; `day` entered it on that day (Eastern).
    """

    status: RegistrationStatus | None = None
    older_than_days: int = 0
    in_window: bool = False
    day: date | None = None


def registrations_behind(
    scope: DashboardScope, window: Window, wanted: RegistrationFilter, now: datetime | None = None
) -> Select:
    """Registrations in scope, the longest started first."""
    now = now or utcnow()
    query = select(Registration)
    if wanted.status is not None:
        query = query.where(Registration.status == wanted.status)
    else:
        query = query.where(Registration.status.in_(OPEN_STAGES))
    if wanted.older_than_days:
        query = query.where(Registration.created_at <= now - timedelta(days=wanted.older_than_days))
    if wanted.in_window or wanted.day is not None:
        query = query.where(Registration.status_changed_at >= window.start)
    if wanted.day is not None:
        first, after = window.bounds(wanted.day)
        query = query.where(Registration.status_changed_at >= first, Registration.status_changed_at < after)
    return scope.registrations(query).order_by(Registration.created_at, Registration.id)
