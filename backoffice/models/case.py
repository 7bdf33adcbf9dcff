"""Cases (files) before the Board and their counsel of record, owned by the case management system."""

import enum
from datetime import date, datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.extensions import db
from backoffice.models.counsel import Counsel
from backoffice.models.reference import Division, Office
from backoffice.models.types import UTCDateTime, str_enum, utcnow


class CaseStatus(enum.StrEnum):
    ACTIVE = "active"
    CLOSED = "closed"

    @property
    def label(self) -> str:
        return str(_l("Active") if self is CaseStatus.ACTIVE else _l("Closed"))


class Case(db.Model):
    __tablename__ = "cases"

    id: Mapped[int] = mapped_column(primary_key=True)
    file_number: Mapped[str] = mapped_column(String(20), unique=True)
    division_id: Mapped[int] = mapped_column(ForeignKey("divisions.id"), index=True)
    office_id: Mapped[int] = mapped_column(ForeignKey("offices.id"), index=True)
    status: Mapped[CaseStatus] = mapped_column(str_enum(CaseStatus, "case_status"), default=CaseStatus.ACTIVE)
    uci: Mapped[str | None] = mapped_column(String(12))
    appeal_filed_on: Mapped[date | None]
    next_hearing_on: Mapped[date | None]
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    division: Mapped[Division] = relationship(lazy="joined")
    office: Mapped[Office] = relationship(lazy="joined")
    counsel_of_record: Mapped[list["CounselOfRecord"]] = relationship(
        back_populates="case", cascade="all, delete-orphan", order_by="CounselOfRecord.id"
    )

    @property
    def is_active(self) -> bool:
        return self.status is CaseStatus.ACTIVE

    def __str__(self) -> str:
        return self.file_number


class CounselOfRecord(db.Model):
    """Counsel acting on a case; `ended_on` is set when the case management system removes them."""

    __tablename__ = "counsel_of_record"
    __table_args__ = (UniqueConstraint("case_id", "counsel_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("cases.id", ondelete="CASCADE"), index=True)
    counsel_id: Mapped[int] = mapped_column(ForeignKey("counsel.id", ondelete="CASCADE"), index=True)
    started_on: Mapped[date | None]
    ended_on: Mapped[date | None]

    case: Mapped[Case] = relationship(back_populates="counsel_of_record")
    counsel: Mapped[Counsel] = relationship(back_populates="cases_of_record", lazy="joined")

    @property
    def is_current(self) -> bool:
        return self.ended_on is None

    def __str__(self) -> str:
        return f"{self.counsel} — {self.case}"
