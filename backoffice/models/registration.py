"""Registration of counsel: the pipeline from invitation to an active portal account."""

import enum
from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.extensions import db
from backoffice.models.counsel import Counsel
from backoffice.models.portal import new_public_id
from backoffice.models.reference import Office
from backoffice.models.staff import StaffUser
from backoffice.models.types import UTCDateTime, str_enum, utcnow


class RegistrationStatus(enum.StrEnum):
    INVITED = "invited"
    REQUESTED = "requested"
    FORM_RECEIVED = "form_received"
    FORM_INCOMPLETE = "form_incomplete"
    VERIFICATION_SCHEDULED = "verification_scheduled"
    VERIFICATION_MISSED = "verification_missed"
    IDENTITY_VERIFIED = "identity_verified"
    IDENTITY_NOT_CONFIRMED = "identity_not_confirmed"
    CODE_ISSUED = "code_issued"
    CODE_EXPIRED = "code_expired"
    ACTIVE = "active"
    WITHDRAWN = "withdrawn"
    ON_HOLD = "on_hold"

    @property
    def label(self) -> str:
        return str(STATUS_LABELS[self])


STATUS_LABELS = {
    RegistrationStatus.INVITED: _l("Invited"),
    RegistrationStatus.REQUESTED: _l("Requested by counsel"),
    RegistrationStatus.FORM_RECEIVED: _l("Form received"),
    RegistrationStatus.FORM_INCOMPLETE: _l("Form incomplete"),
    RegistrationStatus.VERIFICATION_SCHEDULED: _l("Verification scheduled"),
    RegistrationStatus.VERIFICATION_MISSED: _l("Verification missed"),
    RegistrationStatus.IDENTITY_VERIFIED: _l("Identity verified"),
    RegistrationStatus.IDENTITY_NOT_CONFIRMED: _l("Identity not confirmed"),
    RegistrationStatus.CODE_ISSUED: _l("Invitation code issued"),
    RegistrationStatus.CODE_EXPIRED: _l("Invitation code expired"),
    RegistrationStatus.ACTIVE: _l("Active"),
    RegistrationStatus.WITHDRAWN: _l("Withdrawn"),
    RegistrationStatus.ON_HOLD: _l("On hold"),
}


class InvitationChannel(enum.StrEnum):
    EMAIL = "email"
    MAIL = "mail"
    FAX = "fax"
    PHONE = "phone"  # counsel asked to register early, by phone
    MAILBOX = "mailbox"  # counsel asked to register early, by writing to a regional mailbox

    @property
    def label(self) -> str:
        return str(CHANNEL_LABELS[self])


CHANNEL_LABELS = {
    InvitationChannel.EMAIL: _l("Email"),
    InvitationChannel.MAIL: _l("Mail"),
    InvitationChannel.FAX: _l("Fax"),
    InvitationChannel.PHONE: _l("Phone request"),
    InvitationChannel.MAILBOX: _l("Request to a regional mailbox"),
}


class IdentityDocument(enum.StrEnum):
    """The kind of government photo ID seen in the verification meeting; its number is never recorded."""

    PASSPORT = "passport"
    DRIVERS_LICENCE = "drivers_licence"
    PROVINCIAL_ID = "provincial_id"
    PERMANENT_RESIDENT_CARD = "permanent_resident_card"
    CITIZENSHIP_CARD = "citizenship_card"
    OTHER_GOVERNMENT_ID = "other_government_id"

    @property
    def label(self) -> str:
        return str(DOCUMENT_LABELS[self])


DOCUMENT_LABELS = {
    IdentityDocument.PASSPORT: _l("Passport"),
    IdentityDocument.DRIVERS_LICENCE: _l("Driver's licence"),
    IdentityDocument.PROVINCIAL_ID: _l("Provincial or territorial photo ID card"),
    IdentityDocument.PERMANENT_RESIDENT_CARD: _l("Permanent resident card"),
    IdentityDocument.CITIZENSHIP_CARD: _l("Citizenship certificate or card"),
    IdentityDocument.OTHER_GOVERNMENT_ID: _l("Other government photo ID"),
}


