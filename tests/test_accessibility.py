"""Every staff screen meets WCAG 2.1 AA as axe-core reads it in Chromium, in English and in French, for each
role: a serious or critical violation fails; moderate and minor ones are printed. And the navigation holds at
1024 px and at 200 % zoom: folded into its toggler, with nothing overlapping."""

import pytest
from axe_playwright_python.sync_playwright import Axe
from flask import url_for
from playwright.sync_api import expect

from backoffice.extensions import db
from backoffice.models import JobRun
from tests.factories import PASSWORD, create_staff, office
from tests.helpers import model_views

pytestmark = pytest.mark.browser

ROLES = ("clerk", "division_member", "supervisor", "admin")
FAILING_IMPACTS = frozenset({"serious", "critical"})
MENU_LINKS = "[data-testid=main-menu] a[href]:not([href^='javascript'])"
AXE = Axe()


def sign_in(page, server: str, email: str) -> None:
    page.goto(f"{server}/admin/")
    page.get_by_label("Email").fill(email)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_url(f"{server}/admin/**")


def screens_of(page, app, ids: dict[str, int]) -> dict[str, str]:
    """The screens the menu offers on this page, the person's own security page, and the details page of a
    sample record of each model screen in the menu: {path: endpoint}."""
    offered = page.eval_on_selector_all(MENU_LINKS, "links => links.map(link => link.getAttribute('href'))")
    with app.test_request_context():
        screens = {url_for("admin.index"): "admin.index", url_for("auth.security"): "auth.security"}
        for view in model_views(app):
            list_url = url_for(f"{view.endpoint}.index_view")
            if list_url in offered:
                screens[list_url] = f"{view.endpoint}.index_view"
                if view.can_view_details and view.endpoint in ids:
                    details = url_for(f"{view.endpoint}.details_view", id=ids[view.endpoint])
                    screens[details] = f"{view.endpoint}.details_view"
    for path in offered:
        screens.setdefault(path, path)
    return screens


def violations_on(page) -> list[dict]:
    """What axe finds on the page (axe is put in every page of the context by `watched_by_axe`), once its
    scripts have run and its transitions ended: a button its script enables fades from the disabled look."""
    page.wait_for_load_state("load")
    page.wait_for_function("() => document.getAnimations().length === 0")
    return page.evaluate(
        "axe.run(document, {resultTypes: ['violations']}).then(results => results.violations)"
    )


def watched_by_axe(browser):
    page = browser.new_page(locale="en-CA")
    page.add_init_script(AXE.axe_script)
    return page


def describe(path: str, violation: dict) -> list[str]:
    return [
        f"{path}: {violation['id']} ({violation['impact']}) at {', '.join(map(str, node['target']))}"
        for node in violation["nodes"]
    ]


def test_every_screen_of_every_role_passes_axe_in_both_languages(app, records, live_server, browser):
    """Each role's screens, in English then in French; a screen already read for an earlier role is not read
    again (the roles that work a screen come before the administrator, who opens the most)."""
    clients, ids = records
    read: set[tuple[str, str]] = set()
    failing, reported = [], []
    for role in ROLES:
        page = watched_by_axe(browser)
        sign_in(page, live_server, clients[role].user.email)
        screens = screens_of(page, app, ids)
        for language in ("en", "fr"):
            if language == "fr":
                page.get_by_test_id("language-switch").first.click()
                page.wait_for_load_state()
            for path, endpoint in screens.items():
                if (endpoint, language) in read:
                    continue
                read.add((endpoint, language))
                response = page.goto(f"{live_server}{path}")
                assert response.status == 200, f"{path} as {role}: {response.status}"
                expect(page.locator("html")).to_have_attribute("lang", language)
                for violation in violations_on(page):
                    lines = describe(f"{role} {language} {path}", violation)
                    (failing if violation["impact"] in FAILING_IMPACTS else reported).extend(lines)
    details = {
        f"{view.endpoint}.details_view"
        for view in model_views(app)
        if view.can_view_details and view.endpoint in ids
    }
    assert details <= {endpoint for endpoint, _language in read}, "a model screen's details were not read"
    print(f"\n{len(read)} screens read; moderate or minor:\n" + "\n".join(reported))
    assert not failing, "\n".join(failing)


