"""The review screen of a submission: the document beside the decision, the pages a check names, the reasons
the failed checks suggest, the rejection shown as counsel will receive it before it is sent, the tab's title,
who holds the work, and a clerk who reviews with the keyboard alone."""

import importlib
import json
import re
from urllib.parse import quote

import pytest
from playwright.sync_api import expect
from sqlalchemy import func, select

from backoffice.extensions import db
from backoffice.models import (
    CheckOutcome,
    CheckResultRecord,
    Decision,
    Language,
    Notification,
    ReasonUse,
    Submission,
    SubmissionStatus,
)
from backoffice.workflows import decisions, submissions
from backoffice.workflows.message_rendering import render_message
from backoffice.workflows.review_aids import (
    chosen_reasons,
    pages_named,
    rejection_preview,
    suggested_reasons,
)
from tests.factories import create_filer, create_staff, create_submission, pdf_bytes
from tests.helpers import (
    ARTIFACTS,
    csrf_token_from,
    page_of,
    post_form,
    sign_in_from,
    switch_to_french,
    text_of,
)

DETAILS = "/admin/submission/details/?id={}"
FAILURE, WARNING, PASS = CheckOutcome.FAILURE, CheckOutcome.WARNING, CheckOutcome.PASS


def disclosure_in_registry(language: Language = Language.ENGLISH, pages: int = 15) -> Submission:
    """A disclosure waiting in the western registry queue, screened: its page numbering failed on pages
    12-14, its table of contents passed, and one page has no text layer (a warning)."""
    filer = create_filer("western", "RPD")
    filer.counsel.preferred_language = language
    submission = create_submission(
        filer, kind="disclosure", files=[("disclosure.pdf", pdf_bytes(pages))], subject="Country evidence"
    )
    for transition in ("start_screening", "finish_screening"):
        submissions.fire(submission, transition)
    attachment = submission.attachments[0]
    attachment.screening_outcome = submission.screening_outcome = FAILURE
    attachment.page_count = pages
    results = [
        ("page_numbering", FAILURE, "Pages without a number: 12-14.", "Pages sans numéro : 12-14.",
         {"pages_without_number": [12, 13, 14], "pages_out_of_sequence": []}),
        ("table_of_contents", PASS, "The table of contents is there.", "La table des matières est là.", {}),
        ("text_layer", WARNING, "1 page(s) have no text layer: pages 9.", "1 page(s) n'ont pas de couche texte : pages 9.",
         {"not_verifiable": [9], "count": 1}),
    ]  # fmt: skip
    for code, outcome, english, french, details in results:
        db.session.add(
            CheckResultRecord(
                submission_id=submission.id,
                attachment_id=attachment.id,
                code=code,
                outcome=outcome,
                message_en=english,
                message_fr=french,
                details=details,
            )
        )
    db.session.commit()
    return submission


def claimed_by(submission: Submission, clerk) -> None:
    decisions.claim(submission.id, clerk)
    db.session.commit()


# ------------------------------------------------------------------------------------- suggestions, pages


def test_a_failed_check_suggests_its_reason_and_warnings_and_passes_suggest_nothing():
    results = [
        ("page_numbering", FAILURE),
        ("table_of_contents", WARNING),
        ("one_subject", PASS),
        ("readable", FAILURE),
        ("encryption", FAILURE),
        ("notice_of_appeal", FAILURE),  # its reason is not offered in this queue
        ("a_check_not_known", FAILURE),
    ]
    offered = ["R-PAGES", "R-TOC", "R-SEVERAL-SUBJECTS", "R-UNREADABLE"]
    assert suggested_reasons(results, offered) == {
        "R-PAGES": ["page_numbering"],
        "R-UNREADABLE": ["readable", "encryption"],
    }
    assert suggested_reasons(results, []) == {}


def test_every_reason_a_check_suggests_is_a_registry_reason_of_the_catalogue_and_every_check_has_a_name(app):
    from backoffice.models import Reason
    from backoffice.screening.checks import DOCUMENT_CHECKS
    from backoffice.workflows.review_aids import CHECK_NAMES, REASONS_FOR_CHECKS

    catalogue = set(db.session.scalars(select(Reason.code).where(Reason.used_by == ReasonUse.REGISTRY)))
    assert set(REASONS_FOR_CHECKS.values()) <= catalogue
    codes = {importlib.import_module(check.__module__).CODE for check in DOCUMENT_CHECKS}
    assert set(REASONS_FOR_CHECKS) <= set(CHECK_NAMES) and codes | {"proof_of_service"} <= set(CHECK_NAMES)


