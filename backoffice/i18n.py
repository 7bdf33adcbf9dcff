"""The reader's language: chosen for each page (the signed-in user's choice, else the browser's), and the one
way to ask for it (`current_language`) or to pick between an English and a French text (`localised`), in Python
and in templates (both are Jinja globals)."""

from typing import TypeVar

from flask import current_app, has_request_context, request, session
from flask_babel import get_locale
from flask_login import current_user

LANGUAGE_COOKIE = "language"


def select_locale() -> str:
    languages = current_app.config["LANGUAGES"]
    if not has_request_context():
        return current_app.config["BABEL_DEFAULT_LOCALE"]
    if current_user and current_user.is_authenticated:
        return current_user.preferred_language
    chosen = session.get(LANGUAGE_COOKIE) or request.cookies.get(LANGUAGE_COOKIE)
    if chosen in languages:
        return chosen
    return request.accept_languages.best_match(languages) or current_app.config["BABEL_DEFAULT_LOCALE"]


def current_language() -> str:
    """The reader's language: "fr" or "en" (English outside a request, as the default locale)."""
    locale = get_locale()
    return "fr" if locale is not None and locale.language == "fr" else "en"


Text = TypeVar("Text")


def localised(english: Text, french: Text) -> Text:
    """The French one for a French reader, else the English one (texts kept in both languages, e.g. reasons)."""
    return french if current_language() == "fr" else english
