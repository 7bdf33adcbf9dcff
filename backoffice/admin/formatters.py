"""Small display helpers for admin lists: enum labels, dates, instants in the viewer's time."""

from typing import Any

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
