"""Counsel: the lawyers, Quebec notaries, consultants and unpaid counsel who act on cases."""

import enum
from datetime import datetime

from flask_babel import lazy_gettext as _l
from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from backoffice.extensions import db
from backoffice.models.types import UTCDateTime, str_enum, utcnow


class CounselKind(enum.StrEnum):
    LAWYER = "lawyer"
    QUEBEC_NOTARY = "quebec_notary"
    LICENSED_CONSULTANT = "licensed_consultant"
    UNPAID = "unpaid"

    @property
    def label(self) -> str:
        return str(COUNSEL_KIND_LABELS[self])


COUNSEL_KIND_LABELS = {
    CounselKind.LAWYER: _l("Lawyer"),
    CounselKind.QUEBEC_NOTARY: _l("Quebec notary"),
    CounselKind.LICENSED_CONSULTANT: _l("Licensed immigration consultant"),
    CounselKind.UNPAID: _l("Unpaid counsel"),
}


class Language(enum.StrEnum):
    ENGLISH = "en"
    FRENCH = "fr"

    @property
    def label(self) -> str:
        return str(_l("English") if self is Language.ENGLISH else _l("French"))


class Counsel(db.Model):
    __tablename__ = "counsel"

    id: Mapped[int] = mapped_column(primary_key=True)
    # The identifier given by the Board's case management system, which owns counsel records.
    external_id: Mapped[str] = mapped_column(String(40), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[CounselKind] = mapped_column(str_enum(CounselKind, "counsel_kind"))
    regulator: Mapped[str | None] = mapped_column(String(100))
    membership_number: Mapped[str | None] = mapped_column(String(40))
    email: Mapped[str | None] = mapped_column(String(254))
    mobile: Mapped[str | None] = mapped_column(String(20))
    postal_address: Mapped[str | None] = mapped_column(Text)
    fax: Mapped[str | None] = mapped_column(String(20))
    preferred_language: Mapped[Language | None] = mapped_column(str_enum(Language, "language"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow, onupdate=utcnow)

    cases_of_record: Mapped[list["CounselOfRecord"]] = relationship(  # noqa: F821
        back_populates="counsel", cascade="all, delete-orphan"
    )

    def __str__(self) -> str:
        return self.full_name
