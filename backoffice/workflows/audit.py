"""Writing audit events, in the same transaction as the change they describe."""

from typing import Any

from flask import g, has_request_context
from flask_login import current_user

from backoffice.extensions import db
from backoffice.models import AuditEvent, StaffUser

SYSTEM = "system"
COMMAND_LINE = "command line"


def record_event(
    action: str,
    *,
    record: Any = None,
    actor: StaffUser | None = None,
    actor_label: str | None = None,
    office_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the session; it commits (or not) with the change it describes."""
    actor = actor or _signed_in_staff()
    event = AuditEvent(
        action=action,
        actor_id=actor.id if actor else None,
        actor_label=actor_label or (actor.email if actor else SYSTEM),
        record_type=type(record).__tablename__ if record is not None else None,
        record_id=str(record.id) if record is not None else None,
        office_id=office_id if office_id is not None else _office_of(record, actor),
        before=before,
        after=after,
        request_id=g.get("request_id") if has_request_context() else None,
    )
    db.session.add(event)
    return event


def record_event_now(action: str, **kwargs: Any) -> None:
    """Record and commit an event on its own, for refusals and sign-in attempts that change nothing."""
    record_event(action, **kwargs)
    db.session.commit()


def _office_of(record: Any, actor: StaffUser | None) -> int | None:
    """An event belongs to the office of the record it touches, whoever acted (an administrator of one office
    changing another's record); one that touches no record, such as a refusal, to the office of who acted."""
    if record is not None:
        return getattr(record, "office_id", None)
    return actor.office_id if actor is not None else None


def _signed_in_staff() -> StaffUser | None:
    if has_request_context() and current_user and current_user.is_authenticated:
        return current_user._get_current_object()
    return None
