"""Writing audit events, in the same transaction as the change they describe."""

from typing import Any

from flask import g, has_request_context

from backoffice.extensions import db
from backoffice.models import AuditEvent, StaffUser

SYSTEM = "system"
COMMAND_LINE = "command line"


Actor = StaffUser | str  # a staff member, or who else acted: SYSTEM, COMMAND_LINE, "portal: <client>"


def record_event(
    action: str,
    *,
    actor: Actor,
    record: Any = None,
    office_id: int | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> AuditEvent:
    """Add an audit event to the session; it commits (or not) with the change it describes.

    `actor` is always said by the caller: the staff member who acted, or a label for what did (SYSTEM for a job
    or the back office itself). Nothing is guessed from who is signed in: a job run during a request, or a
    message queued by a decision, is not the act of whoever made the request."""
    if not actor:
        raise ValueError("An audit event names who acted: a staff member, or a label such as SYSTEM.")
    staff = actor if isinstance(actor, StaffUser) else None
    event = AuditEvent(
        action=action,
        actor_id=staff.id if staff else None,
        actor_label=staff.email if staff else actor,
        record_type=type(record).__tablename__ if record is not None else None,
        record_id=str(record.id) if record is not None else None,
        office_id=office_id if office_id is not None else _office_of(record, staff),
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
