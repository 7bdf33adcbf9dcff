"""Every staff screen reads wholly in the reader's language: each page, rendered in French, holds none of the
interface's English words, and rendered in English, none of its French ones. Visible text only: tags, scripts,
styles, hidden elements, codes and form values are left out, and so is what is marked as written in the other
language (`lang="en"` on a French page: an English name, a message in counsel's language; `data-bilingual`: a
message in both); the attributes a
person reads (title, aria-label, placeholder, alt) and the words of buttons are read."""

import re

import pytest

from backoffice.i18n import date_picker_words
from tests.helpers import (
    PRINCIPALS,
    post_and_follow,
    rules_to_walk,
    switch_to_french,
    url_with_sample_id,
    visible_text,
)

# The interface's own words, as they would slip through untranslated: Flask-Admin's buttons, filters and
# pagination, our labels, raw values (enum codes, booleans, actors, offsets instead of zone names). Written
# so that names and codes do not trip them (a counsel named "Counsel 10001" by the factories, CSV columns).
ENGLISH = [
    *("Save", "Cancel", "Edit", "Delete", "Export", "Filter", "Filters", "Search", "Apply", "Reset Filters"),
    *("Add Filter", "With selected", "List", "Create", "Details", "View Record", "Edit Record", "Close"),
    *("Save and Add Another", "Save and Continue Editing", "Are you sure", "items", "Sort by", "Editer"),
    *("equals", "not equal", "contains", "between", "greater than", "smaller than"),
    *("From", "To", "Yes", "No", "None", "True", "False", "true", "false", "Skip to main content"),
    *("Submission", "Submissions", "Queue", "Received", "Status", "Case", "Cases", "Registration", "Reason"),
    *("Home", "Sign out", "Name", "Role", "Active", "Created", "Office", "Regional office", "Language"),
    *("sent", "failed", "queued", "system", "email", "minister", "registry", "Eastern Time", "Pacific Time"),
]
FRENCH = [
    *("Enregistrer", "Annuler", "Modifier", "Supprimer", "Exporter", "Filtrer", "Rechercher", "Appliquer"),
    *("Liste", "Créer", "Détails", "Accueil", "Oui", "Non", "Aucun", "Aucune", "Soumission", "Soumissions"),
    *("Dossier", "Dossiers", "Conseil", "Conseils", "Greffe", "Bureau régional", "Statut", "Reçue", "Envoyé"),
    *("Se déconnecter", "heure de l'Est", "par page", "Effacer les filtres", "Avec la sélection"),
]
UTC_OFFSET = r"[+-]\d{4}\b"  # "-0500" rather than the zone's name


def vocabulary(words: list[str]) -> re.Pattern:
    alternatives = "|".join(re.escape(word) for word in sorted(words, key=len, reverse=True))
    # A word on its own: not inside another word, nor a counsel's factory name ("Counsel 10001").
    return re.compile(rf"(?<![\w'’-])(?:{alternatives})(?![\w'’-])(?! \d)|(?<=:\d\d ){UTC_OFFSET}")


def screens(app, ids: dict[str, int]) -> list[str]:
    """Every page a person reads: the routes that answer a GET, with a sample record where they take one."""
    return [
        url_with_sample_id(rule, ids)
        for rule in rules_to_walk(app)
        if "GET" in rule.methods
        and not rule.arguments - {"export_type"}
        and not rule.endpoint.startswith(("api.", "health.", "static", "metrics"))
        and "export" not in rule.endpoint
        and rule.endpoint != "auth.sign_out"
    ]


def words_out_of_place(app, records, language: str) -> list[str]:
    clients, ids = records
    other_words = vocabulary(ENGLISH if language == "fr" else FRENCH)
    found, pages = [], 0
    for name in PRINCIPALS:
        client = clients[name]
        if language == "fr":
            switch_to_french(client, "/admin/")
        for url in screens(app, ids):
            response = client.get(url)
            if response.status_code != 200 or not response.mimetype == "text/html":
                continue
            pages += 1
            text = visible_text(response.get_data(as_text=True), language)
            for match in other_words.finditer(text):
                found.append(
                    f"{url} ({name}): {match.group()!r} in …{text[max(0, match.start() - 50) : match.end() + 30]}…"
                )
    assert pages > 60, f"only {pages} pages walked"
    return sorted(set(found))


def test_every_screen_in_french_holds_no_english_word(app, records):
    found = words_out_of_place(app, records, "fr")
    assert not found, f"{len(found)} English words on French pages:\n" + "\n".join(found)


def test_every_screen_in_english_holds_no_french_word(app, records):
    found = words_out_of_place(app, records, "en")
    assert not found, f"{len(found)} French words on English pages:\n" + "\n".join(found)


def test_the_walk_reads_what_a_person_reads_and_nothing_else():
    page = (
        '<html lang="fr"><body><p title="Titre">Bonjour <code>file_number</code></p><script>var Save;</script>'
        '<div class="d-none">["sent", "Envoyé"]</div><span lang="en">Western Region</span>'
        '<input type="submit" value="Enregistrer"><input name="q" value="Save"><li>Un<li>Deux</body></html>'
    )
    assert visible_text(page, "fr") == "Titre Bonjour Enregistrer Un Deux"
    assert vocabulary(ENGLISH).search("Counsel 10001 Save").group() == "Save"
    assert not vocabulary(ENGLISH).search("Counsel 10001, Saved")
    assert vocabulary(ENGLISH).search("2026-12-04 10:00 -0500").group() == "-0500"


@pytest.mark.parametrize(
    ("language", "words"),
    [("fr", ("Appliquer", "Annuler", "Du", "Au", " au ")), ("en", ("Apply", "Cancel", "From", "To", " to "))],
)
def test_the_date_picker_speaks_the_page_language(app, login_as, language, words):
    client = login_as("admin", "western")
    if language == "fr":
        switch_to_french(client, "/admin/")
    with client.application.test_request_context(), client:
        client.get("/admin/")
        picker = date_picker_words()
    apply, cancel, start, end, separator = words
    assert picker["locale"]["applyLabel"] == apply and picker["locale"]["cancelLabel"] == cancel
    assert (picker["locale"]["fromLabel"], picker["locale"]["toLabel"], picker["separator"]) == (
        start,
        end,
        separator,
    )
    assert len(picker["locale"]["monthNames"]) == 12 and len(picker["locale"]["daysOfWeek"]) == 7
    page = client.get("/admin/audit/").get_data(as_text=True)
    assert "date-picker-language.js" in page and "data-words=" in page


def test_a_date_range_written_in_french_filters_as_in_english(app, login_as):
    client = login_as("admin", "western")
    switch_to_french(client, "/admin/")
    english = client.get("/admin/audit/?flt0_3=2020-01-01+to+2099-12-31")
    french = client.get("/admin/audit/?flt0_3=2020-01-01+au+2099-12-31")
    assert english.status_code == french.status_code == 200
    assert "Valeur de filtre non valide" not in french.get_data(as_text=True)
    assert "2020-01-01 au 2099-12-31" in french.get_data(as_text=True)


def test_flask_admin_says_saved_in_our_words(app, login_as):
    client = login_as("admin", "western")
    switch_to_french(client, "/admin/division/")
    page = post_and_follow(
        client,
        "/admin/division/edit/?id=1",
        page="/admin/division/edit/?id=1",
        name_en="Refugee Protection Division",
        name_fr="Section de la protection des réfugiés",
    ).get_data(as_text=True)
    assert "Enregistré." in page and "A été enregistrée" not in page
    assert "Modifier" in client.get("/admin/division/details/?id=1").get_data(as_text=True)
