"""Small display helpers for admin lists: enum labels, dates, instants, an instant filter, and CSV cells."""

from datetime import datetime, time, timedelta
from decimal import Decimal
from enum import Enum
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from babel import Locale
from babel.dates import format_datetime as babel_format_datetime
from babel.dates import get_timezone_name
from flask import has_request_context
from flask_admin.contrib.sqla.filters import DateBetweenFilter
from flask_admin.model import typefmt
from flask_babel import get_locale, get_timezone
from flask_babel import gettext as _
from markupsafe import Markup
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
    return in_zone(getattr(model, name), get_timezone())


def in_zone(
    value: datetime | None, zone: ZoneInfo | str | None = None, pattern: str = "yyyy-MM-dd HH:mm"
) -> str:
    """An instant as read in a given time zone (the office's local time; by default the back office's, Eastern
    time), with the zone's name as Canadians say it ("Eastern Time", "heure de l'Est"), not an offset such as
    -0500."""
    if value is None:
        return ""
    zone = ZoneInfo(zone) if isinstance(zone, str) else zone or get_timezone()
    canadian = Locale(get_locale().language if get_locale() else "en", "CA")
    return babel_format_datetime(value, f"{pattern} vvvv", tzinfo=zone, locale=canadian).replace("’", "'")


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


class DayRangeFilter(DateBetweenFilter):
    """A range of days, its two dates written by the date picker with the reader's word between them ("to",
    "au"): Flask-Admin reads only " to "."""

    def clean(self, value: str):
        return super().clean(_written_in_english(value))

    def validate(self, value: str) -> bool:
        return super().validate(_written_in_english(value))


def _written_in_english(value: str) -> str:
    return value.replace(" au ", " to ") if isinstance(value, str) else value


class InstantDateBetweenFilter(DayRangeFilter):
    """A date range on an instant column: whole days in Eastern time, the My Case timestamp's zone."""

    def apply(self, query, value, alias=None):
        start, end = value
        zone = ZoneInfo("America/Toronto")
        first = datetime.combine(start, time.min, zone)
        after_last = datetime.combine(end + timedelta(days=1), time.min, zone)
        column = self.get_column(alias)
        return query.filter(column >= first, column < after_last)


def yes_or_no(view, value: bool, name: str) -> Markup:
    """A yes/no in the list: Flask-Admin's icon, titled and read out in words (its own says "is_appeal: true")."""
    words = _("Yes") if value else _("No")
    icon = "fa-check-circle" if value else "fa-minus-circle"
    return Markup('<span class="fa {}" role="img" title="{}" aria-label="{}"></span>').format(
        icon, words, words
    )


def yes_or_no_in_words(view, value: bool, name: str) -> str:
    return _("Yes") if value else _("No")


def enum_in_words(view, value: Enum, name: str) -> str:
    """An enum's label in the reader's language (Flask-Admin shows its code name)."""
    return str(getattr(value, "label", value.name))


# The type formatters of every staff screen: Flask-Admin's, with words where it shows codes.
LIST_TYPE_FORMATTERS = {**typefmt.BASE_FORMATTERS, bool: yes_or_no, Enum: enum_in_words}
DETAIL_TYPE_FORMATTERS = {**typefmt.DETAIL_FORMATTERS, bool: yes_or_no_in_words, Enum: enum_in_words}


def written_in(language: str):
    """A column written in one language whatever the reader's (an English name on a French page), marked so
    that screen readers say it in its language (WCAG 3.1.2)."""

    def formatter(view, context, model, name: str) -> Markup | str:
        value = getattr(model, name)
        return Markup('<span lang="{}">{}</span>').format(language, value) if value else ""

    return formatter


def zone_name(zone: str | None) -> str:
    """A time zone as Canadians name it ("Pacific Time", "heure du Pacifique"), not its code."""
    if not zone:
        return ""
    try:
        known = ZoneInfo(zone)
    except (ValueError, ZoneInfoNotFoundError):  # not a zone (an office's row as typed): shown as it is
        return zone
    canadian = Locale(get_locale().language if get_locale() else "en", "CA")
    return get_timezone_name(known, width="long", uncommon=False, locale=canadian).replace("’", "'")


def zone_column(view, context, model, name: str) -> str:
    return zone_name(getattr(model, name))
