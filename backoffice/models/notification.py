"""The outbox: every message to counsel is a row, written with the change that causes it."""

import enum
import uuid
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.extensions import db
from backoffice.models.case import Case
from backoffice.models.counsel import Counsel
from backoffice.models.staff import StaffUser
from backoffice.models.types import UTCDateTime, str_enum, utcnow


class Channel(enum.StrEnum):
    EMAIL = "email"
    SMS = "sms"
    MAIL = "mail"
    FAX = "fax"

    @property
    def label(self) -> str:
        return str(CHANNEL_LABELS[self])

    @property
    def is_letter(self) -> bool:
        return self in (Channel.MAIL, Channel.FAX)


CHANNEL_LABELS = {
    Channel.EMAIL: _l("Email"),
    Channel.SMS: _l("SMS"),
    Channel.MAIL: _l("Mail"),
    Channel.FAX: _l("Fax"),
}


class NotificationStatus(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    RETRYING = "retrying"
    SENT = "sent"
    FAILED = "failed"
    # The provider may or may not have taken it (a worker died while sending by SMTP): never resent
    # on its own; a person checks and resends if needed.
    UNCERTAIN = "uncertain"
    TO_PRINT = "to_print"
    LETTER_SENT = "letter_sent"

    @property
    def label(self) -> str:
        return str(NOTIFICATION_STATUS_LABELS[self])


NOTIFICATION_STATUS_LABELS = {
    NotificationStatus.QUEUED: _l("Queued"),
    NotificationStatus.SENDING: _l("Sending"),
    NotificationStatus.RETRYING: _l("Waiting to retry"),
    NotificationStatus.SENT: _l("Sent"),
    NotificationStatus.FAILED: _l("Failed"),
    NotificationStatus.UNCERTAIN: _l("Delivery uncertain"),
    NotificationStatus.TO_PRINT: _l("To print and send"),
    NotificationStatus.LETTER_SENT: _l("Letter sent"),
}


class Notification(db.Model):
    __tablename__ = "notifications"
    __table_args__ = (Index("ix_notifications_status_next_attempt_at", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    # The reference given to providers, so that a message can be looked up there by its id.
    reference: Mapped[str] = mapped_column(String(36), unique=True, default=lambda: str(uuid.uuid4()))
    counsel_id: Mapped[int | None] = mapped_column(ForeignKey("counsel.id"), index=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey("cases.id"), index=True)
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"), index=True)
    channel: Mapped[Channel] = mapped_column(str_enum(Channel, "channel"))
    template: Mapped[str] = mapped_column(String(60))
    # en, fr, or "bilingual" when the reader's language is unknown.
    language: Mapped[str] = mapped_column(String(10))
    recipient: Mapped[str] = mapped_column(Text)
    values: Mapped[dict[str, Any]] = mapped_column(JSON)
    status: Mapped[NotificationStatus] = mapped_column(
        str_enum(NotificationStatus, "notification_status"), default=NotificationStatus.QUEUED
    )
    provider: Mapped[str | None] = mapped_column(String(20))
    provider_reference: Mapped[str | None] = mapped_column(String(100))
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    sent_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    counsel: Mapped[Counsel | None] = relationship(lazy="joined")
    case: Mapped[Case | None] = relationship(lazy="joined")
    sent_by: Mapped[StaffUser | None] = relationship()
    events: Mapped[list["NotificationEvent"]] = relationship(
        back_populates="notification", order_by="NotificationEvent.id", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return f"{self.template} #{self.id}"


class NotificationEvent(db.Model):
    """The history of a message: queued, each attempt and its outcome, resent, letter sent."""

    __tablename__ = "notification_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    notification_id: Mapped[int] = mapped_column(
        ForeignKey("notifications.id", ondelete="CASCADE"), index=True
    )
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    event: Mapped[str] = mapped_column(String(40))
    attempt: Mapped[int | None]
    detail: Mapped[str | None] = mapped_column(Text)

    notification: Mapped[Notification] = relationship(back_populates="events")
