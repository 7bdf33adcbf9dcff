"""Submissions from the portal: their attachments, the automated check results, and the rules on deadlines."""

import enum
from datetime import date, datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import JSON, BigInteger, ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.extensions import db
from backoffice.models.case import Case
from backoffice.models.counsel import Counsel
from backoffice.models.portal import PortalAccount, new_public_id
from backoffice.models.reference import Division, Office
from backoffice.models.staff import StaffUser
from backoffice.models.types import UTCDateTime, str_enum, utcnow


class SubmissionStatus(enum.StrEnum):
    RECEIVED = "received"
    SCREENING = "screening"
    WITH_REGISTRY = "with_registry"
    WITH_DIVISION = "with_division"
    ACCEPTED = "accepted"
    REJECTED = "rejected"

    @property
    def label(self) -> str:
        return str(_STATUS_LABELS[self])


_STATUS_LABELS = {
    SubmissionStatus.RECEIVED: _l("Received"),
    SubmissionStatus.SCREENING: _l("Automated checks running"),
    SubmissionStatus.WITH_REGISTRY: _l("With registry"),
    SubmissionStatus.WITH_DIVISION: _l("With the division"),
    SubmissionStatus.ACCEPTED: _l("Accepted"),
    SubmissionStatus.REJECTED: _l("Rejected"),
}


class DocumentKind(enum.StrEnum):
    DIVISION_FORM = "division_form"
    APPLICATION = "application"
    DISCLOSURE = "disclosure"
    WRITTEN_SUBMISSION = "written_submission"

    @property
    def label(self) -> str:
        return str(_KIND_LABELS[self])


_KIND_LABELS = {
    DocumentKind.DIVISION_FORM: _l("Division form"),
    DocumentKind.APPLICATION: _l("Application"),
    DocumentKind.DISCLOSURE: _l("Disclosure"),
    DocumentKind.WRITTEN_SUBMISSION: _l("Written submissions"),
}


class Timeliness(enum.StrEnum):
    ON_TIME = "on_time"
    LATE = "late"
    NO_DEADLINE = "no_deadline"

    @property
    def label(self) -> str:
        return str(_TIMELINESS_LABELS[self])


_TIMELINESS_LABELS = {
    Timeliness.ON_TIME: _l("On time"),
    Timeliness.LATE: _l("Late"),
    Timeliness.NO_DEADLINE: _l("No deadline"),
}


class CheckOutcome(enum.StrEnum):
    PASS = "pass"  # noqa: S105 - an outcome, not a password
    WARNING = "warning"
    FAILURE = "failure"

    @property
    def label(self) -> str:
        return str(_OUTCOME_LABELS[self])

    @property
    def severity(self) -> int:
        return list(CheckOutcome).index(self)


_OUTCOME_LABELS = {
    CheckOutcome.PASS: _l("Passed"),
    CheckOutcome.WARNING: _l("Warning"),
    CheckOutcome.FAILURE: _l("Failed"),
}


