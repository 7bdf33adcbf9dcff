"""Daily tallies of decisions: kept up as each decision is made, and made again from the decisions on demand.

Each decision adds one to its day's count (accepted or rejected) and one for each of its reasons, in the
decision's own transaction, with an insert that adds to the row when the row exists (ON CONFLICT DO UPDATE,
on PostgreSQL and SQLite alike). Two decisions of the same day, office, division and queue at once are both
counted: the second waits on the row until the first commits. Rows are touched in a fixed order (the count,
then the reasons by id) so that two such transactions never wait on each other in a circle.
"""

from collections import Counter
from datetime import date

from sqlalchemy import Result, Select, Table, delete, select, text
from sqlalchemy.dialects import postgresql, sqlite

from backoffice.extensions import db
from backoffice.models import Decision, DecisionTally, ReasonTally
from backoffice.models.submission import decision_reasons
from backoffice.workflows.concurrency import begin_write
from backoffice.workflows.timeliness import eastern_day, eastern_midnight

UPSERTS = {"postgresql": postgresql.insert, "sqlite": sqlite.insert}
BATCH = 5_000
PLACE = ("day", "office_id", "division_id", "made_by")  # what a tally counts for


def count_decision(decision: Decision) -> None:
    """Add a decision being recorded to its day's tallies (its `decided_at` set)."""
    key = {
        "day": eastern_day(decision.decided_at),
        "office_id": decision.office_id,
        "division_id": decision.division_id,
        "made_by": decision.made_by,
    }
    _add(DecisionTally.__table__, key, accepted=int(decision.accepted), rejected=int(not decision.accepted))
    for reason_id in sorted({reason.id for reason in decision.reasons}):
        _add(ReasonTally.__table__, {**key, "reason_id": reason_id}, decisions=1)


def _add(table: Table, key: dict, **counts: int) -> None:
    insert = UPSERTS[db.session.get_bind().dialect.name](table).values(**key, **counts)
    upsert = insert.on_conflict_do_update(
        index_elements=list(key), set_={name: table.c[name] + insert.excluded[name] for name in counts}
    )
    db.session.execute(upsert)


def recount(since: date | None = None) -> int:
    """Make the tallies again from the decisions, all of them or those from the day `since` on (Eastern);
    answers how many decisions were counted. For a database filled in bulk, or tallies to be checked.

    On PostgreSQL the tallies are locked against every change first: decisions being recorded at that
    moment are waited for and counted, and those that come after wait and are added once this is done, so
    none is lost or counted twice. On SQLite the database's write lock is taken before the decisions are read.
    """
    if db.session.get_bind().dialect.name == "postgresql":
        db.session.execute(text("LOCK TABLE decision_tallies, reason_tallies IN SHARE ROW EXCLUSIVE MODE"))
    begin_write()  # SQLite: the database's write lock, before the decisions are read
    place = (Decision.decided_at, Decision.office_id, Decision.division_id, Decision.made_by)
    in_range = [] if since is None else [Decision.decided_at >= eastern_midnight(since)]
    outcomes: Counter = Counter()
    for decided_at, *rest, accepted in _streamed(select(*place, Decision.accepted).where(*in_range)):
        outcomes[(eastern_day(decided_at), *rest), accepted] += 1
    given = select(*place, decision_reasons.c.reason_id).join(
        decision_reasons, decision_reasons.c.decision_id == Decision.id
    )
    reasons: Counter = Counter()
    for decided_at, *rest in _streamed(given.where(*in_range)):
        reasons[eastern_day(decided_at), *rest] += 1
    _replace(since, outcomes, reasons)
    return sum(outcomes.values())


def _streamed(query: Select) -> Result:
    return db.session.execute(query.execution_options(yield_per=BATCH))


def _replace(since: date | None, outcomes: Counter, reasons: Counter) -> None:
    for model in (DecisionTally, ReasonTally):
        db.session.execute(delete(model).where(*([] if since is None else [model.day >= since])))
    places = {place for place, _accepted in outcomes}
    rows = [
        dict(zip(PLACE, place, strict=True))
        | {"accepted": outcomes[place, True], "rejected": outcomes[place, False]}
        for place in places
    ]
    _insert(DecisionTally.__table__, rows)
    rows = [
        dict(zip((*PLACE, "reason_id"), key, strict=True)) | {"decisions": count}
        for key, count in reasons.items()
    ]
    _insert(ReasonTally.__table__, rows)


def _insert(table: Table, rows: list[dict]) -> None:
    for start in range(0, len(rows), BATCH):
        db.session.execute(table.insert(), rows[start : start + BATCH])
