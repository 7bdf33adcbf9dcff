"""The menu offers each person exactly the screens they may open: every link in it answers 200, and every
other staff screen answers 403. A menu entry that answers 403 would only fill the audit log with refusals."""

import re
from html.parser import HTMLParser

import pytest
from flask import url_for

from tests.helpers import PRINCIPALS, page_of


class _MenuLinks(HTMLParser):
    """The links of the element marked data-testid="main-menu" (a category's toggle links nowhere)."""

    def __init__(self) -> None:
        super().__init__()
        self.depth, self.links = 0, []

    def handle_starttag(self, tag, attrs) -> None:
        attributes = dict(attrs)
        if tag == "ul" and (self.depth or attributes.get("data-testid") == "main-menu"):
            self.depth += 1
        if self.depth and tag == "a" and not attributes.get("href", "").startswith("javascript:"):
            self.links.append(attributes["href"])

    def handle_endtag(self, tag) -> None:
        if tag == "ul" and self.depth:
            self.depth -= 1


def menu_links(page: str) -> list[str]:
    parser = _MenuLinks()
    parser.feed(page)
    assert parser.links, "no menu on the page"
    return parser.links


def staff_screens(app) -> dict[str, str]:
    """The URL of every screen with a menu entry, by its endpoint."""
    (admin,) = app.extensions["admin"]
    with app.test_request_context():
        return {
            view.endpoint: url_for(f"{view.endpoint}.{view._default_view}")
            for view in admin._views
            if getattr(view, "menu", None) is not None
        }


@pytest.mark.parametrize("name", PRINCIPALS)
def test_the_menu_offers_exactly_the_screens_the_person_may_open(app, records, name):
    clients, _ids = records
    client = clients[name]
    offered = set(menu_links(page_of(client, "/admin/")))
    screens = staff_screens(app)
    assert offered <= set(screens.values()), f"links to no staff screen: {offered - set(screens.values())}"
    answers = {url: client.get(url).status_code for url in screens.values()}
    wrong = [
        f"{url}: {status} ({'in' if url in offered else 'not in'} the menu)"
        for url, status in sorted(answers.items())
        if status != (200 if url in offered else 403)
    ]
    assert not wrong, f"as {name}:\n" + "\n".join(wrong)


@pytest.mark.parametrize(
    ("name", "shown", "hidden"),
    [
        ("clerk", "Registry queue", "Division queue"),
        ("division_member", "Division queue", "Registry queue"),
        ("admin", "Staff users", "Registry queue"),
    ],
)
def test_a_queue_is_in_the_menu_only_of_those_who_see_it(records, name, shown, hidden):
    clients, _ids = records
    page = page_of(clients[name], "/admin/")
    assert re.search(rf">\s*{shown}\s*</a>", page)
    assert not re.search(rf">\s*{hidden}\s*</a>", page)


def test_a_category_with_nothing_the_person_may_open_is_not_in_the_menu(records):
    clients, _ids = records
    page = page_of(clients["division_member"], "/admin/")
    for category in ("Administration", "Registration of counsel", "Operations"):
        assert category not in page
