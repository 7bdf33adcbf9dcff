"""English and French throughout: every string in the code has a French translation."""

import ast
import re
import string
import subprocess
import sys
from collections.abc import Iterator

import pytest
from babel.messages.pofile import read_po

from tests.helpers import PROJECT_ROOT, csrf_token_from

CATALOG = PROJECT_ROOT / "backoffice/translations/fr/LC_MESSAGES/messages.po"


def extracted_messages(tmp_path) -> set[str]:
    template = tmp_path / "messages.pot"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "babel.messages.frontend",
            "-q",
            "extract",
            "-F",
            "babel.cfg",
            "-k",
            "_l",
            "-k",
            "lazy_gettext",
            "-o",
            str(template),
            ".",
        ],
        cwd=PROJECT_ROOT,
        check=True,
    )
    with template.open("rb") as handle:
        return {message.id for message in read_po(handle) if message.id}


def test_every_message_in_the_code_has_a_french_translation(tmp_path):
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    translated = {message.id for message in catalog if message.id and message.string and not message.fuzzy}
    missing = sorted(extracted_messages(tmp_path) - translated, key=str)
    assert not missing, "Missing French translations (run `make translations`):\n" + "\n".join(
        map(str, missing)
    )


def test_french_keeps_every_placeholder():
    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    placeholder = re.compile(r"%\(\w+\)[sd]")
    for message in catalog:
        # A plural message has its singular and plural forms, and a translation for each French form.
        english = message.id if isinstance(message.id, tuple) else (message.id,)
        french = message.string if isinstance(message.string, tuple) else (message.string,)
        if not (message.id and any(french)):  # not translated yet: the test above says so
            continue
        expected = sorted(set(placeholder.findall(" ".join(english))))
        for text in french:
            assert sorted(set(placeholder.findall(text))) == expected, message.id


@pytest.mark.parametrize("role", ["clerk", "admin"])
def test_a_user_switches_to_french_and_it_is_remembered(app, login_as, role):
    client = login_as(role, "western")
    home = client.get("/admin/case/").get_data(as_text=True)
    response = client.post(
        "/language", data={"language": "fr", "next": "/admin/case/", "csrf_token": csrf_token_from(home)}
    )
    assert response.status_code == 302 and response.location == "/admin/case/"
    page = client.get("/admin/case/").get_data(as_text=True)
    assert "Numéro de dossier" in page  # our own column label
    assert "Liste" in page  # Flask-Admin's own words, from its French catalog
    assert 'lang="fr"' in page or "English" in page
    from backoffice.extensions import db
    from backoffice.models import StaffUser

    db.session.expire_all()
    assert db.session.get(StaffUser, client.user.id).preferred_language == "fr"


def test_the_sign_in_page_follows_the_browser_then_the_choice(client):
    page = client.get("/sign-in", headers={"Accept-Language": "fr-CA,fr;q=0.9"}).get_data(as_text=True)
    assert "Se connecter" in page or "Connexion" in page
    token = csrf_token_from(client.get("/sign-in").get_data(as_text=True))
    client.post("/language", data={"language": "en", "next": "/sign-in", "csrf_token": token})
    page = client.get("/sign-in", headers={"Accept-Language": "fr-CA"}).get_data(as_text=True)
    assert "Staff sign-in" in page


def test_an_unknown_language_is_refused(client):
    token = csrf_token_from(client.get("/sign-in").get_data(as_text=True))
    response = client.post("/language", data={"language": "de", "csrf_token": token})
    assert response.status_code == 302
    assert "This language is not offered." in client.get("/sign-in").get_data(as_text=True)


def test_error_pages_speak_the_user_language(app, login_as):
    client = login_as("clerk", "western")
    from backoffice.extensions import db
    from backoffice.models import StaffUser

    db.session.get(StaffUser, client.user.id).preferred_language = "fr"
    db.session.commit()
    refused = client.get("/admin/staff/")
    assert refused.status_code == 403 and "Accès refusé" in refused.get_data(as_text=True)
    missing = client.get("/admin/case/details/?id=424242")
    assert missing.status_code == 404 and "Page introuvable" in missing.get_data(as_text=True)
    expired = client.post("/sign-out", data={"csrf_token": "forged"})
    assert expired.status_code == 400 and "Formulaire expiré" in expired.get_data(as_text=True)


# English and French written side by side in the code (check results, refusals, the registration form, message
# templates): found by their shape, and held to the catalogue's rules.

