"""Staff users of the back office: role, office and (for division members) division."""

import enum
import secrets
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.extensions import db
from backoffice.models.reference import Division, Office
from backoffice.models.types import UTCDateTime, str_enum, utcnow


class Role(enum.StrEnum):
    CLERK = "clerk"
    DIVISION_MEMBER = "division_member"
    SUPERVISOR = "supervisor"
    ADMIN = "admin"

    @property
    def label(self) -> str:
        return str(ROLE_LABELS[self])


ROLE_LABELS = {
    Role.CLERK: _l("Registry clerk"),
    Role.DIVISION_MEMBER: _l("Division member"),
    Role.SUPERVISOR: _l("Supervisor"),
    Role.ADMIN: _l("Administrator"),
}


class StaffUser(UserMixin, db.Model):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(str_enum(Role, "staff_role"))
    # Null only for a supervisor with national scope.
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"))
    division_id: Mapped[int | None] = mapped_column(ForeignKey("divisions.id"))
    preferred_language: Mapped[str] = mapped_column(String(2), default="en")
    is_active_account: Mapped[bool] = mapped_column(default=True)
    failed_sign_ins: Mapped[int] = mapped_column(default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_sign_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Part of the sign-in cookie; replacing it ends every session (sign-out, new password).
    session_token: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_urlsafe(24))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    office: Mapped[Office | None] = relationship(lazy="joined")
    division: Mapped[Division | None] = relationship(lazy="joined")

    @property
    def is_active(self) -> bool:
        return self.is_active_account

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>"
