"""The audit log is append-only: the ORM refuses, and the database refuses on its own."""

import re

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError

from backoffice.extensions import db
from backoffice.models import AuditEvent
from backoffice.models.audit import AuditLogAppendOnlyError
from backoffice.workflows.audit import record_event


def one_event() -> AuditEvent:
    event = record_event("test.event", actor="test", after={"value": 1})
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


SAFE_REQUEST_IDS = ("0f8fe2c1-7d7b-4b8e-a1f2-5d1c3a9e0b77", "edge.42_A-b", "a" * 64)
UNSAFE_REQUEST_IDS = (
    "has space",
    "tab\tinside",
    "bell\x07",
    "delete\x7f",
    "a" * 65,
    "caf\u00e9",
    "\u202eevil",
    "id\r\nSet-Cookie: session=stolen",
    "id\nX-Forwarded-For: 10.0.0.1",
    "../../etc/passwd",
    "<script>",
    "a;b",
    "",
)


def refused_with_request_id(client, request_id: str) -> tuple[str, str]:
    """Send a request that is refused (and so audited) with this X-Request-Id, as a server would pass it
    on; return the id answered and the id recorded in the audit log."""
    response = client.get("/admin/staff/", environ_overrides={"HTTP_X_REQUEST_ID": request_id})
    assert response.status_code == 403
    event = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "permission.refused").order_by(AuditEvent.id.desc())
    ).first()
    return response.headers["X-Request-Id"], event.request_id


def test_a_callers_request_id_is_kept_when_safe_and_otherwise_replaced_in_the_answer_and_the_audit_log(
    app, login_as
):
    clerk = login_as("clerk", "western")
    for given in SAFE_REQUEST_IDS:
        assert refused_with_request_id(clerk, given) == (given, given)
    answered = []
    for given in UNSAFE_REQUEST_IDS:
        answer, recorded = refused_with_request_id(clerk, given)
        assert re.fullmatch(r"[0-9a-f]{32}", answer) and recorded == answer, repr(given)
        answered.append(answer)
    assert len(set(answered)) == len(UNSAFE_REQUEST_IDS)


def test_what_the_back_office_does_on_its_own_during_a_staff_request_is_not_put_on_that_staff_member(
    app, login_as
):
    """A rejection queues counsel's email: the rejection is the clerk's act, the queued message the system's."""
    from backoffice.workflows import decisions
    from tests.factories import with_registry
    from tests.helpers import post_form

    submission = with_registry()
    clerk = login_as("clerk", "western")
    decisions.claim(submission.id, db.session.get(type(clerk.user), clerk.user.id))
    db.session.commit()
    post_form(
        clerk,
        "/admin/registry_queue/decide/",
        page=f"/admin/submission/details/?id={submission.id}",
        id=submission.id,
        decision="reject",
        reason="R-PROCEDURE",
    )
    rejected = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "submission.reject_by_registry")
    )
    queued = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "notification.queued"))
    assert rejected.actor_id == clerk.user.id
    assert queued.actor_id is None and queued.actor_label == "system"
