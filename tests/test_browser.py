"""A clerk's first minutes, in a real Chromium driven by Playwright: sign in, open the cases list,
switch to French. The screenshot is kept under test-artifacts/ for a person to look at."""

import re

import pytest
from playwright.sync_api import expect

from backoffice.extensions import db
from backoffice.models import CheckOutcome
from tests.factories import create_case, create_staff
from tests.helpers import ARTIFACTS, sign_in_from

pytestmark = pytest.mark.browser


def test_clerk_signs_in_opens_cases_and_switches_to_french(app, live_server, browser):
    clerk = create_staff("clerk", "western", full_name="Claire Clerk")
    western_case = create_case("western", "RPD")
    central_case = create_case("central", "RPD")
    page = browser.new_page(locale="en-CA")
    page.goto(f"{live_server}/admin/case/")
    expect(page).to_have_url(re.compile(re.escape(f"{live_server}/sign-in")))

    sign_in_from(page, clerk.email, f"{live_server}/admin/case/**")
    expect(page.get_by_text(western_case.file_number)).to_be_visible()
    expect(page.get_by_text(central_case.file_number)).to_have_count(0)
    # The filter menu and the navigation menus work under the Content-Security-Policy (the fixture fails on
    # anything it blocks).
    page.get_by_role("link", name="Add Filter").click()
    page.locator("a.dropdown-item.filter").first.click()
    expect(page.locator("table.filters tr")).to_have_count(1)
    page.get_by_role("link", name="Work queues").click()
    expect(page.get_by_role("link", name="Registry queue")).to_be_visible()

    page.get_by_test_id("language-switch").first.click()
    page.wait_for_load_state()
    expect(page.get_by_role("columnheader", name="Numéro de dossier")).to_be_visible()
    expect(page.get_by_test_id("who-am-i")).to_contain_text("Claire Clerk · Commis du greffe")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "cases-list-fr.png"), full_page=True)

    page.goto(f"{live_server}/admin/")  # the choice is remembered on the next page
    expect(page.get_by_text("Travail relevant de votre compétence")).to_be_visible()


def test_a_clerk_reads_the_automated_checks_of_a_submission_in_french(
    app, live_server, browser, monkeypatch, run_worker
):
    from datetime import UTC, datetime

    from backoffice.devservices import sample_pdfs
    from backoffice.workflows import submissions
    from tests.factories import create_filer, create_submission

    monkeypatch.setattr(submissions, "now", lambda: datetime(2021, 4, 2, 5, 0, tzinfo=UTC))  # 01:00 Eastern
    clerk = create_staff("clerk", "western", full_name="Claire Clerk")
    submission = create_submission(
        create_filer("western", "RPD"),
        files=[("notice.pdf", sample_pdfs.notice_of_appeal("en"))],
        subject="Notice of appeal sent by mistake",
    )
    run_worker()  # the automated checks run in the real worker
    page = browser.new_page(locale="en-CA")
    page.goto(f"{live_server}/admin/")
    sign_in_from(page, clerk.email, f"{live_server}/admin/**")

    page.get_by_test_id("language-switch").first.click()
    page.wait_for_load_state()
    expect(page.get_by_test_id("who-am-i")).to_contain_text("Claire Clerk · Commis du greffe")
    page.locator('nav a[href="/admin/submission/"]').first.click()
    page.wait_for_url(f"{live_server}/admin/submission/**")
    expect(page.get_by_text(submission.subject)).to_be_visible()
    page.locator(f'a[href^="/admin/submission/details/?id={submission.id}&"]').first.click()
    page.wait_for_url(f"{live_server}/admin/submission/details/**")

    check = page.get_by_test_id("attachment-1").get_by_test_id("check-notice_of_appeal")
    expect(check).to_contain_text("Ce document semble être un avis d'appel (page 1).")
    expect(page.get_by_test_id("received-eastern")).to_contain_text("2021-04-02 01:00")
    expect(page.get_by_test_id("received-local")).to_contain_text("2021-04-01 22:00")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "submission-checks-fr.png"), full_page=True)


