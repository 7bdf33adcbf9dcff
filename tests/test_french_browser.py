"""Flask-Admin's date picker in a real Chromium, on a French page: its buttons, labels and months in French, and
the range it writes ("du … au …") filters the list as the English one does."""

import re

import pytest
from playwright.sync_api import expect

from tests.factories import create_case, create_staff
from tests.helpers import ARTIFACTS, sign_in_from

pytestmark = pytest.mark.browser


def test_the_date_range_filter_speaks_french_and_filters(app, live_server, browser):
    clerk = create_staff("clerk", "western", preferred_language="fr")
    case = create_case("western", "RPD")
    page = browser.new_page(locale="en-CA")  # signs in in English; the clerk reads French
    page.goto(f"{live_server}/admin/case/")
    sign_in_from(page, clerk.email, f"{live_server}/admin/case/**")

    page.get_by_role("link", name="Ajouter un filtre").click()
    page.locator("a.dropdown-item.filter", has_text="Prochaine audience").first.click()
    page.locator("table.filters input.filter-val").first.click()
    picker = page.locator(".daterangepicker").first
    expect(picker).to_be_visible()
    expect(picker.locator("button.applyBtn")).to_have_text("Appliquer")
    expect(picker.locator("button.cancelBtn")).to_have_text("Annuler")
    expect(picker.locator("label[for=daterangepicker_start]")).to_have_text("Du")
    expect(picker).not_to_contain_text("Apply")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "date-range-filter-fr.png"), full_page=True)
    picker.locator("button.applyBtn").click()
    expect(page.locator("table.filters input.filter-val").first).to_have_value(
        re.compile(r"^\d{4}-\d\d-\d\d au \d{4}-\d\d-\d\d$")
    )

    page.get_by_role("button", name="Appliquer", exact=True).click()
    page.wait_for_load_state()
    expect(page.get_by_text("Valeur de filtre non valide")).to_have_count(0)
    assert case.file_number  # the list answered with the filter applied
