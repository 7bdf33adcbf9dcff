"""Scoping is applied to the queries: lists, counts, details and exports agree."""

import csv
import html
import io
import re

import pytest

from backoffice.models import CaseStatus
from tests.factories import create_case, create_counsel, make_counsel_of_record


def exported_file_numbers(client) -> set[str]:
    response = client.get("/admin/case/export/csv/")
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    return {row["File number"] for row in rows}


def test_each_role_lists_and_exports_only_the_cases_in_its_scope(app, login_as):
    western_rpd = create_case("western", "RPD").file_number
    western_iad = create_case("western", "IAD").file_number
    central_rpd = create_case("central", "RPD").file_number
    expectations = {
        ("clerk", "western", None): {western_rpd, western_iad},
        ("division_member", "western", "RPD"): {western_rpd},
        ("division_member", "western", "IAD"): {western_iad},
        ("supervisor", "western", None): {western_rpd, western_iad},
        ("supervisor", "central", None): {central_rpd},
        ("supervisor", "national", None): {western_rpd, western_iad, central_rpd},
        ("admin", "central", None): {western_rpd, western_iad, central_rpd},
    }
    for (role, office, division), visible in expectations.items():
        client = login_as(role, office, division)
        assert exported_file_numbers(client) == visible, (role, office, division)
        listing = client.get("/admin/case/").get_data(as_text=True)
        for number in {western_rpd, western_iad, central_rpd}:
            assert (number in listing) == (number in visible), (role, office, division, number)


def test_home_page_counts_only_the_work_in_scope(app, login_as):
    for _ in range(3):
        create_case("western", "RPD")
    create_case("central", "RPD")
    home = login_as("clerk", "western").get("/admin/").get_data(as_text=True)
    assert 'data-testid="figure">3<' in home
    home = login_as("supervisor", "national").get("/admin/").get_data(as_text=True)
    assert 'data-testid="figure">4<' in home


def test_case_details_show_counsel_of_record(app, login_as):
    case = create_case("western", "RPD")
    make_counsel_of_record(case, create_counsel(full_name="Grace Li"))
    page = login_as("clerk", "western").get(f"/admin/case/details/?id={case.id}").get_data(as_text=True)
    assert "Counsel of record" in page and "Grace Li" in page


def test_counsel_details_list_only_the_cases_in_scope(app, login_as):
    counsel = create_counsel()
    western = create_case("western")
    central = create_case("central")
    make_counsel_of_record(western, counsel)
    make_counsel_of_record(central, counsel)
    page = login_as("clerk", "western").get(f"/admin/counsel/details/?id={counsel.id}").get_data(as_text=True)
    assert western.file_number in page and central.file_number not in page


def test_regional_supervisor_sees_only_the_audit_events_of_the_region(app, login_as):
    login_as("clerk", "central")  # its sign-in is a Central event
    western_supervisor = login_as("supervisor", "western")
    export = western_supervisor.get("/admin/audit/export/csv/").get_data(as_text=True)
    assert "clerk.central" not in export
    assert "supervisor.western" in export
    national = login_as("supervisor", "national")
    assert "clerk.central" in national.get("/admin/audit/export/csv/").get_data(as_text=True)


def test_each_home_figure_links_to_the_list_behind_it(app, login_as):
    from datetime import date, timedelta

    soon = date.today() + timedelta(days=5)
    make_counsel_of_record(create_case("western", "RPD", next_hearing_on=soon), create_counsel())
    create_case("western", "RPD", next_hearing_on=soon + timedelta(days=90))
    create_case("western", "RPD", status=CaseStatus.CLOSED, next_hearing_on=soon)
    clerk = login_as("clerk", "western")
    home = clerk.get("/admin/").get_data(as_text=True)
    cards = re.findall(
        r'href="([^"]+)">\s*<div class="card-body">\s*<div class="display-4" data-testid="figure">(\d+)<',
        home,
    )
    assert [count for _url, count in cards] == ["2", "1", "1"]
    for url, count in cards:
        listing = clerk.get(html.unescape(url)).get_data(as_text=True)
        assert f"List ({count})" in listing, url


@pytest.mark.parametrize(
    ("role", "url"),
    [
        ("clerk", "/admin/case/?flt0_0=1&flt1_1=1&flt2_2=active&flt3_3=2026-01-01+to+2027-12-31"),
        ("clerk", "/admin/counsel/?flt0_0=lawyer&flt1_1=fr&flt2_2=Law"),
        ("clerk", "/admin/notification/?flt0_0=sent&flt1_1=email&flt2_2=1&flt3_3=1"),
        ("admin", "/admin/staff/?flt0_0=clerk&flt1_1=1"),
        ("admin", "/admin/audit/?flt0_0=sign&flt1_1=staff_users&flt2_2=1&flt3_3=2026-01-01+to+2027-12-31"),
        ("admin", "/admin/jobrun/?flt0_0=finished"),
    ],
)
def test_every_list_filter_works_on_this_database(app, login_as, role, url):
    client = login_as(role, "western")
    create_case("western", "RPD")
    response = client.get(url)
    assert response.status_code == 200, response.get_data(as_text=True)[-500:]
