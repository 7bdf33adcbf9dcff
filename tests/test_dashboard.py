"""The supervisors' dashboard: each figure for a regional and a national supervisor, the lists behind the
figures holding exactly what was counted, the CSV exports, French, who may open it, and a number of SQL
statements that does not grow with the data."""

import csv
import html
import io
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.models import (
    AuditEvent,
    InvitationChannel,
    Reason,
    ReasonUse,
    Registration,
    RegistrationStatus,
    ServiceTarget,
    StaffUser,
    Submission,
)
from backoffice.models.types import utcnow
from backoffice.workflows import decisions
from backoffice.workflows.timeliness import EASTERN
from tests.factories import create_counsel, create_staff, division, office
from tests.helpers import count_statements, csrf_token_from, decide, noon, waiting

DASHBOARD = "/admin/dashboard/"
S = RegistrationStatus


# --------------------------------------------------------------------------------------------- reading pages


def figure(page: str, key: str) -> str:
    match = re.search(rf'data-testid="figure-{re.escape(key)}">([^<]*)<', page)
    assert match, f"no figure {key}"
    return match.group(1).strip()


def assert_figures(page: str, expected: dict[str, str]) -> None:
    """Reads the figures named together, so that a failure shows every one that differs at once."""
    assert {key: figure(page, key) for key in expected} == expected


def reasons_by_frequency(page: str, queue: str) -> list[tuple[str, str]]:
    """A queue's rejection reasons as (code, count), in the order the page lists them."""
    pattern = rf'data-testid="figure-reason-{queue}-([^"]+)">([^<]*)<'
    return [(code, count.strip()) for code, count in re.findall(pattern, page)]


def link(page: str, key: str) -> str:
    match = re.search(rf'<a href="([^"]+)" data-testid="figure-{re.escape(key)}">', page)
    assert match, f"figure {key} links nowhere"
    return html.unescape(match.group(1))


def queue_rows(page: str) -> set[int]:
    return {int(found) for found in re.findall(r'data-testid="queue-row" data-submission="(\d+)"', page)}


def listed(page: str, kind: str) -> set[int]:
    return {int(found) for found in re.findall(rf'data-testid="figure-{kind}-(\d+)"', page)}


