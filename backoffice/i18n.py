"""Choosing the language of a page: the signed-in user's choice, else the browser's."""

from flask import current_app, has_request_context, request, session
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