def test_the_pages_a_check_names_are_read_from_its_details_whatever_their_shape():
    assert pages_named({"pages_without_number": [14, 12], "pages_out_of_sequence": [3, 12]}) == [3, 12, 14]
    assert pages_named({"subjects": [{"pages": [2]}, {"pages": [7, 8]}], "table_of_contents_page": 1}) == [
        1,
        2,
        7,
        8,
    ]
    assert pages_named({"file_numbers": {"TB5-12345": [4]}, "ucis": {"1234-5678": [9]}}) == [4, 9]
    for odd in (None, [], "pages 3", {"pages": "3"}, {"pages": [0, -2, True, "4", 10**12, 2.5, None]}):
        assert pages_named(odd) == []


# ---------------------------------------------------------------------------------------- the screen


def test_a_failed_page_numbering_check_pre_ticks_its_reason_as_a_suggestion_only(app, login_as):
    submission = disclosure_in_registry()
    clerk = login_as("clerk", "western")
    claimed_by(submission, clerk.user)
    page = page_of(clerk, DETAILS.format(submission.id))

    assert re.search(r'id="reason-R-PAGES"[^>]* checked data-suggested', page)
    assert "Suggested by the check: Page numbering" in text_of(page, "suggested-R-PAGES")
    # The table of contents passed and a page without text is only a warning: nothing else is ticked.
    assert re.findall(r'name="reason" value="([A-Z-]+)"[^>]* checked', page) == ["R-PAGES"]
    assert 'data-testid="suggested-R-TOC"' not in page
    assert "untick what does not apply" in page


def test_a_check_that_names_pages_links_each_to_the_viewer_at_that_page(app, login_as):
    submission = disclosure_in_registry()
    clerk = login_as("clerk", "western")
    page = page_of(clerk, DETAILS.format(submission.id))
    link = re.search(r'<a href="([^"]+)"\s+data-page-link[^>]*data-testid="page-link-1-12">page 12</a>', page)
    assert link, "no link to page 12"
    assert "page=12" in link.group(1) and "show=1" in link.group(1)
    assert 'data-testid="page-link-1-9"' in page  # the warning names page 9
    opened = page_of(clerk, link.group(1).replace("&amp;", "&"))
    assert re.search(r'<iframe id="pdf-viewer"[^>]*src="[^"]+#page=12"', opened)
    assert 'value="12" data-testid="page-number"' in opened


def test_odd_page_and_back_values_never_break_the_screen_nor_lead_elsewhere(app, login_as):
    submission = disclosure_in_registry()
    clerk = login_as("clerk", "western")
    for query in ("&page=abc", "&page=-3", "&page=0", "&page=100001", "&back=//evil.example/", "&back=x"):
        response = clerk.get(DETAILS.format(submission.id) + "&show=1" + query)
        assert response.status_code == 200, query
        assert 'name="back"' not in response.get_data(as_text=True)
    for query in ("&page=99999999999999999999", "&page=%00", "&back=%00"):  # refused before any view
        assert clerk.get(DETAILS.format(submission.id) + "&show=1" + query).status_code == 400
    # A queue page's address with names that are no filter (one of them url_for's own): the filters kept only.
    odd_queue = quote("/admin/registry_queue/?endpoint=x&id=3&_external=1&kind=disclosure", safe="")
    page = page_of(clerk, DETAILS.format(submission.id) + f"&back={odd_queue}")
    next_form = re.search(r'<form method="post" action="([^"]*)"[^>]*data-testid="next-item-form"', page)
    assert next_form.group(1) == "/admin/registry_queue/next/?kind=disclosure"
    beyond = page_of(clerk, DETAILS.format(submission.id) + "&show=1&page=400")
    assert re.search(r'<iframe id="pdf-viewer"[^>]*src="[^"]+#page=15"', beyond)  # the last page


def test_the_tab_names_the_file_number_and_the_state_in_the_page_language(app, login_as):
    submission = disclosure_in_registry()
    clerk = login_as("clerk", "western")
    url = DETAILS.format(submission.id)
    title = re.search(r"<title>(.*?)</title>", page_of(clerk, url), re.S).group(1)
    assert " ".join(title.split()) == f"{submission.case.file_number} · With registry — My Case back office"
    switch_to_french(clerk, url)
    title = re.search(r"<title>(.*?)</title>", page_of(clerk, url), re.S).group(1)
    assert title.startswith(f"{submission.case.file_number} · ") and "With registry" not in title


