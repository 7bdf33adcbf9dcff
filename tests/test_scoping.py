"""Scoping is applied to the queries: lists, counts, details and exports agree."""

import csv
import html
import io
import re

import pytest
from sqlalchemy import select

from backoffice.admin.base import ScopedModelView, national_scope
from backoffice.extensions import db
from backoffice.models import (
    AuditEvent,
    CaseStatus,
    Counsel,
    InvitationChannel,
    Role,
    SsoGroupMapping,
    StaffUser,
)
from backoffice.workflows.access import may_open
from backoffice.workflows.case_import import REQUIRED_COLUMNS, start_case_import
from backoffice.workflows.registration.machine import start_registration
from tests.factories import (
    create_case,
    create_counsel,
    create_filer,
    create_staff,
    create_submission,
    make_counsel_of_record,
)
from tests.factories import (
    office as office_by_code,
)
from tests.helpers import csrf_token_from, model_views


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


def test_a_model_screen_that_does_not_declare_its_scope_is_refused_when_defined(app):
    with pytest.raises(TypeError, match="must declare its scope"):

        class ForgetfulView(ScopedModelView):
            area = "cases"

    with pytest.raises(TypeError, match="cannot be national"):

        class TooWideView(ScopedModelView):
            area = "cases"
            scope = national_scope


def rename_staff(admin, staff: StaffUser, full_name: str) -> int:
    """An administrator renames a staff user through the staff screen; returns the audit event's id."""
    url = f"/admin/staff/edit/?id={staff.id}"
    form = {
        "csrf_token": csrf_token_from(admin.get(url).get_data(as_text=True)),
        "email": staff.email,
        "full_name": full_name,
        "role": staff.role.value,
        "office": str(staff.office_id),
        "division": "__None",
        "preferred_language": "en",
        "is_active_account": "y",
    }
    assert admin.post(url, data=form).status_code == 302
    return db.session.scalar(
        select(AuditEvent.id).where(
            AuditEvent.action == "staff_users.updated", AuditEvent.record_id == str(staff.id)
        )
    )


def test_a_regional_supervisor_sees_changes_to_its_offices_records_only_whoever_made_them(app, login_as):
    admin = login_as("admin", "western")  # an administrator of the western supervisor's own office
    renamed = {
        "western": rename_staff(admin, create_staff("clerk", "western"), "Renamed in Western"),
        "central": rename_staff(admin, create_staff("clerk", "central"), "Renamed in Central"),
    }
    for office, other in (("western", "central"), ("central", "western")):
        supervisor = login_as("supervisor", office)
        export = supervisor.get("/admin/audit/export/csv/").get_data(as_text=True)
        assert f"Renamed in {office.title()}" in export
        assert f"Renamed in {other.title()}" not in export
        assert supervisor.get(f"/admin/audit/details/?id={renamed[office]}").status_code == 200
        assert supervisor.get(f"/admin/audit/details/?id={renamed[other]}").status_code == 404


PRINCIPALS = (
    ("clerk", "western", None),
    ("division_member", "western", "RPD"),
    ("division_member", "western", "ID"),
    ("supervisor", "western", None),
    ("supervisor", "national", None),
    ("admin", "central", None),
)


def records_in_two_offices(folder) -> None:
    """Records of every kind in two offices, and in two divisions of one of them: cases, counsel (one of
    record in both offices), submissions, registrations and their messages, jobs run from each office and
    from the command line, and their audit events."""
    clerks = {office: create_staff("clerk", office) for office in ("western", "central")}
    filers = [create_filer(office, division) for office, division in (("western", "RPD"), ("western", "ID"))]
    filers.append(create_filer("central", "RPD"))
    for filer in filers:
        create_submission(filer)
    for filer in (filers[0], filers[2]):
        start_registration(filer.counsel, InvitationChannel.EMAIL, clerks[filer.case.office.code])
    make_counsel_of_record(filers[2].case, filers[1].counsel)
    for office_code in ("western", "central"):
        db.session.add(
            SsoGroupMapping(
                group=f"clerks-{office_code}", role=Role.CLERK, office=office_by_code(office_code)
            )
        )
    db.session.commit()
    upload = folder / "cases.csv"
    upload.write_text(",".join(REQUIRED_COLUMNS) + "\n", encoding="utf-8")
    for starter in (create_staff("admin", "western"), create_staff("admin", "central"), None):
        start_case_import(upload, "cases.csv", requested_by=starter)


def in_scope(user: StaffUser, record) -> bool:
    """Whether the user's office (and division) covers the record, from what the record itself says."""
    if user.role is Role.ADMIN or user.office_id is None:
        return True
    if isinstance(record, Counsel):
        places = {(link.case.office_id, link.case.division_id) for link in record.cases_of_record}
    else:
        places = {(getattr(record, "office_id", None), getattr(record, "division_id", None))}
    return any(
        office == user.office_id and (user.role is not Role.DIVISION_MEMBER or division == user.division_id)
        for office, division in places
    )


def listed(client, view) -> tuple[int, set[int]]:
    """The count the list shows, and the ids of its rows, page after page."""
    ids, page = set(), 0
    while True:
        page_html = client.get(f"/admin/{view.endpoint}/?page={page}").get_data(as_text=True)
        count = int(re.search(r"List \((\d+)\)", page_html).group(1))
        found = re.findall(rf"/admin/{view.endpoint}/(?:details|edit)/\?id=(\d+)", page_html)
        if not set(map(int, found)) - ids:
            return count, ids
        ids |= set(map(int, found))
        page += 1


def exported_rows(client, view) -> int:
    response = client.get(f"/admin/{view.endpoint}/export/csv/")
    assert response.status_code == 200
    return len(list(csv.reader(io.StringIO(response.get_data(as_text=True), newline="")))) - 1


def opened(client, view, ids) -> set[int]:
    """The records whose page opens; any other answers 404."""
    answers = {id_: client.get(f"/admin/{view.endpoint}/details/?id={id_}").status_code for id_ in ids}
    assert set(answers.values()) <= {200, 404}, answers
    return {id_ for id_, status in answers.items() if status == 200}


def disagreements(client, user: StaffUser, view, records: list) -> list[str]:
    """What the view's list, count, export and record pages say that the others, or the scope, do not."""
    who = f"{view.endpoint} as {user.role.value} of office {user.office_id}, division {user.division_id}"
    expected = {record.id for record in records if in_scope(user, record)}
    count, ids = listed(client, view)
    problems = []
    if count != len(ids) or ids & {record.id for record in records} != expected:
        problems.append(f"{who}: lists {sorted(ids)} ({count}), not {sorted(expected)}")
    if view.can_export and exported_rows(client, view) != count:
        problems.append(f"{who}: the export and the list's count differ")
    if view.can_view_details and opened(client, view, [record.id for record in records]) != expected:
        problems.append(f"{who}: the pages that open are not the records in scope")
    return problems


def test_every_model_screen_lists_counts_exports_and_opens_the_same_records_for_every_role(
    app, login_as, tmp_path
):
    records_in_two_offices(tmp_path)
    clients = [login_as(*principal) for principal in PRINCIPALS]
    views = model_views(app)
    records = {view.endpoint: db.session.scalars(select(view.model)).unique().all() for view in views}
    problems = []
    for client in clients:
        user = db.session.merge(client.user)
        for view in views:
            if may_open(user, view.area):
                problems += disagreements(client, user, view, records[view.endpoint])
    assert not problems, "\n".join(problems)