def csv_rows(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    assert re.fullmatch(
        r'attachment; filename="[a-z_-]+-\d{4}-\d{2}-\d{2}\.csv"', response.headers["Content-Disposition"]
    )
    return list(csv.reader(io.StringIO(response.get_data().decode("utf-8-sig"))))


def get(client, url: str) -> str:
    response = client.get(url)
    assert response.status_code == 200, (url, response.status_code)
    return response.get_data(as_text=True)


# --------------------------------------------------------------------------------------------- data


def day(days_ago: int) -> str:
    """The Eastern day, as the dashboard names it."""
    return noon(days_ago).astimezone(EASTERN).date().isoformat()


def registration(
    office_code: str,
    status: RegistrationStatus,
    started_days_ago: float,
    changed_days_ago: float | None = None,
) -> Registration:
    record = Registration(
        counsel=create_counsel(),
        office=office(office_code),
        status=status,
        channel=InvitationChannel.EMAIL,
        created_at=utcnow() - timedelta(days=started_days_ago),
        status_changed_at=utcnow() - timedelta(days=changed_days_ago or started_days_ago),
    )
    db.session.add(record)
    db.session.commit()
    return record


@pytest.fixture
def queues(app):
    """Western: registry 2 unclaimed (one 5 days old, over the 2-day target), 1 claimed, 1 on hold;
    division 1 unclaimed 12 days old (over 10 days) and 1 claimed. Central: 1 in each queue."""
    clerk, member = create_staff("clerk", "western"), create_staff("division_member", "western", "RPD")
    old, fresh = waiting(days=5), waiting(days=0.5)
    claimed, held = waiting(days=1), waiting(days=1.5)
    decisions.claim(claimed.id, clerk)
    held.held_at, held.held_by_id = utcnow(), clerk.id
    db.session.commit()
    division_old, division_claimed = waiting(days=12), waiting(days=3)
    for submission in (division_old, division_claimed):
        decide(submission, clerk, True, [], at=noon(40))  # accepted long ago: outside the window
    decisions.claim(division_claimed.id, member)
    db.session.commit()
    central = waiting("central", days=9)
    central_division = waiting("central", days=11)
    decide(central_division, create_staff("clerk", "central"), True, [], at=noon(40))
    return {
        "unclaimed": {old.id, fresh.id},
        "claimed": {claimed.id},
        "on_hold": {held.id},
        "over": {old.id},
        "registry": {old.id, fresh.id, claimed.id, held.id},
        "division_unclaimed": {division_old.id},
        "division_claimed": {division_claimed.id},
        "division_over": {division_old.id},
        "central": {central.id},
        "central_division": {central_division.id},
    }


@pytest.fixture
def decided(app):
    """Western registry decisions of the window taking 1 h, 3 h and 5 h (median 3 h): two rejections two days
    ago (R-TOC twice, R-PAGES once) and an acceptance five days ago, which the division rejected three days
    ago (D-LATE) after 2 days 5 hours. One older than the window, and one from Central."""
    clerk, member = create_staff("clerk", "western"), create_staff("division_member", "western", "RPD")
    first, second, third, old = waiting(), waiting(), waiting(), waiting()
    decide(first, clerk, False, ["R-TOC", "R-PAGES"], at=noon(2), received=noon(2) - timedelta(hours=1))
    decide(second, clerk, False, ["R-TOC"], at=noon(2), received=noon(2) - timedelta(hours=3))
    decide(third, clerk, True, [], at=noon(5), received=noon(5) - timedelta(hours=5))
    decide(third, member, False, ["D-LATE"], at=noon(5) + timedelta(days=2))  # three days ago, about noon
    decide(old, clerk, False, ["R-TOC"], at=noon(40), received=noon(40) - timedelta(hours=1))
    central = waiting("central")
    decide(
        central,
        create_staff("clerk", "central"),
        False,
        ["R-TOC"],
        at=noon(2),
        received=noon(2) - timedelta(hours=2),
    )
    return {"first": first.id, "second": second.id, "third": third.id, "old": old.id, "central": central.id}


@pytest.fixture
def registrations(app):
    """Western: open ones invited 40 days ago, form received (5 days), on hold (started 35 days ago, held 3 days
    ago); withdrawn 2 days ago; made active after 10 days (2 days ago) and 16 days (4 days ago), and one
    long before the window. Central: one invited 40 days ago."""
    found = {
        "invited": registration("western", S.INVITED, 40),
        "form": registration("western", S.FORM_RECEIVED, 5),
        "held": registration("western", S.ON_HOLD, 35, 3),
        "withdrawn": registration("western", S.WITHDRAWN, 20, 2),
        "active_10": registration("western", S.ACTIVE, 12, 2),
        "active_16": registration("western", S.ACTIVE, 20, 4),
        "active_old": registration("western", S.ACTIVE, 100, 50),
        "central": registration("central", S.INVITED, 40),
    }
    for name, days_ago, days in (("active_10", 2, 10), ("active_16", 4, 16)):
        found[name].status_changed_at = noon(days_ago)
        found[name].created_at = noon(days_ago) - timedelta(days=days)
    db.session.commit()
    return {name: record.id for name, record in found.items()}


# --------------------------------------------------------------------------------------------- the queues


def test_a_regional_supervisor_sees_their_offices_queues_by_state_with_the_oldest_and_those_over_target(
    app, login_as, queues
):
    page = get(login_as("supervisor", "western"), DASHBOARD)
    assert_figures(
        page,
        {
            "with_registry-unclaimed": "2",
            "with_registry-claimed": "1",
            "with_registry-on_hold": "1",
            "with_registry-total": "4",
            "with_registry-oldest": "5 d 0 h",
            "with_registry-over_target": "1",
            "with_division-unclaimed": "1",
            "with_division-claimed": "1",
            "with_division-on_hold": "0",
            "with_division-oldest": "12 d 0 h",
            "with_division-over_target": "1",
        },
    )
    assert "2 days" in page and "10 days" in page  # the service targets


def test_each_queue_figure_opens_the_queue_showing_exactly_the_items_it_counts(app, login_as, queues):
    supervisor = login_as("supervisor", "western")
    page = get(supervisor, DASHBOARD)
    expected = {
        "with_registry-unclaimed": queues["unclaimed"],
        "with_registry-claimed": queues["claimed"],
        "with_registry-on_hold": queues["on_hold"],
        "with_registry-total": queues["registry"],
        "with_registry-oldest": queues["registry"],
        "with_registry-over_target": queues["over"],
        "with_division-unclaimed": queues["division_unclaimed"],
        "with_division-claimed": queues["division_claimed"],
        "with_division-on_hold": set(),
        "with_division-over_target": queues["division_over"],
    }
    for key, ids in expected.items():
        url = link(page, key)
        queue = "/admin/registry_queue/" if key.startswith("with_registry") else "/admin/division_queue/"
        assert url.startswith(queue), (key, url)
        assert queue_rows(get(supervisor, url)) == ids, key
    assert link(page, "with_registry-over_target").endswith("older_than=2")
    assert "holder=unassigned" in link(page, "with_registry-unclaimed")
    assert "held=no" in link(page, "with_registry-unclaimed")
    assert "held=yes" in link(page, "with_registry-on_hold")


def test_a_national_supervisor_sees_every_office_each_office_apart_and_the_breakdown_by_office(
    app, login_as, queues
):
    central = office("central")
    national = login_as("supervisor", "national")
    page = get(national, DASHBOARD)
    assert_figures(
        page,
        {
            "with_registry-total": "5",
            "with_registry-over_target": "2",  # Central's is 9 days old
            "with_division-total": "3",
            f"office-{central.id}-with_registry": "1",
            f"office-{office('western').id}-with_registry": "4",
        },
    )
    assert queue_rows(get(national, link(page, f"office-{central.id}-with_registry"))) == queues["central"]
    assert (
        queue_rows(get(national, link(page, f"office-{central.id}-with_division-over")))
        == queues["central_division"]
    )

    only_central = get(national, f"{DASHBOARD}?office={central.id}")
    assert figure(only_central, "with_registry-total") == "1"
    assert figure(only_central, "with_division-over_target") == "1"
    assert 'data-testid="table-offices"' not in only_central
    assert f"office={central.id}" in link(only_central, "with_registry-total")
    assert queue_rows(get(national, link(only_central, "with_registry-total"))) == queues["central"]


def test_a_regional_supervisor_asking_for_another_office_still_sees_their_own(app, login_as, queues):
    page = get(login_as("supervisor", "western"), f"{DASHBOARD}?office={office('central').id}")
    assert figure(page, "with_registry-total") == "4"
    assert 'data-testid="table-offices"' not in page
    assert 'name="office"' not in page


def test_the_division_filter_narrows_the_queues_and_their_lists(app, login_as, queues):
    rad = waiting("western", "RAD", days=4)
    supervisor = login_as("supervisor", "western")
    page = get(supervisor, f"{DASHBOARD}?division={division('RAD').id}")
    assert_figures(
        page, {"with_registry-total": "1", "with_registry-over_target": "1", "with_division-total": "0"}
    )
    assert queue_rows(get(supervisor, link(page, "with_registry-total"))) == {rad.id}


# --------------------------------------------------------------------------------------------- decisions


def test_decisions_of_the_last_30_days_with_their_median_time_and_counts_per_day(app, login_as, decided):
    supervisor = login_as("supervisor", "western")
    page = get(supervisor, DASHBOARD)
    two_days_ago, three_days_ago = day(2), day(3)
    assert_figures(
        page,
        {
            "with_registry-decisions": "3",
            "with_registry-accepted": "1",
            "with_registry-rejected": "2",
            "with_registry-median": "3 h 0 min",
            "with_division-decisions": "1",
            "with_division-median": "2 d 5 h",
            f"with_registry-{two_days_ago}-rejected": "2",
            f"with_registry-{two_days_ago}-accepted": "0",
            f"with_division-{three_days_ago}-rejected": "1",
        },
    )

    day_list = get(supervisor, link(page, f"with_registry-{two_days_ago}-rejected"))
    assert listed(day_list, "decision") and len(listed(day_list, "decision")) == 2
    assert 'data-testid="list-total">2 rows<' in day_list
    assert get(supervisor, link(page, "with_registry-median")).count('data-testid="figure-decision-') == 3
    division_list = get(supervisor, link(page, "with_division-decisions"))
    assert "D-LATE" in division_list and "2 d 5 h" in division_list


def test_the_national_view_counts_every_office_and_a_regional_list_never_shows_another(
    app, login_as, decided
):
    national = get(login_as("supervisor", "national"), DASHBOARD)
    assert figure(national, "with_registry-decisions") == "4"
    assert figure(national, "with_registry-median") == "2 h 30 min"  # 1, 2, 3 and 5 hours
    supervisor = login_as("supervisor", "western")
    listing = get(supervisor, f"{DASHBOARD}decisions/?queue=with_registry&office={office('central').id}")
    assert 'data-testid="list-total">3 rows<' in listing


def test_rejection_reasons_by_frequency_open_the_decisions_that_gave_them(app, login_as, decided):
    supervisor = login_as("supervisor", "western")
    page = get(supervisor, DASHBOARD)
    assert reasons_by_frequency(page, "with_registry") == [("R-TOC", "2"), ("R-PAGES", "1")]
    assert reasons_by_frequency(page, "with_division") == [("D-LATE", "1")]
    by_reason = get(supervisor, link(page, "reason-with_registry-R-TOC"))
    file_numbers = {
        db.session.get(Submission, decided[name]).case.file_number for name in ("first", "second")
    }
    assert all(number in by_reason for number in file_numbers)
    assert 'data-testid="list-total">2 rows<' in by_reason


# --------------------------------------------------------------------------------------------- registrations


def test_the_registration_pipeline_waiting_by_stage_over_target_and_time_to_an_active_account(
    app, login_as, registrations
):
    supervisor = login_as("supervisor", "western")
    page = get(supervisor, DASHBOARD)
    assert_figures(
        page,
        {
            "stage-invited": "1",
            "stage-invited-over_target": "1",
            "stage-form_received": "1",
            "stage-on_hold-over_target": "1",
            "stage-open": "3",
            "stage-open-over_target": "2",
            "stage-open-oldest": "40 d 0 h",
            "activations": "2",
            "activations-median": "13 d 0 h",
            f"activations-{day(2)}": "1",
            "setback-on_hold": "1",
            "setback-withdrawn": "1",
            "setback-identity_not_confirmed": "0",
        },
    )

    def behind(key: str) -> set[int]:
        return listed(get(supervisor, link(page, key)), "registration")

    assert behind("stage-open-over_target") == {registrations["invited"], registrations["held"]}
    assert behind("stage-open") == {registrations[name] for name in ("invited", "form", "held")}
    assert behind("activations") == {registrations["active_10"], registrations["active_16"]}
    assert behind(f"activations-{day(4)}") == {registrations["active_16"]}
    assert behind("setback-withdrawn") == {registrations["withdrawn"]}
    stage_list = get(supervisor, link(page, "stage-invited"))  # the registrations list, filtered by stage
    assert link(page, "stage-invited").startswith("/admin/registration/")
    assert f"/admin/registration/details/?id={registrations['invited']}" in stage_list
    assert f"/admin/registration/details/?id={registrations['central']}" not in stage_list


def test_a_national_supervisor_sees_every_offices_registrations(app, login_as, registrations):
    national = login_as("supervisor", "national")
    page = get(national, DASHBOARD)
    assert figure(page, "stage-invited") == "2"
    assert figure(page, f"office-{office('central').id}-registrations-over") == "1"
    central = get(national, link(page, f"office-{office('central').id}-registrations-over"))
    assert listed(central, "registration") == {registrations["central"]}


# --------------------------------------------------------------------------------------------- exports


TABLES = (
    "queues",
    "decision_times",
    "decisions_per_day",
    "reasons",
    "registration_stages",
    "registration_times",
    "activations_per_day",
    "setbacks",
)


def test_every_table_has_an_export_that_matches_what_the_page_shows(app, login_as, queues, decided):
    supervisor = login_as("supervisor", "western")
    page = get(supervisor, DASHBOARD)
    for table in TABLES:
        assert f'data-testid="export-{table}"' in page
        assert csv_rows(supervisor.get(f"{DASHBOARD}export/?table={table}"))[0], table
    rows = csv_rows(supervisor.get(f"{DASHBOARD}export/?table=queues"))
    assert rows[0] == [
        "Queue",
        "Unclaimed",
        "Claimed",
        "On hold",
        "Waiting in all",
        "Oldest waiting",
        "Service target",
        "Over target",
    ]
    assert rows[1][:5] == ["Registry queue", "2", "1", "1", "4"] and rows[1][7] == "1"
    reasons = csv_rows(supervisor.get(f"{DASHBOARD}export/?table=reasons"))
    assert ["Registry queue", "R-TOC"] == reasons[1][:2] and reasons[1][3] == "2"
    assert supervisor.get(f"{DASHBOARD}export/?table=nothing").status_code == 404


def test_the_lists_behind_the_figures_export_what_they_list(app, login_as, decided, registrations):
    supervisor = login_as("supervisor", "western")
    page = get(supervisor, DASHBOARD)
    listing = get(supervisor, link(page, "reason-with_registry-R-TOC"))
    export = re.search(r'<a class="small" href="([^"]+)" data-testid="export-decisions"', listing).group(1)
    rows = csv_rows(supervisor.get(html.unescape(export)))
    assert rows[0][:3] == ["File number", "Regional office", "Division"]
    assert len(rows) == 3 and all(row[9].startswith("R-") and "R-TOC" in row[9] for row in rows[1:])
    assert {row[8] for row in rows[1:]} == {"Rejected"}
    listing = get(supervisor, link(page, "stage-open-over_target"))
    export = re.search(r'<a class="small" href="([^"]+)" data-testid="export-registrations"', listing).group(
        1
    )
    rows = csv_rows(supervisor.get(html.unescape(export)))
    assert len(rows) == 3 and {row[2] for row in rows[1:]} == {"Invited", "On hold"}


def test_exported_text_that_a_spreadsheet_would_run_as_a_formula_is_quoted(app, login_as):
    db.session.add(
        Reason(
            code="R-FORMULA",
            used_by=ReasonUse.REGISTRY,
            text_en='=HYPERLINK("http://x.example")',
            text_fr="@x",
        )
    )
    db.session.commit()
    clerk = create_staff("clerk", "western")
    decide(waiting(), clerk, False, ["R-FORMULA"], at=noon(1))
    record = registration("western", S.INVITED, 2)
    record.counsel.full_name = "+1 Counsel"
    db.session.commit()
    supervisor = login_as("supervisor", "western")
    reasons = csv_rows(supervisor.get(f"{DASHBOARD}export/?table=reasons"))
    assert reasons[1][2] == '\'=HYPERLINK("http://x.example")'
    listing = csv_rows(supervisor.get(f"{DASHBOARD}registrations/export/"))
    assert listing[1][0] == "'+1 Counsel"


# --------------------------------------------------------------------------------------------- French, charts


def test_the_dashboard_and_its_exports_speak_french(app, login_as, queues, decided):
    supervisor = login_as("supervisor", "western")
    user = db.session.get(StaffUser, supervisor.user.id)
    user.preferred_language = "fr"
    db.session.commit()
    page = get(supervisor, DASHBOARD)
    assert "File de travail du greffe" in page and "Toutes les sections" in page
    assert "Inscription des conseils" in page
    assert "La communication de documents contient plusieurs documents" in page  # the reason's French text
    rows = csv_rows(supervisor.get(f"{DASHBOARD}export/?table=queues"))
    assert rows[1][0] == "File de travail du greffe"
    rows = csv_rows(supervisor.get(f"{DASHBOARD}decisions/export/?queue=with_registry"))
    assert "Bureau régional" in rows[0] and "Section" in rows[0]


def test_charts_are_drawn_in_the_page_with_titles_and_link_to_their_lists(app, login_as, decided):
    page = get(login_as("supervisor", "western"), DASHBOARD)
    svg = re.search(r'<svg [^>]*data-testid="chart-decisions-with_registry".*?</svg>', page, re.S).group(0)
    assert 'role="group"' in svg and "<title" in svg and "<desc" in svg  # its bars are links
    two_days_ago = day(2)
    assert f"{two_days_ago[5:]} · Rejected: 2</title>" in svg
    assert f"day={two_days_ago}" in html.unescape(svg)
    assert "style=" not in svg and "<script" not in svg and "<image" not in svg
    reasons = re.search(r'<svg [^>]*data-testid="chart-reasons-with_registry".*?</svg>', page, re.S).group(0)
    assert "R-TOC" in reasons and "reason=R-TOC" in reasons


# --------------------------------------------------------------------------------------------- access


@pytest.mark.parametrize(
    "role, office_code, division_code",
    [("clerk", "western", None), ("division_member", "western", "RPD"), ("admin", "western", None)],
)
def test_only_supervisors_open_the_dashboard(app, login_as, role, office_code, division_code):
    client = login_as(role, office_code, division_code)
    for path in (
        "",
        "export/?table=queues",
        "decisions/",
        "decisions/export/",
        "registrations/",
        "registrations/export/",
    ):
        assert client.get(DASHBOARD + path).status_code == 403, path


def test_an_administrator_changes_a_service_target_audited_and_the_dashboard_follows(app, login_as, queues):
    target = db.session.scalar(select(ServiceTarget).where(ServiceTarget.queue == "with_registry"))
    admin = login_as("admin", "western")
    listing = get(admin, "/admin/servicetarget/")
    assert "Registry queue" in listing and "Registration of counsel" in listing
    form = get(admin, f"/admin/servicetarget/edit/?id={target.id}")
    response = admin.post(
        f"/admin/servicetarget/edit/?id={target.id}", data={"days": "1", "csrf_token": csrf_token_from(form)}
    )
    assert response.status_code == 302
    refused = admin.post(
        f"/admin/servicetarget/edit/?id={target.id}", data={"days": "0", "csrf_token": csrf_token_from(form)}
    )
    assert refused.status_code == 200  # shown again with the error
    db.session.expire_all()
    assert db.session.get(ServiceTarget, target.id).days == 1
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "service_targets.updated"))
    assert event.before == {"days": 2} and event.after == {"days": 1}
    page = get(login_as("supervisor", "western"), DASHBOARD)
    assert figure(page, "with_registry-over_target") == "3"  # 5, 1 and 1.5 days old
    assert link(page, "with_registry-over_target").endswith("older_than=1")


# --------------------------------------------------------------------------------------------- scale


def more_of_everything(rounds: int) -> None:
    clerks = {code: create_staff("clerk", code) for code in ("western", "central", "eastern")}
    for n in range(rounds):
        code = ("western", "central", "eastern")[n % 3]
        submission = waiting(code, ("RPD", "RAD", "IAD")[n % 3], days=n)
        if n % 2:
            decide(
                submission, clerks[code], n % 4 == 1, [] if n % 4 == 1 else ["R-TOC", "R-PAGES"], at=noon(n)
            )
        elif n % 3 == 0:
            submission.held_at = utcnow()
        registration(code, list(S)[n % len(S)], 40 - n, n)
    db.session.commit()


@pytest.mark.parametrize("principal", [("supervisor", "western"), ("supervisor", "national")])
def test_the_dashboard_issues_the_same_statements_with_few_rows_or_many(app, login_as, principal):
    client = login_as(*principal)
    waiting()
    client.get(DASHBOARD)  # the first request opens the connection
    few = count_statements(client, DASHBOARD)
    more_of_everything(18)
    many = count_statements(client, DASHBOARD)
    assert many == few, (few, many)
    assert few <= 12