def test_the_proof_of_service_is_told_in_words_and_local_time_not_codes(app, login_as):
    proof = {
        "served_on": ["minister", "other_party"],
        "method": "courriel",
        "served_at": "2026-11-27T21:42:00Z",
    }
    submission = create_submission(create_filer("western", "RPD"), proof_of_service=json.dumps(proof))
    clerk = login_as("clerk", "western")
    url = DETAILS.format(submission.id)

    english = text_of(page_of(clerk, url), "proof-of-service")
    switch_to_french(clerk, url)
    french = text_of(page_of(clerk, url), "proof-of-service")

    assert english.startswith("Served on the Minister and the other party, 2026-11-27 13:42 Pacific Time")
    assert french.startswith("Signifié au ministre et à l'autre partie, 2026-11-27 13:42 heure du Pacifique")
    assert "courriel" in english and "minister" not in french and "2026-11-27T" not in english + french


def test_no_claim_button_on_work_someone_else_holds_only_who_and_since_when(app, login_as):
    submission = disclosure_in_registry()
    holder = create_staff("clerk", "western", full_name="Marc Campbell")
    claimed_by(submission, holder)
    clerk = login_as("clerk", "western")
    page = page_of(clerk, DETAILS.format(submission.id))
    held = text_of(page, "holder")
    assert held.startswith("Held by Marc Campbell since ")
    assert re.fullmatch(r"Held by Marc Campbell since \d{2}:\d{2}", held), held  # today: the time alone
    assert 'data-testid="claim"' not in page and ">Claim<" not in page
    assert 'data-testid="reject-form"' not in page and 'data-testid="accept-form"' not in page


def test_the_decision_forms_carry_the_queue_the_clerk_came_from_and_a_then_next_button(app, login_as):
    submission = disclosure_in_registry()
    clerk = login_as("clerk", "western")
    claimed_by(submission, clerk.user)
    back = "/admin/registry_queue/?kind=disclosure"
    page = page_of(
        clerk, DETAILS.format(submission.id) + "&back=%2Fadmin%2Fregistry_queue%2F%3Fkind%3Ddisclosure"
    )
    for form in ("accept-form", "reject-form"):
        markup = page.split(f'data-testid="{form}"')[1].split("</form>")[0]
        assert f'name="back" value="{back}"' in markup
        assert re.search(r'<button[^>]*name="then" value="next"', markup)
    assert 'action="/admin/registry_queue/next/?kind=disclosure"' in page


# ------------------------------------------------------------------------------- the rejection, confirmed


def rejections() -> list[Notification]:
    query = select(Notification).where(Notification.template == "submission_rejected")
    return list(db.session.scalars(query))


def confirm_rejection(client, submission: Submission, **fields):
    token = csrf_token_from(page_of(client, DETAILS.format(submission.id)))
    data = {"csrf_token": token, "id": submission.id, "decision": "reject", **fields}
    return client.post("/admin/submission/reject/confirm/", data=data)


def test_the_rejection_shows_counsel_s_email_in_french_and_sends_nothing_before_the_final_button(
    app, login_as
):
    submission = disclosure_in_registry(Language.FRENCH)
    clerk = login_as("clerk", "western")
    claimed_by(submission, clerk.user)
    note = "Veuillez numéroter les pages 12 à 14."
    response = confirm_rejection(clerk, submission, reason=["R-PAGES", "R-TOC"], note=note, then="next")
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    email = text_of(page, "email-text")
    assert email.startswith("Bonjour ") and "Le greffe a rejeté cette soumission" in email
    assert "Les pages de la communication de documents ne sont pas numérotées" in email and note in email
    assert "Soumission" in text_of(page, "email-subject") and "French" in text_of(page, "email-language")
    assert 'lang="fr"' in page
    # Nothing decided, nothing queued for counsel, the clerk still holds it.
    db.session.expire_all()
    assert db.session.get(Submission, submission.id).status is SubmissionStatus.WITH_REGISTRY
    assert db.session.get(Submission, submission.id).claimed_by_id == clerk.user.id
    assert rejections() == []
    assert db.session.scalar(select(func.count()).select_from(Decision)) == 0

    final = page.split('data-testid="send-rejection-form"')[1].split("</form>")[0]
    assert re.search(r'action="/admin/registry_queue/decide/"[^>]*data-testid="send-rejection-form"', page)
    assert 'name="then" value="next"' in final
    fields = dict(re.findall(r'name="(id|decision|note|csrf_token)" value="([^"]*)"', final))
    reasons = re.findall(r'name="reason" value="([^"]+)"', final)
    sent = clerk.post("/admin/registry_queue/decide/", data={**fields, "reason": reasons, "note": note})
    assert sent.status_code == 302
    db.session.expire_all()
    assert db.session.get(Submission, submission.id).status is SubmissionStatus.REJECTED
    [notification] = rejections()
    # What was shown is exactly what is sent.
    rendered = render_message(
        notification.template, notification.channel.value, notification.language, notification.values
    )
    assert " ".join(rendered.text.split()) == email