class Registration(db.Model):
    __tablename__ = "registrations"
    __table_args__ = (Index("ix_registrations_office_status", "office_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    counsel_id: Mapped[int] = mapped_column(ForeignKey("counsel.id"), index=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    status: Mapped[RegistrationStatus] = mapped_column(str_enum(RegistrationStatus, "registration_status"))
    # The status to go back to when a registration on hold is resumed.
    status_before_hold: Mapped[RegistrationStatus | None] = mapped_column(
        str_enum(RegistrationStatus, "status_before_hold")  # its own name: check constraints are named by it
    )
    channel: Mapped[InvitationChannel] = mapped_column(str_enum(InvitationChannel, "invitation_channel"))
    form_values: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    # The returned form as uploaded, in document storage (None when the clerk typed it in).
    form_sha256: Mapped[str | None] = mapped_column(String(64))
    form_received_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # The mobile number confirmed with the returned form: access codes go there and nowhere else.
    verified_mobile: Mapped[str | None] = mapped_column(String(20))
    identity_document: Mapped[IdentityDocument | None] = mapped_column(
        str_enum(IdentityDocument, "identity_document")
    )
    identity_checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    identity_checked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Set when the back office could not do something for the clerk (Webex down for good, say).
    flag: Mapped[str | None] = mapped_column(Text)
    status_changed_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    counsel: Mapped[Counsel] = relationship(lazy="joined")
    office: Mapped[Office] = relationship(lazy="joined")
    identity_checked_by: Mapped[StaffUser | None] = relationship()
    meetings: Mapped[list["VerificationMeeting"]] = relationship(
        back_populates="registration", order_by="VerificationMeeting.id"
    )
    invitation_codes: Mapped[list["InvitationCode"]] = relationship(
        back_populates="registration", order_by="InvitationCode.id"
    )

    @property
    def current_meeting(self) -> "VerificationMeeting | None":
        live = [meeting for meeting in self.meetings if meeting.is_live]
        return live[-1] if live else None

    @property
    def current_code(self) -> "InvitationCode | None":
        usable = [
            code for code in self.invitation_codes if code.revoked_at is None and code.redeemed_at is None
        ]
        return usable[-1] if usable else None

    def __str__(self) -> str:
        return f"{self.counsel} ({self.status.label})"


class MeetingStatus(enum.StrEnum):
    SCHEDULING = "scheduling"  # waiting for Webex (a job is retrying)
    SCHEDULED = "scheduled"
    FAILED = "failed"  # Webex did not answer after repeated tries: the clerk may enter a link by hand
    CANCELLED = "cancelled"
    HELD = "held"
    MISSED = "missed"

    @property
    def label(self) -> str:
        return str(MEETING_LABELS[self])


MEETING_LABELS = {
    MeetingStatus.SCHEDULING: _l("Being scheduled in Webex"),
    MeetingStatus.SCHEDULED: _l("Scheduled"),
    MeetingStatus.FAILED: _l("Webex could not be reached"),
    MeetingStatus.CANCELLED: _l("Cancelled"),
    MeetingStatus.HELD: _l("Held"),
    MeetingStatus.MISSED: _l("Missed"),
}


class VerificationMeeting(db.Model):
    """The Webex meeting where a clerk confirms counsel's identity."""

    __tablename__ = "verification_meetings"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime())
    minutes: Mapped[int] = mapped_column(default=30)
    status: Mapped[MeetingStatus] = mapped_column(str_enum(MeetingStatus, "meeting_status"))
    webex_meeting_id: Mapped[str | None] = mapped_column(String(100))
    web_link: Mapped[str | None] = mapped_column(String(500))
    meeting_number: Mapped[str | None] = mapped_column(String(40))
    entered_by_hand: Mapped[bool] = mapped_column(default=False)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    # A change asked of Webex and not yet done: "create", "update" or "delete".
    pending_change: Mapped[str | None] = mapped_column(String(10))
    pending_since: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminder_queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    scheduled_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    registration: Mapped[Registration] = relationship(back_populates="meetings")
    scheduled_by: Mapped[StaffUser | None] = relationship()

    @property
    def is_live(self) -> bool:
        return self.status in (MeetingStatus.SCHEDULING, MeetingStatus.SCHEDULED, MeetingStatus.FAILED)


class InvitationCode(db.Model):
    """A code counsel enters in the portal. Only a keyed hash is kept; the code is shown once."""

    __tablename__ = "invitation_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id"), index=True)
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    issued_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    expired_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    reminder_queued_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    is_demo: Mapped[bool] = mapped_column(default=False)

    registration: Mapped[Registration] = relationship(back_populates="invitation_codes")
    issued_by: Mapped[StaffUser | None] = relationship()


class AccessChallenge(db.Model):
    """The SMS access code step after an invitation code is redeemed: single use, 24 hours, few attempts."""

    __tablename__ = "access_challenges"

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    invitation_code_id: Mapped[int] = mapped_column(ForeignKey("invitation_codes.id"), index=True)
    portal_client_id: Mapped[int] = mapped_column(ForeignKey("portal_clients.id"))
    code_hash: Mapped[str] = mapped_column(String(64))
    sign_in_provider: Mapped[str] = mapped_column(String(20))
    sign_in_subject: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime())
    attempts: Mapped[int] = mapped_column(default=0)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    invitation_code: Mapped[InvitationCode] = relationship()


class CodeAttempt(db.Model):
    """A failed attempt at a code through the portal API, counted to limit guessing per client and per person."""

    __tablename__ = "code_attempts"
    __table_args__ = (Index("ix_code_attempts_client_time", "portal_client_id", "attempted_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    portal_client_id: Mapped[int] = mapped_column(ForeignKey("portal_clients.id"))
    # A hash of the sign-in subject (or of the challenge), never the subject itself.
    subject_key: Mapped[str] = mapped_column(String(64), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # invitation_code | access_code
    attempted_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
