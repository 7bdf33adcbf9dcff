"""Changes of shared state that hold on every engine, PostgreSQL and SQLite alike.

Two people (or two tabs, or a retried POST, or two workers) may act on the same record at the same moment.
Two rules make sure that only one of them changes it:

1. A workflow that reads a record, checks it, then changes it reads it through `for_update` (or
   `lock_again`): on PostgreSQL a row lock held until the commit; on SQLite, which has no row locks, the
   database's write lock taken *before* the read (BEGIN IMMEDIATE). SQLite's driver would otherwise open the
   transaction only at the first write, after the read, so that two requests could both read "waiting" and
   both decide.
2. The change itself is a compare-and-set: `compare_and_set(record, expected, **values)` updates the row only
   where its columns still hold what was read, and says whether it did. A status moves only this way (see
   `state_machine.StateMachine.fire`), so that even a caller that forgot rule 1 cannot change a record that
   moved on meanwhile.

Rule 1 serialises the work; rule 2 is the guarantee.
"""

from typing import Any

from sqlalchemy import Select, inspect, update
from sqlalchemy.orm.attributes import set_committed_value

from backoffice.extensions import db


def begin_write() -> None:
    """Take the write lock now on SQLite (BEGIN IMMEDIATE), unless this transaction already writes.

    Waits for another writer up to the busy timeout. On PostgreSQL, nothing: its locks are per row.
    """
    connection = db.session.connection()
    if connection.dialect.name != "sqlite":
        return
    if not connection.connection.dbapi_connection.in_transaction:
        connection.exec_driver_sql("BEGIN IMMEDIATE")


def for_update(statement: Select, **options: Any) -> Select:
    """`statement`, to be read fresh under a lock that lasts until the commit or rollback (rule 1).

    `options` go to `with_for_update` (`of=`, `skip_locked=`); the rows are read again even when this session
    loaded them before (a page that showed them)."""
    begin_write()
    return statement.with_for_update(**options).execution_options(populate_existing=True)


def lock_again(record: Any) -> None:
    """Read `record` again under a lock that lasts until the commit (rule 1), e.g. after a slow outside call."""
    begin_write()
    # Only the record's own row: relationships loaded with it by an outer join cannot be locked on PostgreSQL.
    db.session.refresh(record, with_for_update={"of": type(record)})


def compare_and_set(record: Any, expected: dict[str, Any], **values: Any) -> bool:
    """Set `values` on the record's row only where each column in `expected` still holds its value (None
    included); True when the row was changed. The record in memory follows the row.

    One UPDATE whose row count is checked: on PostgreSQL a concurrent change makes it wait and then look at
    the row as committed; on SQLite the statement runs under the database's write lock.
    """
    model = type(record)
    state = inspect(record)
    if not state.persistent:  # not in the database yet: nobody else can see it
        for name, value in values.items():
            setattr(record, name, value)
        return True
    matches = [getattr(model, name).is_not_distinct_from(value) for name, value in expected.items()]
    changed = db.session.execute(
        update(model)
        .where(
            *[column == value for column, value in zip(state.mapper.primary_key, state.identity, strict=True)]
        )
        .where(*matches)
        .values(**values)
        .execution_options(synchronize_session=False)
    ).rowcount
    if changed != 1:
        return False
    for name, value in values.items():
        set_committed_value(record, name, value)
    _forget_related(record, state, values)
    return True


def _forget_related(record: Any, state: Any, values: dict[str, Any]) -> None:
    """A changed foreign key (claimed_by_id) makes its relationship (claimed_by) load again when read."""
    stale = [
        relationship.key
        for relationship in state.mapper.relationships
        if any(column.key in values for column in relationship.local_columns)
    ]
    if stale:
        db.session.expire(record, stale)