def test_the_preview_is_the_message_the_decision_queues_for_the_division_too(app):
    from tests.helpers import with_division

    submission = with_division(files=1, language=Language.FRENCH)
    member = create_staff("division_member", "western", "RPD")
    decisions.claim(submission.id, member)
    db.session.commit()
    reasons = chosen_reasons(["D-LATE"], ReasonUse.DIVISION)
    shown = rejection_preview(submission, ReasonUse.DIVISION, reasons, "Trop tard.")
    decisions.decide(submission.id, member, False, ["D-LATE"], "Trop tard.")
    db.session.commit()
    notification = db.session.scalar(select(Notification).where(Notification.template == "division_decision"))
    sent = render_message(notification.template, "email", notification.language, notification.values)
    assert shown == sent


@pytest.mark.parametrize(
    "fields, why",
    [
        ({"reason": []}, "Give at least one reason for the rejection."),
        ({"reason": ["D-LATE"]}, "Choose reasons from the catalogue for this queue."),
        ({"reason": ["R-PAGES", "R-PAGES-AND-MORE"]}, "Choose reasons from the catalogue for this queue."),
    ],
)
def test_a_rejection_to_confirm_without_a_proper_reason_goes_back_saying_why(app, login_as, fields, why):
    submission = disclosure_in_registry()
    clerk = login_as("clerk", "western")
    claimed_by(submission, clerk.user)
    response = confirm_rejection(clerk, submission, **fields)
    assert response.status_code == 302
    assert why in page_of(clerk, response.headers["Location"])


def test_only_the_holder_in_scope_may_see_a_rejection_to_confirm(app, login_as):
    submission = disclosure_in_registry()
    holder = login_as("clerk", "western")
    claimed_by(submission, holder.user)
    colleague = login_as("clerk", "western")
    refused = confirm_rejection(colleague, submission, reason=["R-PAGES"])
    assert refused.status_code == 302
    assert "Already claimed by" in page_of(colleague, refused.headers["Location"])
    assert (
        confirm_rejection(login_as("supervisor", "western"), submission, reason=["R-PAGES"]).status_code
        == 403
    )
    elsewhere = login_as("clerk", "central")
    token = csrf_token_from(page_of(elsewhere, "/admin/"))
    data = {"csrf_token": token, "id": submission.id, "reason": "R-PAGES"}
    assert elsewhere.post("/admin/submission/reject/confirm/", data=data).status_code == 404
    forged = holder.post("/admin/submission/reject/confirm/", data={"id": submission.id, "reason": "R-PAGES"})
    assert forged.status_code == 400
    for odd, status in (("abc", 404), ("99999999999999999999999", 404), ("1\x00", 400)):
        response = post_form(holder, "/admin/submission/reject/confirm/", id=odd, reason="R-PAGES")
        assert response.status_code == status, odd


# ---------------------------------------------------------------------------------------------- browser


def serious_violations(page) -> list[str]:
    """What axe-core finds serious or critical on the page (WCAG 2.1 AA)."""
    from axe_playwright_python.sync_playwright import Axe

    found = Axe().run(page).response["violations"]
    return [
        f"{v['id']}: {node['target']}"
        for v in found
        if v["impact"] in ("serious", "critical")
        for node in v["nodes"]
    ]


def in_viewport(page, testid: str) -> bool:
    box = page.get_by_test_id(testid).bounding_box()
    size = page.viewport_size
    return box is not None and box["y"] < size["height"] and box["y"] + min(box["height"], 40) > 0