def test_a_clerk_schedules_the_webex_check_verifies_identity_and_issues_a_code(
    app, live_server, browser, run_worker, webex_emulator
):
    from datetime import datetime, timedelta

    from backoffice.extensions import db
    from backoffice.models import InvitationChannel
    from backoffice.workflows.registration import form as registration_form
    from backoffice.workflows.registration.machine import start_registration
    from backoffice.workflows.registration.returned_form import record_form
    from tests.factories import create_counsel, make_counsel_of_record

    clerk = create_staff("clerk", "western", full_name="Claire Clerk")
    case = create_case("western", "RPD")
    counsel = create_counsel(full_name="Grace Li", email="grace.li@law.example")
    make_counsel_of_record(case, counsel)
    registration = start_registration(counsel, InvitationChannel.EMAIL, clerk)
    values = {
        **registration_form.form_values_for(counsel),
        "mobile": "604-555-0199",
        "postal_address": "800 Hornby Street\nVancouver BC V6Z 2C5",
    }
    assert record_form(registration, values, clerk) == []
    db.session.commit()
    details = f"{live_server}/admin/registration/details/?id={registration.id}"

    page = browser.new_page(locale="en-CA")
    page.goto(details)
    sign_in_from(page, clerk.email, f"{live_server}/admin/registration/details/**")
    expect(page.get_by_test_id("registration-status")).to_have_text("Form received")

    start = (datetime.now(registration.office.zone) + timedelta(days=7)).replace(hour=14, minute=0)
    page.get_by_test_id("schedule-starts-at").fill(start.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Schedule the identity verification").click()
    page.wait_for_load_state()
    expect(page.get_by_test_id("registration-status")).to_have_text("Verification scheduled")
    expect(page.get_by_test_id("meetings")).to_contain_text("Being scheduled in Webex")

    run_worker()  # the job makes the meeting in Webex
    page.reload()
    [in_webex] = webex_emulator.meetings.values()
    expect(page.get_by_test_id("meetings")).to_contain_text(in_webex["webLink"])
    expect(page.get_by_test_id("meetings")).to_contain_text(start.strftime("%Y-%m-%d 14:00"))

    page.get_by_label("Kind of government photo ID seen").select_option("passport")
    # The meeting is days away: recording its outcome now takes a reason.
    page.get_by_test_id("identity-verified").get_by_label("why record its outcome now?").fill("Joined early.")
    page.get_by_role("button", name="Identity verified").click()
    page.wait_for_load_state()
    expect(page.get_by_test_id("registration-status")).to_have_text("Identity verified")
    expect(page.get_by_test_id("identity-check")).to_contain_text("Passport")

    page.get_by_role("button", name="Issue the invitation code").click()
    page.wait_for_load_state()
    shown_code = page.get_by_test_id("invitation-code")
    expect(shown_code).to_have_text(
        re.compile(r"^\s*[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}\s*$")
    )
    code = shown_code.inner_text().strip()
    expect(page.get_by_test_id("code-warning")).to_contain_text("will not be shown again")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "registration-code.png"), full_page=True)

    page.get_by_role("link", name="Back to the registration").click()
    page.wait_for_url(f"{live_server}/admin/registration/details/**")
    expect(page.get_by_test_id("registration-status")).to_have_text("Invitation code issued")
    expect(page.locator("html")).not_to_contain_text(code)
    assert code not in page.content()  # nor anywhere in the markup


