"""The audit log: append-only. The ORM refuses to change a row and the database refuses too."""

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, Session, mapped_column, relationship

from backoffice.extensions import db
from backoffice.models.reference import Office
from backoffice.models.staff import StaffUser
from backoffice.models.types import UTCDateTime, utcnow


class AuditEvent(db.Model):
    __tablename__ = "audit_events"
    # A record's timeline reads its events by type and id.
    __table_args__ = (Index("ix_audit_events_record", "record_type", "record_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), index=True)
    # Who acted when no staff user did: "system", "command line", "portal", or an unknown email's domain.
    actor_label: Mapped[str] = mapped_column(String(100))
    action: Mapped[str] = mapped_column(String(60), index=True)
    record_type: Mapped[str | None] = mapped_column(String(40))
    record_id: Mapped[str | None] = mapped_column(String(40))
    # The office whose records the event concerns, so that regional supervisors see their own.
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"), index=True)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    request_id: Mapped[str | None] = mapped_column(String(64))

    actor: Mapped[StaffUser | None] = relationship(lazy="joined")
    office: Mapped[Office | None] = relationship(lazy="joined")

    def __str__(self) -> str:
        return f"{self.action} {self.record_type or ''} {self.record_id or ''}".strip()


class AuditLogAppendOnlyError(Exception):
    pass


@event.listens_for(Session, "before_flush")
def _refuse_audit_changes(session: Session, flush_context, instances) -> None:
    for instance in list(session.dirty) + list(session.deleted):
        if isinstance(instance, AuditEvent) and (
            instance in session.deleted or session.is_modified(instance)
        ):
            raise AuditLogAppendOnlyError("Audit events are never updated or deleted.")