def opened_by_a_clerk(live_server: str, browser, width: int = 1366, holding: bool = False):
    """A screened disclosure opened in Chromium by a clerk of its office (holding it, or not), signed in on the
    way; answers the submission, the clerk and the page."""
    submission = disclosure_in_registry()
    clerk = create_staff("clerk", "western", full_name="Claire Clerk")
    if holding:
        claimed_by(submission, clerk)
    page = browser.new_page(locale="en-CA", viewport={"width": width, "height": 768})
    page.goto(f"{live_server}{DETAILS.format(submission.id)}&show=1")
    sign_in_from(page, clerk.email, f"{live_server}/admin/submission/details/**")
    return submission, clerk, page


@pytest.mark.browser
def test_side_by_side_at_1366_the_decision_stays_in_view_while_the_page_scrolls(app, live_server, browser):
    submission, clerk, page = opened_by_a_clerk(live_server, browser, holding=True)

    viewer, panel = page.get_by_test_id("pdf-viewer").bounding_box(), page.get_by_test_id("decision-panel")
    assert in_viewport(page, "pdf-viewer") and in_viewport(page, "decision-panel")
    assert viewer["x"] + viewer["width"] <= panel.bounding_box()["x"]  # the document left, the decision right
    expect(page.get_by_test_id("jump-to-decision")).not_to_be_in_viewport()
    page.evaluate("window.scrollTo(0, 1500)")  # to the end of the timeline
    assert page.evaluate("window.scrollY") > 300
    assert in_viewport(page, "decision-panel")
    expect(panel.get_by_role("button", name="Accept to the division")).to_be_in_viewport()
    page.evaluate("window.scrollTo(0, 0)")
    assert serious_violations(page) == [], "\n".join(serious_violations(page))
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "review-screen-en.png"))

    page.get_by_test_id("language-switch").first.click()
    page.wait_for_load_state()
    expect(page.get_by_role("button", name="Accepter et transmettre à la section")).to_be_visible()
    expect(page).to_have_title(re.compile(re.escape(submission.case.file_number)))
    page.screenshot(path=str(ARTIFACTS / "review-screen-fr.png"))


@pytest.mark.browser
def test_stacked_at_1024_the_jump_link_goes_to_the_decision_in_one_step(app, live_server, browser):
    submission, clerk, page = opened_by_a_clerk(live_server, browser, width=1024)

    viewer = page.get_by_test_id("pdf-viewer").bounding_box()
    side = page.get_by_test_id("review-side").bounding_box()
    assert side["y"] >= viewer["y"] + viewer["height"]  # stacked: the checks and decision below the PDF
    assert not in_viewport(page, "decision-panel")
    page.get_by_test_id("jump-to-decision").click()
    expect(page.get_by_test_id("decision-panel")).to_be_in_viewport()
    expect(page.get_by_test_id("decision-panel")).to_be_focused()


@pytest.mark.browser
def test_a_page_named_by_a_check_opens_the_viewer_at_that_page(app, live_server, browser):
    submission, clerk, page = opened_by_a_clerk(live_server, browser)
    url = page.url

    with page.expect_response(lambda response: "/attachment/view/" in response.url):
        page.get_by_test_id("page-link-1-12").click()
    expect(page.get_by_test_id("pdf-viewer")).to_have_attribute("src", re.compile(r"#page=12$"))
    expect(page.get_by_test_id("page-number")).to_have_value("12")
    expect(page.get_by_test_id("review-announcer")).to_have_text("Page 12 of the PDF")
    assert page.url == url  # the viewer alone loaded again
    page.get_by_test_id("next-page").click()
    expect(page.get_by_test_id("pdf-viewer")).to_have_attribute("src", re.compile(r"#page=13$"))


