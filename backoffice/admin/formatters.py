"""Small display helpers for admin lists: enum labels, dates, instants, and an instant filter."""

from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from flask_admin.contrib.sqla.filters import DateBetweenFilter
from flask_babel import format_datetime


def label(view, context, model, name: str) -> str:
    value = getattr(model, name)
    return value.label if value is not None else ""


def instant(view, context, model, name: str) -> str:
    value = getattr(model, name)
    return format_datetime(value, "yyyy-MM-dd HH:mm zzz") if value else ""


def related_name(view, context, model, name: str) -> str:
    value = getattr(model, name)
    return value.name if value is not None else ""


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
