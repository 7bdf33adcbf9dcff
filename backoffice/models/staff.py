"""Staff users of the back office: role, office and (for division members) division."""

import enum
import secrets
from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_login import UserMixin
from sqlalchemy import BigInteger, ForeignKey, LargeBinary, String, UniqueConstraint
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


class SignInMethod(enum.StrEnum):
    """How a person proved who they are: recorded on each sign-in (audit log and staff list)."""

    PASSWORD = "password"  # noqa: S105 (a way to sign in)
    PASSWORD_TOTP = "password_totp"  # noqa: S105 (a way to sign in)
    PASSWORD_RECOVERY_CODE = "password_recovery_code"  # noqa: S105 (a way to sign in)
    PASSWORD_PASSKEY = "password_passkey"  # noqa: S105 (a way to sign in)
    PASSKEY = "passkey"
    SINGLE_SIGN_ON = "single_sign_on"

    @property
    def label(self) -> str:
        return str(SIGN_IN_METHOD_LABELS[self])

    @property
    def has_second_factor(self) -> bool:
        return self is not SignInMethod.PASSWORD


SIGN_IN_METHOD_LABELS = {
    SignInMethod.PASSWORD: _l("Password only"),
    SignInMethod.PASSWORD_TOTP: _l("Password and authenticator app"),
    SignInMethod.PASSWORD_RECOVERY_CODE: _l("Password and recovery code"),
    SignInMethod.PASSWORD_PASSKEY: _l("Password and passkey"),
    SignInMethod.PASSKEY: _l("Passkey"),
    SignInMethod.SINGLE_SIGN_ON: _l("Departmental account (single sign-on)"),
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
    last_sign_in_method: Mapped[SignInMethod | None] = mapped_column(str_enum(SignInMethod, "sign_in_method"))
    # The identity provider's stable subject ("sub"), bound at the first single sign-on.
    oidc_subject: Mapped[str | None] = mapped_column(String(255), unique=True)
    # The authenticator app's shared secret, encrypted (workflows/factors.py); usable once confirmed.
    totp_secret: Mapped[str | None] = mapped_column(String(255))
    totp_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The last time step whose code was accepted: a code is never accepted twice.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    # Set when an administrator resets the second factors: the person enrols again at the next sign-in.
    must_enrol: Mapped[bool] = mapped_column(default=False)
    # Part of the sign-in cookie; replacing it ends every session (sign-out, new password).
    session_token: Mapped[str] = mapped_column(String(64), default=lambda: secrets.token_urlsafe(24))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    office: Mapped[Office | None] = relationship(lazy="joined")
    division: Mapped[Division | None] = relationship(lazy="joined")
    passkeys: Mapped[list["StaffPasskey"]] = relationship(
        back_populates="staff_user", cascade="all, delete-orphan", order_by="StaffPasskey.id"
    )
    recovery_codes: Mapped[list["RecoveryCode"]] = relationship(
        back_populates="staff_user", cascade="all, delete-orphan"
    )

    @property
    def is_active(self) -> bool:
        return self.is_active_account

    @property
    def has_totp(self) -> bool:
        return self.totp_confirmed_at is not None

    @property
    def has_second_factor(self) -> bool:
        return self.has_totp or bool(self.passkeys)

    @property
    def recovery_codes_left(self) -> int:
        return sum(1 for code in self.recovery_codes if code.used_at is None)

    def get_id(self) -> str:
        return f"{self.id}:{self.session_token}"

    def __str__(self) -> str:
        return f"{self.full_name} <{self.email}>"


class StaffPasskey(db.Model):
    """A passkey or security key (WebAuthn credential) of a staff user: a second factor, or a sign-in alone."""

    __tablename__ = "staff_passkeys"

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)  # base64url, as browsers give it
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(BigInteger, default=0)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    staff_user: Mapped[StaffUser] = relationship(back_populates="passkeys")


class RecoveryCode(db.Model):
    """A single-use recovery code, kept as its keyed hash; used_at set once, by compare-and-set."""

    __tablename__ = "staff_recovery_codes"
    __table_args__ = (UniqueConstraint("staff_user_id", "code_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64))
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())

    staff_user: Mapped[StaffUser] = relationship(back_populates="recovery_codes")


class SsoGroupMapping(db.Model):
    """A group of the identity provider (a value of OIDC_ROLE_CLAIM) and the role, office and division it gives,
    kept by administrators. Used only when OIDC_ROLE_CLAIM is set."""

    __tablename__ = "sso_group_mappings"

    id: Mapped[int] = mapped_column(primary_key=True)
    group: Mapped[str] = mapped_column(String(255), unique=True)
    role: Mapped[Role] = mapped_column(str_enum(Role, "sso_group_role"))
    office_id: Mapped[int | None] = mapped_column(ForeignKey("offices.id"))
    division_id: Mapped[int | None] = mapped_column(ForeignKey("divisions.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    office: Mapped[Office | None] = relationship(lazy="joined")
    division: Mapped[Division | None] = relationship(lazy="joined")