def test_the_sign_in_and_error_pages_pass_axe_in_both_languages(app, live_server, browser):
    page = watched_by_axe(browser)
    failing, reported = [], []
    for language in ("en", "fr"):
        for path, status in (("/sign-in", 200), ("/no-such-page", 404)):
            response = page.goto(f"{live_server}{path}")
            assert response.status == status, f"{path}: {response.status}"
            expect(page.locator("html")).to_have_attribute("lang", language)
            for violation in violations_on(page):
                lines = describe(f"{language} {path}", violation)
                (failing if violation["impact"] in FAILING_IMPACTS else reported).extend(lines)
        if language == "en":
            page.goto(f"{live_server}/sign-in")
            page.get_by_test_id("language-switch").first.click()
            expect(page.locator("html")).to_have_attribute("lang", "fr")
    print("\nmoderate or minor:\n" + "\n".join(reported))
    assert not failing, "\n".join(failing)


@pytest.mark.parametrize(
    ("width", "language"), [(1024, "en"), (640, "fr")], ids=["1024px", "200%-zoom-french"]
)
def test_the_navigation_folds_into_its_toggler_on_a_narrow_screen(app, live_server, browser, width, language):
    page = browser.new_page(locale="en-CA", viewport={"width": width, "height": 700})
    sign_in(page, live_server, create_staff("admin", "western").email)  # the longest menu
    menu = page.get_by_test_id("main-menu")
    if language == "fr":
        page.get_by_test_id("menu-toggle").click()
        page.get_by_test_id("language-switch").first.click()
        expect(page.locator("html")).to_have_attribute("lang", "fr")  # the French page, not the one it left
        page.wait_for_load_state("load")  # the toggler answers only once the page's scripts have run
    expect(menu).to_be_hidden()
    page.get_by_test_id("menu-toggle").click()
    expect(menu).to_be_visible()
    badge = page.get_by_test_id("who-am-i")
    expect(badge).to_be_visible()
    assert badge.bounding_box()["height"] < 50  # the name and a second, smaller line: no column of words
    assert_nothing_overlaps(page)
    page.get_by_role("link", name="Administration").click()
    expect(
        page.get_by_role("link", name="Staff users" if language == "en" else "Utilisateurs")
    ).to_be_visible()


def test_the_expanded_navigation_keeps_its_menu_on_one_line_in_french(app, live_server, browser):
    page = browser.new_page(locale="en-CA", viewport={"width": 1200, "height": 800})  # the narrowest expanded
    sign_in(page, live_server, create_staff("admin", "western").email)  # the longest menu
    page.get_by_test_id("language-switch").first.click()
    expect(page.locator("html")).to_have_attribute("lang", "fr")
    page.wait_for_load_state("load")  # measured once every stylesheet applies
    expect(page.get_by_test_id("menu-toggle")).to_be_hidden()
    tops = page.eval_on_selector_all(
        "[data-testid=main-menu] > li", "items => items.map(item => item.getBoundingClientRect().top)"
    )
    assert len(set(tops)) == 1, tops
    assert page.locator("nav.staff-navbar").bounding_box()["height"] < 110
    assert_nothing_overlaps(page)


def assert_nothing_overlaps(page) -> None:
    """No two visible entries of the navigation (links, buttons, the badge) share any pixel."""
    boxes = page.eval_on_selector_all(
        "nav.staff-navbar .navbar-brand, nav.staff-navbar .nav-link, nav.staff-navbar button,"
        " nav.staff-navbar [data-testid=who-am-i]",
        """items => items.filter(item => item.offsetParent !== null).map(item => {
            const box = item.getBoundingClientRect();
            return [item.textContent.trim().slice(0, 30), box.left, box.top, box.right, box.bottom];
        })""",
    )
    overlapping = [
        (first[0], second[0])
        for index, first in enumerate(boxes)
        for second in boxes[index + 1 :]
        if first[1] < second[3] - 1
        and second[1] < first[3] - 1
        and first[2] < second[4] - 1
        and second[2] < first[4] - 1
    ]
    assert not overlapping, overlapping


def test_a_running_job_refreshes_its_page_until_the_person_stops_it(app, live_server, browser):
    run = JobRun(kind="case_import", requested_by_label="test", office_id=office("western").id)
    db.session.add(run)
    db.session.commit()
    page = browser.new_page(locale="en-CA")
    sign_in(page, live_server, create_staff("admin", "western").email)
    page.goto(f"{live_server}/admin/jobrun/details/?id={run.id}")
    with page.expect_navigation(timeout=10_000):  # the page reloads itself (every 3 seconds)
        pass
    page.get_by_role("button", name="Stop refreshing").click()
    expect(page.get_by_test_id("job-refresh")).to_have_text(
        "This page no longer refreshes itself: reload it to see the progress."
    )
