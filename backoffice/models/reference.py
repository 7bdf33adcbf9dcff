"""Reference data: regional offices and divisions, loaded by the first migration."""

from zoneinfo import ZoneInfo

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from backoffice.extensions import db
from backoffice.i18n import localised


class Office(db.Model):
    __tablename__ = "offices"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(20), unique=True)
    name_en: Mapped[str] = mapped_column(String(100))
    name_fr: Mapped[str] = mapped_column(String(100))
    city: Mapped[str] = mapped_column(String(100))
    time_zone: Mapped[str] = mapped_column(String(64))
    mailbox: Mapped[str] = mapped_column(String(254))

    @property
    def name(self) -> str:
        return localised(self.name_en, self.name_fr)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)

    def __str__(self) -> str:
        return self.name


class Division(db.Model):
    __tablename__ = "divisions"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    code_fr: Mapped[str] = mapped_column(String(10), unique=True)
    name_en: Mapped[str] = mapped_column(String(100))
    name_fr: Mapped[str] = mapped_column(String(100))
    is_appeal: Mapped[bool] = mapped_column(default=False)

    @property
    def name(self) -> str:
        return localised(self.name_en, self.name_fr)

    @property
    def local_code(self) -> str:
        return localised(self.code, self.code_fr)

    def __str__(self) -> str:
        return f"{self.local_code} – {self.name}"
