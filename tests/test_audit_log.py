"""The audit log is append-only: the ORM refuses, and the database refuses on its own."""

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DatabaseError

from backoffice.extensions import db
from backoffice.models import AuditEvent
from backoffice.models.audit import AuditLogAppendOnlyError
from backoffice.workflows.audit import record_event


def one_event() -> AuditEvent:
    event = record_event("test.event", actor_label="test", after={"value": 1})
    db.session.commit()
    return event


def test_the_orm_refuses_to_change_an_audit_event(app):
    event = one_event()
    event.action = "rewritten"
    with pytest.raises(AuditLogAppendOnlyError):
        db.session.commit()
    db.session.rollback()
    db.session.delete(db.session.get(AuditEvent, event.id))
    with pytest.raises(AuditLogAppendOnlyError):
        db.session.commit()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_events SET action = 'rewritten'",
        "DELETE FROM audit_events",
        "INSERT INTO audit_events (id, occurred_at, actor_label, action) VALUES (:id, CURRENT_TIMESTAMP, 'x', 'rewritten') "
        "ON CONFLICT (id) DO UPDATE SET action = 'rewritten'",
    ],
)
def test_the_database_refuses_to_change_an_audit_event(app, statement):
    event_id = one_event().id
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text(statement), {"id": event_id})
        db.session.commit()
    db.session.rollback()
    assert db.session.get(AuditEvent, event_id).action == "test.event"


def test_the_database_refuses_to_truncate_the_audit_log(app):
    if db.engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE exists only on PostgreSQL")
    one_event()
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(text("TRUNCATE audit_events CASCADE"))
    db.session.rollback()


def test_audit_events_keep_who_what_when_and_before_after(app, login_as):
    login_as("admin", "western")
    event = db.session.query(AuditEvent).filter_by(action="sign_in.succeeded").one()
    assert event.actor is not None and event.actor.role.value == "admin"
    assert event.occurred_at.tzinfo is not None
    assert event.request_id


def test_sqlite_insert_or_replace_cannot_rewrite_an_audit_event(app):
    if db.engine.dialect.name != "sqlite":
        pytest.skip("INSERT OR REPLACE is SQLite's")
    event_id = one_event().id
    with pytest.raises(DatabaseError, match="append-only"):
        db.session.execute(
            text(
                "INSERT OR REPLACE INTO audit_events (id, occurred_at, actor_label, action) "
                "VALUES (:id, CURRENT_TIMESTAMP, 'x', 'rewritten')"
            ),
            {"id": event_id},
        )
    db.session.rollback()
    assert db.session.get(AuditEvent, event_id).action == "test.event"