PAIRED_ARGUMENTS = {
    "CheckResult": (2, 3),
    "MissingItem": (1, 2),
    "_missing_item": (1, 2),
    "localised": (0, 1),
}
SAME_IN_BOTH = {"f'{count} page(s).'"}  # French and English alike


def _is_text(node: ast.expr) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


def _is_sentence(node: ast.expr) -> bool:
    parts = [node] if isinstance(node, ast.Constant) else node.values
    return any(isinstance(part, ast.Constant) and " " in part.value for part in parts)


def _written_pairs(tree: ast.AST) -> Iterator[tuple[ast.expr, ast.expr]]:
    """(English, French) literals: the arguments of the calls that take both, `x_en=`/`x_fr=` keywords, dicts
    of "en" and "fr" or of "x_en" and "x_fr", and tuples holding exactly two sentences."""
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = getattr(node.func, "id", getattr(node.func, "attr", None))
            if name in PAIRED_ARGUMENTS:
                english, french = PAIRED_ARGUMENTS[name]
                if len(node.args) > french and _is_text(node.args[english]) and _is_text(node.args[french]):
                    yield node.args[english], node.args[french]
            named = {keyword.arg: keyword.value for keyword in node.keywords if keyword.arg}
            yield from _paired_by_name(named, bare=False)
        elif isinstance(node, ast.Dict):
            keys = [key.value if isinstance(key, ast.Constant) else None for key in node.keys]
            named = {key: value for key, value in zip(keys, node.values, strict=True) if isinstance(key, str)}
            yield from _paired_by_name(named, bare=set(named) == {"en", "fr"})
        elif isinstance(node, ast.Tuple):
            sentences = [element for element in node.elts if _is_text(element) and _is_sentence(element)]
            if len(sentences) == 2:
                yield sentences[0], sentences[1]


def _paired_by_name(named: dict[str, ast.expr], bare: bool) -> Iterator[tuple[ast.expr, ast.expr]]:
    for name, value in named.items():
        french_name = "fr" if bare and name == "en" else f"{name[:-3]}_fr" if name.endswith("_en") else None
        if french_name in named and _is_text(value) and _is_text(named[french_name]):
            yield value, named[french_name]


def _placeholders(node: ast.expr) -> list[str]:
    """What is filled in: format fields of a plain string, expressions of an f-string with the language's own
    variable (english/french, en/fr) and quoted separators made alike."""
    if isinstance(node, ast.Constant):
        return sorted(
            field for _text, field, _spec, _conversion in string.Formatter().parse(node.value) if field
        )
    expressions = [ast.unparse(part.value) for part in node.values if isinstance(part, ast.FormattedValue)]
    language = re.compile(r"english|french|\b(en|fr)\b|_(en|fr)\b")
    return sorted(re.sub(r"'[^']*'", "''", language.sub("_", text)) for text in expressions)


def _wording(node: ast.expr) -> str:
    return node.value if isinstance(node, ast.Constant) else ast.unparse(node)


def written_pairs() -> list[tuple[str, ast.expr, ast.expr]]:
    found = []
    for path in sorted(
        [*(PROJECT_ROOT / "backoffice").rglob("*.py"), *(PROJECT_ROOT / "config").rglob("*.py")]
    ):
        if {"devdata", "devservices"} & set(
            path.parts
        ):  # demonstration data and emulators, not what users read
            continue
        where = path.relative_to(PROJECT_ROOT)
        for english, french in _written_pairs(ast.parse(path.read_text(), str(path))):
            found.append((f"{where}:{english.lineno}", english, french))
    return found


def test_english_and_french_written_side_by_side_are_complete_and_keep_their_placeholders():
    pairs = written_pairs()
    places = {where.split(":")[0] for where, _english, _french in pairs}
    for expected in ("checks/", "refusals.py", "registration/form.py", "message_templates.py", "config/"):
        assert any(expected in place for place in places), f"no English/French pair found in {expected}"
    problems = []
    for where, english, french in pairs:
        english_text, french_text = _wording(english).strip(), _wording(french).strip()
        if not english_text or not french_text:
            problems.append(f"{where}: one language is empty")
        elif english_text == french_text and english_text not in SAME_IN_BOTH:
            problems.append(f"{where}: the French is the English: {english_text!r}")
        if _placeholders(english) != _placeholders(french):
            problems.append(
                f"{where}: {_placeholders(english)} in English, {_placeholders(french)} in French"
            )
    assert not problems, "\n".join(problems)
