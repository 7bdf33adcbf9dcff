"""The reader's language: chosen for each page (the signed-in user's choice, else the browser's), and the one
way to ask for it (`current_language`) or to pick between an English and a French text (`localised`), in Python
and in templates (both are Jinja globals)."""

from typing import Any, TypeVar

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


def read_flask_admin_words_from_our_catalogue() -> None:
    """Flask-Admin says its own words (buttons, filters, pagination, flashes) through its "admin" domain, from
    its French catalogue, which misses some and words others poorly ("Editer", "A été enregistrée avec
    succès."). `Admin(translations_path=...)` cannot correct them: Flask-Babel merges that catalogue first and
    Flask-Admin's own over it, so Flask-Admin's wins. Its domain therefore reads our catalogue over its own:
    the French of a Flask-Admin word sits in our messages.po beside every other word (listed for extraction in
    `FLASK_ADMIN_WORDS`), and ours wins. No copy of its catalogue, and its words we do not use stay its own."""
    from babel import support
    from flask_admin.babel import domain
    from flask_babel import get_translations

    if getattr(domain, "reads_our_catalogue", False):
        return
    its_own = domain.get_translations
    merged: dict[str, support.Translations] = {}

    def ours_over_its_own() -> support.NullTranslations:
        theirs = its_own()
        if not isinstance(theirs, support.Translations):  # outside a request: the English as written
            return theirs
        key = str(get_locale())
        if key not in merged:
            both = support.Translations()
            both.merge(theirs)
            both.merge(get_translations())
            both.plural = getattr(get_translations(), "plural", both.plural)
            merged[key] = both
        return merged[key]

    domain.get_translations = ours_over_its_own
    domain.reads_our_catalogue = True


def date_picker_words() -> dict[str, Any]:
    """What Flask-Admin's date picker says, in the reader's language (static/date-picker-language.js)."""
    from babel.dates import get_day_names, get_month_names
    from flask_babel import gettext, pgettext

    locale = get_locale() or "en"
    days = get_day_names("short", locale=locale)
    months = get_month_names("abbreviated", locale=locale)
    return {
        "separator": pgettext("between two dates", " to "),
        "locale": {
            "applyLabel": gettext("Apply"),
            "cancelLabel": gettext("Cancel"),
            "fromLabel": pgettext("first date of a range", "From"),
            "toLabel": pgettext("last date of a range", "To"),
            "daysOfWeek": [days[(index + 6) % 7] for index in range(7)],  # Sunday first, as Canadians read
            "monthNames": [months[number] for number in range(1, 13)],
            "firstDay": 0,
        },
    }