def test_a_clerk_works_the_registry_queue_in_chromium(app, live_server, browser):
    from tests.factories import with_registry

    clerk = create_staff("clerk", "western", full_name="Claire Clerk")
    oldest, _newer = with_registry("western"), with_registry("western")
    oldest.attachments[0].screening_outcome = CheckOutcome.PASS  # as screening leaves a clean file
    db.session.commit()
    page = browser.new_page(locale="en-CA")
    page.goto(f"{live_server}/admin/registry_queue/")
    sign_in_from(page, clerk.email, f"{live_server}/admin/registry_queue/**")
    first_row = page.get_by_test_id("queue-row").first
    expect(first_row).to_contain_text(oldest.case.file_number)

    with page.expect_response(lambda response: "/attachment/view/" in response.url) as shown:
        first_row.get_by_role("button", name="Claim").click()
        page.wait_for_url(f"{live_server}/admin/submission/details/**")
    expect(page.get_by_test_id("holder")).to_contain_text("Claire Clerk")
    # The first PDF is shown in the page's viewer, framed by this site only and with no script of its own.
    assert shown.value.status == 200 and shown.value.headers["content-type"] == "application/pdf"
    assert shown.value.frame.parent_frame == page.main_frame
    expect(page.get_by_test_id("pdf-viewer")).to_be_visible()
    pdf = page.request.get(live_server + page.get_by_test_id("view-pdf-1").get_attribute("href"))
    assert pdf.status == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.body().startswith(b"%PDF")

    page.get_by_label("The pages of the disclosure are not numbered consecutively.").check()
    page.get_by_label("The disclosure holds several documents but has no table of contents.").check()
    page.get_by_label("Note to counsel (optional)").fill("Number the pages and add a table of contents.")
    page.get_by_role("button", name="Reject", exact=True).click()
    page.wait_for_url(f"{live_server}/admin/submission/reject/confirm/")  # what counsel will receive, first
    expect(page.get_by_test_id("email-text")).to_contain_text("Number the pages and add a table of contents.")
    with page.expect_navigation():  # back to the queue the clerk came from
        page.get_by_role("button", name="Send the rejection").click()
    page.goto(f"{live_server}/admin/submission/details/?id={oldest.id}")
    expect(page.get_by_test_id("submission-status")).to_have_text("Rejected")
    expect(page.get_by_test_id("decisions")).to_contain_text("R-TOC")
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "registry-queue.png"), full_page=True)


def test_a_supervisor_follows_a_dashboard_figure_to_its_list_and_exports_it(app, live_server, browser):
    import csv

    from tests.helpers import decide, noon, waiting

    supervisor = create_staff("supervisor", "western", full_name="Sam Supervisor")
    clerk = create_staff("clerk", "western")
    first, second = waiting(), waiting()
    decide(first, clerk, False, ["R-TOC"], at=noon(1))
    decide(second, clerk, False, ["R-TOC", "R-PAGES"], at=noon(1))
    late = waiting(days=5)  # over the registry's 2-day target
    page = browser.new_page(locale="en-CA", accept_downloads=True)
    page.goto(f"{live_server}/admin/dashboard/")
    sign_in_from(page, supervisor.email, f"{live_server}/admin/dashboard/**")
    expect(page.get_by_test_id("figure-with_registry-over_target")).to_have_text("1")
    expect(page.get_by_test_id("chart-decisions-with_registry")).to_be_visible()
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "dashboard.png"), full_page=True)

    page.get_by_test_id("figure-with_registry-over_target").click()
    page.wait_for_url(f"{live_server}/admin/registry_queue/**")
    rows = page.get_by_test_id("queue-row")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-submission", str(late.id))
    page.go_back()
    page.get_by_test_id("figure-reason-with_registry-R-TOC").click()
    page.wait_for_url(f"{live_server}/admin/dashboard/decisions/**")
    expect(page.get_by_test_id("list-total")).to_have_text("2 rows")
    with page.expect_download() as started:
        page.get_by_test_id("export-decisions").click()
    download = started.value
    filename = download.suggested_filename
    assert filename.startswith("decisions-") and filename.endswith(".csv")
    with open(download.path(), encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    assert rows[0][0] == "File number"
    assert {row[0] for row in rows[1:]} == {first.case.file_number, second.case.file_number}
    assert all("R-TOC" in row[9] for row in rows[1:])
