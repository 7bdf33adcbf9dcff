"""The My Case portal as the back office knows it: the systems allowed to call the API, and counsel's accounts."""

import enum
import uuid
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.extensions import db
from backoffice.models.counsel import Counsel
from backoffice.models.types import UTCDateTime, str_enum, utcnow


def new_public_id() -> str:
    return str(uuid.uuid4())


class PortalClient(db.Model):
    """A system allowed to call the portal API. Only a hash of its bearer token is kept."""

    __tablename__ = "portal_clients"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    @property
    def is_active(self) -> bool:
        return self.revoked_at is None

    def __str__(self) -> str:
        return self.name


class PortalAccountStatus(enum.StrEnum):
    ACTIVE = "active"
    SUSPENDED = "suspended"


class PortalAccount(db.Model):
    """Counsel's account in the portal, linked to the sign-in subject (GCKey or a sign-in partner)."""

    __tablename__ = "portal_accounts"
    __table_args__ = (UniqueConstraint("sign_in_provider", "sign_in_subject"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    counsel_id: Mapped[int] = mapped_column(ForeignKey("counsel.id"), unique=True)
    sign_in_provider: Mapped[str] = mapped_column(String(20))
    sign_in_subject: Mapped[str] = mapped_column(String(200))
    status: Mapped[PortalAccountStatus] = mapped_column(
        str_enum(PortalAccountStatus, "portal_account_status"), default=PortalAccountStatus.ACTIVE
    )
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    counsel: Mapped[Counsel] = relationship(lazy="joined")

    @property
    def is_active(self) -> bool:
        return self.status is PortalAccountStatus.ACTIVE

    def __str__(self) -> str:
        return f"{self.counsel} ({self.sign_in_provider})"
