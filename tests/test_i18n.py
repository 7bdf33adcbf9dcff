"""English and French throughout: every string in the code has a French translation."""

import subprocess
import sys

import pytest
from babel.messages.pofile import read_po

from tests.conftest import PROJECT_ROOT, csrf_token_from

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
    import re

    with CATALOG.open("rb") as handle:
        catalog = read_po(handle)
    placeholder = re.compile(r"%\(\w+\)[sd]")
    for message in catalog:
        if not (message.id and message.string):
            continue
        # A plural message has its singular and plural forms, and a translation for each French form.
        english = message.id if isinstance(message.id, tuple) else (message.id,)
        french = message.string if isinstance(message.string, tuple) else (message.string,)
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