@pytest.mark.browser
def test_a_clerk_claims_reads_the_checks_and_rejects_with_the_keyboard_alone(app, live_server, browser):
    submission, clerk, page = opened_by_a_clerk(live_server, browser)

    def tab_to(locator, most: int = 120) -> None:
        """Press Tab until `locator` has the focus, and check that the focus is drawn."""
        for _ in range(most):
            if locator.evaluate("element => element === document.activeElement"):
                outline = locator.evaluate("element => getComputedStyle(element).outlineStyle")
                assert outline != "none", "the focus is not visible"
                return
            page.keyboard.press("Tab")
        raise AssertionError("never reached with Tab")

    tab_to(page.get_by_test_id("claim"))
    page.keyboard.press("Enter")
    page.wait_for_load_state()
    expect(page.get_by_test_id("holder")).to_contain_text("Held by you (Claire Clerk)")

    tab_to(page.get_by_test_id("page-link-1-12"))  # reading the checks on the way
    with page.expect_navigation():  # the failed file was not open: the screen opens it at page 12
        page.keyboard.press("Enter")
    page.wait_for_load_state()
    expect(page.get_by_test_id("pdf-viewer")).to_have_attribute("src", re.compile(r"#page=12$"))
    page.keyboard.press("Alt+Shift+KeyJ")
    expect(page.get_by_test_id("page-number")).to_have_value("13")

    page.keyboard.press("Alt+Shift+KeyR")  # to the reasons: the suggested one has the focus
    suggested = page.get_by_label("The pages of the disclosure are not numbered consecutively.")
    expect(suggested).to_be_focused()
    expect(suggested).to_be_checked()
    expect(page.get_by_test_id("review-announcer")).to_contain_text("Reasons for the rejection")
    tab_to(page.get_by_label("The disclosure holds several documents but has no table of contents."))
    page.keyboard.press("Space")  # and the table of contents too
    tab_to(page.get_by_label("Note to counsel (optional)"))
    page.keyboard.type("Number pages 12 to 14. Press A: no shortcut while typing.")
    page.keyboard.press("Alt+Shift+KeyA")  # typing: nothing happens
    expect(page.get_by_test_id("submission-status")).to_have_text("With registry")
    tab_to(page.get_by_role("button", name="Reject", exact=True))
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/admin/submission/reject/confirm/")
    expect(page.get_by_test_id("send-rejection")).to_be_focused()
    expect(page.get_by_test_id("email-text")).to_contain_text("Number pages 12 to 14.")
    assert serious_violations(page) == [], "\n".join(serious_violations(page))
    page.keyboard.press("Enter")
    page.wait_for_url(f"{live_server}/admin/submission/details/**")
    expect(page.get_by_test_id("submission-status")).to_have_text("Rejected")
    expect(page.get_by_test_id("decisions")).to_contain_text("R-PAGES")


@pytest.mark.browser
def test_reject_and_open_the_next_while_a_stale_tab_is_told_what_happened_and_the_timeline_folds(
    app, live_server, browser
):
    first, clerk, page = opened_by_a_clerk(live_server, browser)
    second = disclosure_in_registry()  # received after the first: the next in the queue
    colleague = create_staff("clerk", "western", full_name="Marc Campbell")
    stale = browser.new_page(locale="en-CA", viewport={"width": 1366, "height": 768})
    stale.goto(f"{live_server}{DETAILS.format(first.id)}")
    sign_in_from(stale, colleague.email, f"{live_server}/admin/submission/details/**")
    expect(stale.get_by_test_id("claim")).to_be_visible()  # a tab left open on work no one holds yet

    page.goto(f"{live_server}{DETAILS.format(first.id)}&show=1")  # a second view, folded with the first
    expect(page.get_by_test_id("pdf-viewer")).to_be_visible()
    page.get_by_test_id("claim").click()
    expect(page.get_by_test_id("holder")).to_contain_text("Held by you (Claire Clerk)")
    expect(page.get_by_label("The pages of the disclosure are not numbered consecutively.")).to_be_checked()
    page.get_by_test_id("reject-and-next").click()
    expect(page.get_by_test_id("email-text")).to_contain_text(first.case.file_number)
    page.get_by_test_id("send-rejection").click()

    page.wait_for_url(re.compile(rf"/admin/submission/details/\?id={second.id}\b"))
    expect(page.get_by_test_id("holder")).to_contain_text("Held by you (Claire Clerk)")  # claimed for her
    stale.get_by_test_id("claim").click()
    expect(stale.get_by_role("alert")).to_contain_text(
        re.compile(r"Already rejected by Claire Clerk at \d\d:\d\d")
    )
    page.goto(f"{live_server}{DETAILS.format(first.id)}")
    views = page.get_by_test_id("timeline-attachment.viewed").filter(has=page.get_by_test_id("repeat-count"))
    expect(views).to_contain_text("Claire Clerk")
    expect(views.get_by_test_id("repeat-count")).to_have_text(re.compile(r"[2-9] times"))
    rejected = page.get_by_test_id("timeline-submission.reject_by_registry")
    expect(rejected).to_contain_text("The pages of the disclosure are not numbered consecutively.")
    expect(rejected).not_to_contain_text("R-PAGES")
