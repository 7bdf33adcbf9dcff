"""Helpers for text that must be kept or sent in both official languages."""

from typing import Any

from flask_babel import force_locale


def in_both_languages(text: Any) -> dict[str, str]:
    """Render a lazy string in English and in French, e.g. to store a message for any reader."""
    with force_locale("en"):
        english = str(text)
    with force_locale("fr"):
        french = str(text)
    return {"en": english, "fr": french}
