"""Small display helpers for admin lists: enum labels, dates, instants, an instant filter, and CSV cells."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_datetime as babel_format_datetime
from flask import has_request_context
from flask_admin.contrib.sqla.filters import DateBetweenFilter
from flask_babel import format_datetime, get_locale
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.models import Division, Office

# A cell starting with one of these is a formula to a spreadsheet: it is exported with a quote before it.
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_safe(text: str) -> str:
    """Text as a CSV cell that a spreadsheet shows and never runs: every CSV the back office writes uses it."""
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_cell(value: Any) -> Any:
    """Any exported value as a safe cell; a number stays a number, since it cannot be a formula."""
    if isinstance(value, (int, float, Decimal)):
        return value
    return csv_safe(str(value))


def label(view, context, model, name: str) -> str:
    value = getattr(model, name)
    return value.label if value is not None else ""


def instant(view, context, model, name: str) -> str:
    value = getattr(model, name)
    return format_datetime(value, "yyyy-MM-dd HH:mm zzz") if value else ""


def in_zone(value: datetime | None, zone: ZoneInfo | str) -> str:
    """An instant as read in a given time zone (the office's local time, or Eastern time)."""
    if value is None:
        return ""
    zone = ZoneInfo(zone) if isinstance(zone, str) else zone
    return babel_format_datetime(value, "yyyy-MM-dd HH:mm zzz", tzinfo=zone, locale=get_locale() or "en")


def related_name(view, context, model, name: str) -> str:
    value = getattr(model, name)
    return value.name if value is not None else ""


def office_choices() -> list[tuple[int, str]]:
    if not has_request_context():  # filter options are drawn per request, never at start-up
        return []
    return [(office.id, office.name) for office in db.session.scalars(select(Office).order_by(Office.code))]


def division_choices() -> list[tuple[int, str]]:
    if not has_request_context():
        return []
    return [(d.id, d.local_code) for d in db.session.scalars(select(Division).order_by(Division.id))]


def enum_choices(enum_class) -> Any:
    """Choices for a select field, labelled in the current language when the form is drawn."""
    return lambda: [(member.value, member.label) for member in enum_class]


class InstantDateBetweenFilter(DateBetweenFilter):
    """A date range on an instant column: whole days in Eastern time, the My Case timestamp's zone."""

    def apply(self, query, value, alias=None):
        start, end = value
        zone = ZoneInfo("America/Toronto")
        first = datetime.combine(start, time.min, zone)
        after_last = datetime.combine(end + timedelta(days=1), time.min, zone)
        column = self.get_column(alias)
        return query.filter(column >= first, column < after_last)