class DocumentRule(db.Model):
    """A division's rule for a kind of document: its deadline before the hearing and whether it must be served.

    Rules are data: a new one is a row, with its citation, not code.
    """

    __tablename__ = "document_rules"
    __table_args__ = (UniqueConstraint("division_id", "document_kind", "purpose"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    division_id: Mapped[int] = mapped_column(ForeignKey("divisions.id"))
    document_kind: Mapped[DocumentKind] = mapped_column(str_enum(DocumentKind, "document_kind"))
    # "" for the general rule; "reply" or "witness_information" for the narrower ones.
    purpose: Mapped[str] = mapped_column(String(40), default="")
    days_before_hearing: Mapped[int | None]
    proof_of_service_required: Mapped[bool] = mapped_column(default=False)
    citation_en: Mapped[str] = mapped_column(String(200))
    citation_fr: Mapped[str] = mapped_column(String(200))

    division: Mapped[Division] = relationship(lazy="joined")

    def __str__(self) -> str:
        return self.code


class Submission(db.Model):
    __tablename__ = "submissions"
    __table_args__ = (
        # Holds what the supervisors' dashboard counts of waiting submissions, so it reads no table row.
        Index(
            "ix_submissions_status_office",
            "status",
            "office_id",
            postgresql_include=["division_id", "claimed_by_id", "held_at", "received_at"],
        ),
        Index("ix_submissions_status_received", "status", "received_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id"), index=True)
    # The handling office and division when the submission came in.
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    division_id: Mapped[int] = mapped_column(ForeignKey("divisions.id"), index=True)
    counsel_id: Mapped[int] = mapped_column(ForeignKey("counsel.id"), index=True)
    portal_account_id: Mapped[int] = mapped_column(ForeignKey("portal_accounts.id"))
    portal_client_id: Mapped[int] = mapped_column(ForeignKey("portal_clients.id"))
    document_kind: Mapped[DocumentKind] = mapped_column(str_enum(DocumentKind, "document_kind"))
    purpose: Mapped[str] = mapped_column(String(40), default="")
    subject: Mapped[str] = mapped_column(String(500))
    proof_of_service: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    resubmission_of_id: Mapped[int | None] = mapped_column(ForeignKey("submissions.id"), index=True)
    status: Mapped[SubmissionStatus] = mapped_column(
        str_enum(SubmissionStatus, "submission_status"), default=SubmissionStatus.RECEIVED
    )
    # When the last byte was stored. `received_at_original` never changes; `received_at` only through a
    # supervisor's correction, which keeps a row in received_time_corrections.
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    received_at_original: Mapped[datetime] = mapped_column(UTCDateTime())
    hearing_on: Mapped[date | None]
    deadline_rule_id: Mapped[int | None] = mapped_column(ForeignKey("document_rules.id"))
    deadline_on: Mapped[date | None]
    timeliness: Mapped[Timeliness] = mapped_column(str_enum(Timeliness, "timeliness"))
    screening_outcome: Mapped[CheckOutcome | None] = mapped_column(str_enum(CheckOutcome, "check_outcome"))
    screening_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # Who holds it in a queue (a claim), and since when it was last touched; an idle claim is released.
    claimed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    # On hold: it stays in its queue, out of "Next", with an internal note saying why (submission_notes).
    held_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    held_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"))
    # The counts of failed checks and warnings, kept when screening ends, so queues filter on them cheaply.
    failed_checks: Mapped[int] = mapped_column(default=0)
    warning_checks: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    case: Mapped[Case] = relationship(lazy="joined")
    office: Mapped[Office] = relationship(lazy="joined")
    division: Mapped[Division] = relationship(lazy="joined")
    counsel: Mapped[Counsel] = relationship(lazy="joined")
    portal_account: Mapped[PortalAccount] = relationship()
    deadline_rule: Mapped[DocumentRule | None] = relationship()
    resubmission_of: Mapped["Submission | None"] = relationship(remote_side=[id])
    attachments: Mapped[list["Attachment"]] = relationship(
        back_populates="submission", order_by="Attachment.position", cascade="all, delete-orphan"
    )
    check_results: Mapped[list["CheckResultRecord"]] = relationship(
        back_populates="submission", order_by="CheckResultRecord.id", cascade="all, delete-orphan"
    )
    corrections: Mapped[list["ReceivedTimeCorrection"]] = relationship(
        back_populates="submission", order_by="ReceivedTimeCorrection.id"
    )
    claimed_by: Mapped[StaffUser | None] = relationship(foreign_keys=[claimed_by_id])
    held_by: Mapped[StaffUser | None] = relationship(foreign_keys=[held_by_id])
    decisions: Mapped[list["Decision"]] = relationship(order_by="Decision.id")
    notes: Mapped[list["SubmissionNote"]] = relationship(order_by="SubmissionNote.id")

    def __str__(self) -> str:
        return f"{self.case.file_number} · {self.subject}"


class Attachment(db.Model):
    """One PDF of a submission; its bytes live in content-addressed storage under its SHA-256."""

    __tablename__ = "attachments"
    __table_args__ = (UniqueConstraint("submission_id", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    public_id: Mapped[str] = mapped_column(String(36), unique=True, default=new_public_id)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    position: Mapped[int]
    filename: Mapped[str] = mapped_column(String(255))
    size: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64), index=True)
    page_count: Mapped[int | None]
    screening_outcome: Mapped[CheckOutcome | None] = mapped_column(str_enum(CheckOutcome, "check_outcome"))
    screened_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    screening_seconds: Mapped[float | None]

    submission: Mapped[Submission] = relationship(back_populates="attachments")

    def __str__(self) -> str:
        return self.filename


class CheckResultRecord(db.Model):
    """The stored result of one automated check, on one attachment or on the submission as a whole."""

    __tablename__ = "check_results"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    attachment_id: Mapped[int | None] = mapped_column(
        ForeignKey("attachments.id", ondelete="CASCADE"), index=True
    )
    code: Mapped[str] = mapped_column(String(40))
    outcome: Mapped[CheckOutcome] = mapped_column(str_enum(CheckOutcome, "check_outcome"))
    message_en: Mapped[str] = mapped_column(Text)
    message_fr: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    for_counsel: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="check_results")
    attachment: Mapped[Attachment | None] = relationship()


class ReceivedTimeCorrection(db.Model):
    """A supervisor's correction of a received time: the time before, the time after and why."""

    __tablename__ = "received_time_corrections"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id"), index=True)
    previous_received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    corrected_received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    reason: Mapped[str] = mapped_column(Text)
    corrected_by_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    submission: Mapped[Submission] = relationship(back_populates="corrections")
    corrected_by: Mapped[StaffUser] = relationship(lazy="joined")


class ReasonUse(enum.StrEnum):
    REGISTRY = "registry"
    DIVISION = "division"

    @property
    def label(self) -> str:
        return str(_l("Registry") if self is ReasonUse.REGISTRY else _l("Division"))


class Reason(db.Model):
    """A coded reason for a decision, kept by administrators: the text counsel reads and the rule it cites."""

    __tablename__ = "reasons"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    used_by: Mapped[ReasonUse] = mapped_column(str_enum(ReasonUse, "reason_use"))
    text_en: Mapped[str] = mapped_column(Text)
    text_fr: Mapped[str] = mapped_column(Text)
    rule_en: Mapped[str | None] = mapped_column(String(200))
    rule_fr: Mapped[str | None] = mapped_column(String(200))
    active: Mapped[bool] = mapped_column(default=True)

    def __str__(self) -> str:
        return self.code


decision_reasons = db.Table(
    "decision_reasons",
    db.Column("decision_id", ForeignKey("decisions.id", ondelete="CASCADE"), primary_key=True),
    db.Column("reason_id", ForeignKey("reasons.id"), primary_key=True),
)


class Decision(db.Model):
    """Registry's or the division's decision on a submission, with its reasons and a note to counsel."""

    __tablename__ = "decisions"
    # Both hold what the median time to decision needs, so recent decisions are read without the table.
    __table_args__ = (
        Index(
            "ix_decisions_office_decided",
            "office_id",
            "decided_at",
            postgresql_include=["made_by", "division_id", "received_at"],
        ),
        Index(
            "ix_decisions_decided_at",
            "decided_at",
            postgresql_include=["made_by", "office_id", "division_id", "received_at"],
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    made_by: Mapped[ReasonUse] = mapped_column(str_enum(ReasonUse, "decision_maker"))
    accepted: Mapped[bool]
    note: Mapped[str | None] = mapped_column(Text)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    decided_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The submission's office, division and received time when it was decided, so that supervisors'
    # figures over recent decisions read one index range instead of joining every submission.
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"))
    division_id: Mapped[int] = mapped_column(ForeignKey("divisions.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())

    staff: Mapped[StaffUser] = relationship(lazy="joined")
    reasons: Mapped[list[Reason]] = relationship(
        secondary=decision_reasons, order_by="Reason.code", lazy="selectin"
    )
    # Set when the division decided file by file; the submission is accepted when any file is.
    attachment_decisions: Mapped[list["AttachmentDecision"]] = relationship(
        back_populates="decision", order_by="AttachmentDecision.attachment_id", lazy="selectin"
    )

    @property
    def partial(self) -> bool:
        """Some files accepted and some rejected."""
        outcomes = {item.accepted for item in self.attachment_decisions}
        return outcomes == {True, False}


attachment_decision_reasons = db.Table(
    "attachment_decision_reasons",
    db.Column(
        "attachment_decision_id", ForeignKey("attachment_decisions.id", ondelete="CASCADE"), primary_key=True
    ),
    db.Column("reason_id", ForeignKey("reasons.id"), primary_key=True),
)


class AttachmentDecision(db.Model):
    """The division's decision on one file of a submission, with the reasons when it is rejected."""

    __tablename__ = "attachment_decisions"
    __table_args__ = (UniqueConstraint("decision_id", "attachment_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    decision_id: Mapped[int] = mapped_column(ForeignKey("decisions.id", ondelete="CASCADE"), index=True)
    attachment_id: Mapped[int] = mapped_column(ForeignKey("attachments.id", ondelete="CASCADE"), index=True)
    accepted: Mapped[bool]

    decision: Mapped[Decision] = relationship(back_populates="attachment_decisions")
    attachment: Mapped[Attachment] = relationship(lazy="joined")
    # Joined, so that the statement loading a decision's files brings their reasons (no statement more
    # when the division decided file by file).
    reasons: Mapped[list[Reason]] = relationship(
        secondary=attachment_decision_reasons, order_by="Reason.code", lazy="joined"
    )


class SubmissionNote(db.Model):
    """An internal note on a submission (a hold's reason, or a remark for colleagues); counsel never sees it."""

    __tablename__ = "submission_notes"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[int] = mapped_column(ForeignKey("submissions.id", ondelete="CASCADE"), index=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id"))
    body: Mapped[str] = mapped_column(Text)
    # True for the note that put the submission on hold.
    is_hold: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)

    staff: Mapped[StaffUser] = relationship(lazy="joined")


class SavedFilter(db.Model):
    """A staff member's named filter of a work queue, kept as the query string of the queue's page."""

    __tablename__ = "saved_filters"
    __table_args__ = (UniqueConstraint("staff_id", "queue", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    staff_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    queue: Mapped[str] = mapped_column(String(30))
    name: Mapped[str] = mapped_column(String(80))
    query: Mapped[str] = mapped_column(String(1000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ServiceTarget(db.Model):
    """How long an item may wait in a queue before it counts as over target on supervisors' dashboards."""

    __tablename__ = "service_targets"

    id: Mapped[int] = mapped_column(primary_key=True)
    # A submission status ("with_registry", "with_division") or "registration".
    queue: Mapped[str] = mapped_column(String(30), unique=True)
    days: Mapped[int]

    def __str__(self) -> str:
        return f"{self.queue}: {self.days}"
