"""Working through a queue: decide and open the next, back to the queue page one came from, a stale tab that says
what happened, rows that say what each submission is, searches that stay in scope, a timeline that folds repeats."""

import re
from datetime import date, timedelta
from urllib.parse import parse_qs, urlsplit
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.models import Decision, Submission, SubmissionStatus
from backoffice.models.types import utcnow
from backoffice.reports.queues import QueueFilters, queue_query
from backoffice.workflows import decisions
from backoffice.workflows.audit import record_event
from backoffice.workflows.queue_actions import local_time
from tests.factories import create_staff, with_registry
from tests.helpers import add_results, page_of, post_form, rows_of, sign_in_from, switch_to_french, text_of

QUEUE = "/admin/registry_queue/"
VANCOUVER = ZoneInfo("America/Vancouver")


def details_of(response) -> tuple[int, str | None]:
    """The submission a redirect opens, and the `back` it keeps."""
    parts = urlsplit(response.headers["Location"])
    assert parts.path == "/admin/submission/details/", response.headers["Location"]
    query = parse_qs(parts.query)
    return int(query["id"][0]), query.get("back", [None])[0]


def decide(client, submission: Submission, **form):
    """Claim the submission, then accept it from its page (with `then` and `back` as the page posts them)."""
    decisions.claim(submission.id, client.user)
    db.session.commit()
    return post_form(client, f"{QUEUE}decide/", id=submission.id, decision="accept", **form)


def flashed(client) -> str:
    return page_of(client, "/admin/")


# ------------------------------------------------------------------------------------------ decide and next


def test_deciding_then_next_opens_the_oldest_unclaimed_submission_of_the_same_filter(app, login_as):
    current, taken, not_failed, on_hold, wanted, newer = (with_registry() for _ in range(6))
    for submission in (current, taken, on_hold, wanted, newer):
        add_results(submission, failures=1, warnings=0)
    colleague = create_staff("clerk", "western")
    decisions.claim(taken.id, colleague)
    decisions.claim(on_hold.id, colleague)
    decisions.put_on_hold(on_hold.id, colleague, "Waiting for the interpreter.")
    db.session.commit()
    clerk = login_as("clerk", "western")
    back = f"{QUEUE}?failed=1&page=1"

    response = decide(clerk, current, then="next", back=back)
    assert response.status_code == 302
    assert details_of(response) == (wanted.id, back)
    db.session.expire_all()
    assert db.session.get(Submission, current.id).status is SubmissionStatus.WITH_DIVISION
    assert db.session.get(Submission, wanted.id).claimed_by_id == clerk.user.id  # claimed, ready to decide
    assert db.session.get(Submission, not_failed.id).claimed_by_id is None
    assert "The submission is accepted." in flashed(clerk)


def test_deciding_then_next_follows_the_order_the_clerk_sorted_the_queue_in(app, login_as):
    current, later, none, sooner = (with_registry() for _ in range(4))
    later.deadline_on, sooner.deadline_on = date(2027, 5, 1), date(2027, 4, 1)
    db.session.commit()
    clerk = login_as("clerk", "western")
    back = f"{QUEUE}?sort=deadline"

    assert details_of(decide(clerk, current, then="next", back=back)) == (sooner.id, back)  # not `later`


def test_holding_or_noting_on_the_submission_page_keeps_the_way_back_to_the_queue(app, login_as):
    submission = with_registry()
    clerk = login_as("clerk", "western")
    decisions.claim(submission.id, clerk.user)
    db.session.commit()
    back = f"{QUEUE}?failed=1&page=2"
    page = f"/admin/submission/details/?id={submission.id}"

    noted = post_form(clerk, "/admin/submission/note/", page, id=submission.id, note="Seen.", back=back)
    held = post_form(clerk, "/admin/submission/hold/", page, id=submission.id, note="Waiting.", back=back)
    elsewhere = post_form(
        clerk, "/admin/submission/note/", page, id=submission.id, note="x", back="//evil.example/"
    )

    assert details_of(noted) == (submission.id, back) and details_of(held) == (submission.id, back)
    assert details_of(elsewhere) == (submission.id, None)


def test_deciding_then_next_says_so_when_nothing_is_left_in_the_filter(app, login_as):
    only, elsewhere_kind = with_registry(), with_registry()
    add_results(only, failures=1, warnings=0)
    clerk = login_as("clerk", "western")
    back = f"{QUEUE}?failed=1"

    response = decide(clerk, only, then="next", back=back)
    assert response.headers["Location"] == back
    page = page_of(clerk, back)
    assert "Nothing left in this queue." in page
    assert rows_of(page) == []
    db.session.expire_all()
    assert db.session.get(Submission, elsewhere_kind.id).claimed_by_id is None


def test_the_next_submission_is_one_the_user_may_work_in_their_scope(app, login_as):
    central = with_registry("central")
    western = with_registry("western")
    clerk = login_as("clerk", "western")
    waiting = queue_query(SubmissionStatus.WITH_REGISTRY, QueueFilters(), clerk.user)
    assert decisions.next_to_work(waiting, clerk.user) == western
    supervisor = create_staff("supervisor", "national")
    everywhere = queue_query(SubmissionStatus.WITH_REGISTRY, QueueFilters(), supervisor)
    assert decisions.next_to_work(everywhere, supervisor) is None  # supervisors move work, they claim none
    assert central.status is SubmissionStatus.WITH_REGISTRY


def test_a_decision_goes_back_to_the_queue_page_it_came_from_with_its_filters_and_page(app, login_as):
    submission = with_registry()
    clerk = login_as("clerk", "western")
    back = f"{QUEUE}?kind=written_submission&sort=deadline&page=2"
    assert decide(clerk, submission, back=back).headers["Location"] == back


def test_the_queue_rows_and_the_claim_carry_the_queue_page_back(app, login_as):
    first, second = with_registry(), with_registry()
    clerk = login_as("clerk", "western")
    page = page_of(clerk, f"{QUEUE}?holder=unassigned")
    link = re.search(rf'href="([^"]*details/\?id={first.id}[^"]*)"', page).group(1).replace("&amp;", "&")
    assert parse_qs(urlsplit(link).query)["back"] == [f"{QUEUE}?holder=unassigned"]

    response = post_form(clerk, f"{QUEUE}claim/", page=QUEUE, id=second.id, back=f"{QUEUE}?holder=unassigned")
    assert details_of(response) == (second.id, f"{QUEUE}?holder=unassigned")


@pytest.mark.parametrize(
    "back",
    [
        "https://evil.example/admin/registry_queue/",
        "//evil.example/admin/registry_queue/",
        "///evil.example/admin/registry_queue/",
        "/admin/division_queue/",
        "/admin/registry_queue/../division_queue/",
        "/admin/registry_queue/claim/",
        "/admin/registry_queue/?q=%00",
        "/admin/registry_queue/?q=a%0d%0aSet-Cookie:x=1",
        "/\\evil.example/",
        "javascript:alert(1)",
        "",
    ],
)
def test_an_unsafe_back_is_ignored_and_the_queue_is_shown(app, login_as, back):
    submission = with_registry()
    clerk = login_as("clerk", "western")
    assert decide(clerk, submission, back=back).headers["Location"] == QUEUE


def test_a_back_holding_a_nul_byte_is_refused_before_anything_is_decided(app, login_as):
    submission = with_registry()
    clerk = login_as("clerk", "western")
    assert decide(clerk, submission, back=f"{QUEUE}\x00").status_code == 400
    db.session.expire_all()
    assert db.session.get(Submission, submission.id).status is SubmissionStatus.WITH_REGISTRY


# ------------------------------------------------------------------------------------------------ stale tabs


def stale_decision(client, submission: Submission) -> str:
    """Reject from a tab opened before a colleague acted: the page the user lands on."""
    return post_form(
        client, f"{QUEUE}decide/", id=submission.id, decision="reject", reason="R-TOC", follow_redirects=True
    ).get_data(as_text=True)


def test_a_stale_tab_says_who_rejected_the_submission_and_when(app, login_as):
    submission = with_registry()
    clerk = login_as("clerk", "western")
    colleague = create_staff("clerk", "western", full_name="Marc Campbell")
    decisions.claim(submission.id, colleague)
    decision = decisions.decide(submission.id, colleague, False, ["R-TOC"])
    db.session.commit()
    at = decision.decided_at.astimezone(VANCOUVER).strftime("%H:%M")  # the clerk's office's local time

    assert f"Already rejected by Marc Campbell at {at}." in stale_decision(clerk, submission)
    assert "not in your queue" not in stale_decision(clerk, submission)

    switch_to_french(clerk, f"/admin/submission/details/?id={submission.id}")
    french = stale_decision(clerk, submission)
    assert '<html lang="fr"' in french
    assert re.search(rf"Marc Campbell[^<]*{at}", french)  # the words: test_i18n checks the catalogue


def test_a_stale_tab_says_who_accepted_it_to_the_division_and_when(app, login_as):
    submission = with_registry()
    clerk = login_as("clerk", "western")
    colleague = create_staff("clerk", "western", full_name="Marc Campbell")
    decisions.claim(submission.id, colleague)
    decision = decisions.decide(submission.id, colleague, True, [])
    db.session.commit()
    at = decision.decided_at.astimezone(VANCOUVER).strftime("%H:%M")
    page = post_form(clerk, f"{QUEUE}claim/", id=submission.id, follow_redirects=True).get_data(as_text=True)
    assert f"Already accepted to the division by Marc Campbell at {at}." in page


def test_a_stale_tab_says_who_claimed_the_submission_and_when(app, login_as):
    submission = with_registry()
    clerk = login_as("clerk", "western")
    colleague = create_staff("clerk", "western", full_name="Marc Campbell")
    decisions.claim(submission.id, colleague)
    db.session.commit()
    at = db.session.get(Submission, submission.id).claimed_at.astimezone(VANCOUVER).strftime("%H:%M")

    assert f"Already claimed by Marc Campbell at {at}." in stale_decision(clerk, submission)
    released = post_form(clerk, f"{QUEUE}release/", id=submission.id, follow_redirects=True)
    assert f"Already claimed by Marc Campbell at {at}." in released.get_data(as_text=True)
    switch_to_french(clerk, f"/admin/submission/details/?id={submission.id}")
    assert re.search(rf"Marc Campbell[^<]*{at}", stale_decision(clerk, submission))
    db.session.expire_all()
    assert db.session.scalar(select(Decision).where(Decision.submission_id == submission.id)) is None


def test_a_time_of_another_day_gives_the_day_too(app, login_as):
    clerk = create_staff("clerk", "western")
    national = create_staff("supervisor", "national")
    with app.test_request_context():
        instant = utcnow() - timedelta(days=3)
        assert local_time(instant, clerk) == instant.astimezone(VANCOUVER).strftime("%Y-%m-%d %H:%M")
        eastern = instant.astimezone(ZoneInfo("America/Toronto")).strftime("%Y-%m-%d %H:%M")
        assert local_time(instant, national) == eastern


# ------------------------------------------------------------------------------------------------ the rows


def test_each_row_says_what_the_submission_is_and_names_people_not_addresses(app, login_as):
    submission = with_registry()
    submission.counsel.full_name = "Amélie Nguyen"
    submission.subject = "Disclosure of the country documents"
    submission.hearing_on, submission.deadline_on = date(2027, 3, 15), date(2027, 3, 5)
    submission.attachments[0].page_count = 12  # as screening counts them
    add_results(submission, failures=2, warnings=1)
    holder = create_staff("clerk", "western", full_name="Marc Campbell")
    decisions.claim(submission.id, holder)
    db.session.commit()
    clerk = login_as("clerk", "western")

    page = page_of(clerk, QUEUE)
    row = page[page.index(f'data-submission="{submission.id}"') :]
    row = row[: row.index("</tr>")]
    assert text_of(row, "counsel") == "Amélie Nguyen"
    assert text_of(row, "subject") == "Disclosure of the country documents"
    assert text_of(row, "kind") == submission.document_kind.label
    assert text_of(row, "files") == "1 file, 12 pages"
    assert text_of(row, "hearing") == "2027-03-15" and text_of(row, "deadline").startswith("2027-03-05")
    assert text_of(row, "failed") == "2" and text_of(row, "warnings") == "1"
    assert text_of(row, "holder") == "Marc Campbell"
    assert text_of(row, "received-eastern") and text_of(row, "received-local")
    assert holder.email not in page and submission.counsel.email not in page


def test_the_queue_sorts_by_deadline_and_the_sort_control_keeps_the_filters(app, login_as):
    later, none, sooner = with_registry(), with_registry(), with_registry()
    later.deadline_on, sooner.deadline_on = date(2027, 5, 1), date(2027, 4, 1)
    db.session.commit()
    clerk = login_as("clerk", "western")

    page = page_of(clerk, f"{QUEUE}?holder=unassigned")
    assert rows_of(page) == [later.id, none.id, sooner.id]  # received, oldest first
    link = re.search(r'href="([^"]*)" data-testid="sort-deadline"', page).group(1).replace("&amp;", "&")
    assert parse_qs(urlsplit(link).query) == {"holder": ["unassigned"], "sort": ["deadline"]}
    sorted_page = page_of(clerk, link)
    assert rows_of(sorted_page) == [sooner.id, later.id, none.id]  # no deadline last
    assert 'aria-current="true">Deadline, nearest first<' in sorted_page
    assert rows_of(page_of(clerk, f"{QUEUE}?sort=nonsense")) == [later.id, none.id, sooner.id]


# ------------------------------------------------------------------------------------------------ searches


def cases_listed(client, url: str, words: str) -> list[str]:
    """The file numbers of the cases in a list screen's rows, searched for `words`."""
    page = client.get(url, query_string={"search": words}).get_data(as_text=True)
    return re.findall(r'<td class="col-case">\s*([^<\s]+)', page)


def test_the_submissions_list_finds_file_numbers_counsel_and_ucis_within_scope_only(app, login_as):
    found = with_registry(file_number="VB5-70123", uci="1234-5678")
    found.counsel.full_name = "Marie-Ève Tremblay"
    with_registry(file_number="VB5-80456")
    central = with_registry("central", file_number="TB5-70124", uci="8765-4321")
    central.counsel.full_name = "Luc Tremblay"
    db.session.commit()
    clerk = login_as("clerk", "western")

    def search(words: str, client=clerk) -> list[str]:
        return cases_listed(client, "/admin/submission/", words)

    assert search("701") == search("tremb") == search("Ève") == ["VB5-70123"]
    assert search("12345678") == search("1234-5678") == ["VB5-70123"]  # a whole UCI, with or without dashes
    assert search("8765-4321") == search("TB5") == []  # another office's case and UCI
    assert sorted(search("VB5")) == sorted(search("a subject")) == ["VB5-70123", "VB5-80456"]

    central_clerk = login_as("clerk", "central")
    for words in ("VB5-70123", "Marie-Ève", "12345678"):
        assert search(words, central_clerk) == [], words
    assert search("Tremblay", central_clerk) == ["TB5-70124"]
    assert sorted(search("Tremblay", login_as("supervisor", "national"))) == ["TB5-70124", "VB5-70123"]


def test_the_messages_to_counsel_are_searched_by_counsel_file_number_and_message_within_scope(app, login_as):
    western = with_registry(file_number="VB5-11111")
    central = with_registry("central", file_number="TB5-22222")
    western.counsel.full_name, central.counsel.full_name = "Nadia Okafor", "Nadia Roy"
    db.session.commit()
    for submission in (western, central):
        colleague = create_staff("clerk", submission.office.code)
        decisions.claim(submission.id, colleague)
        decisions.decide(submission.id, colleague, False, ["R-TOC"])
        db.session.commit()
    clerk = login_as("clerk", "western")

    def search(words: str, client=clerk) -> list[str]:
        return cases_listed(client, "/admin/notification/", words)

    for words in ("okafor", "VB5-111", "Nadia"):  # the receipt and the rejection
        assert set(search(words)) == {"VB5-11111"} and len(search(words)) == 2, words
    assert search("rejected by registry") == search("rejetée") == ["VB5-11111"]  # the kind of message
    assert search("invitation") == search("Roy") == search("TB5-22222") == []
    assert search("VB5-11111", login_as("clerk", "central")) == []
    assert set(search("Nadia", login_as("clerk", "central"))) == {"TB5-22222"}


# ------------------------------------------------------------------------------------------------ timeline


def test_the_timeline_folds_repeated_views_names_people_and_labels_internal_notes(app, login_as):
    submission = with_registry()
    clerk = login_as("clerk", "western")
    clerk.user.full_name = "Marc Campbell"
    colleague = create_staff("clerk", "western", full_name="Julie Roy")
    db.session.commit()
    for _ in range(14):
        assert (
            clerk.get(f"/admin/submission/attachment/view/?id={submission.id}&position=1").status_code == 200
        )
    record_event("attachment.viewed", actor=colleague, record=submission, after={"attachment": "x"})
    record_event("attachment.viewed", actor=clerk.user, record=submission, after={"attachment": "x"})
    decisions.claim(submission.id, clerk.user)
    decisions.add_note(submission.id, clerk.user, "Call counsel about page 12.")
    supervisor = create_staff("supervisor", "western")
    decisions.reassign(submission.id, supervisor, colleague)
    db.session.commit()

    page = page_of(clerk, f"/admin/submission/details/?id={submission.id}")
    timeline = page[page.index('data-testid="timeline"') :]
    timeline = timeline[: timeline.index("</table>")]
    assert re.findall(r'data-testid="timeline-([a-z_.]+)"', timeline) == [
        "submission.received",
        "submission.start_screening",
        "submission.finish_screening",
        "attachment.viewed",  # 14 times by Marc Campbell, folded
        "attachment.viewed",  # Julie Roy
        "attachment.viewed",  # Marc Campbell again: not folded across someone else's
        "submission.claimed",
        "submission.note_added",
        "submission.reassigned",
    ]
    rows = re.findall(r"<tr data-testid=\"timeline-[^>]*>(.*?)</tr>", timeline, re.S)
    folded = " ".join(rows[3].split())
    assert "14 times" in folded and "Marc Campbell" in folded
    assert folded.count(" – ") == 1  # from the first view to the last
    assert "repeat-count" not in rows[4]
    assert "My Case portal" in rows[0] and "Automated screening" in rows[1]
    assert "Internal note" in rows[7] and "Call counsel about page 12." in rows[7]
    assert "Internal note" not in rows[6] and "table-warning" not in rows[6]
    assert "Marc Campbell → Julie Roy" in " ".join(rows[8].split())
    assert "@" not in timeline  # no email address anywhere


# ------------------------------------------------------------------------------------------------ in Chromium


@pytest.mark.browser
def test_a_clerk_sorts_the_queue_by_deadline_and_opens_a_row_that_keeps_the_way_back(
    app, live_server, browser
):
    from playwright.sync_api import expect

    from tests.helpers import PROJECT_ROOT

    clerk = create_staff("clerk", "western", full_name="Claire Clerk")
    later, sooner = with_registry(), with_registry()
    later.deadline_on, sooner.deadline_on = date(2027, 5, 1), date(2027, 4, 1)
    later.counsel.full_name = "Amélie Nguyen"
    db.session.commit()
    page = browser.new_page(locale="en-CA")
    page.goto(f"{live_server}{QUEUE}?holder=unassigned")
    sign_in_from(page, clerk.email, f"{live_server}{QUEUE}**")
    expect(page.get_by_test_id("queue-row").first).to_contain_text("Amélie Nguyen")

    page.get_by_test_id("sort-deadline").click()
    page.wait_for_url(re.compile(r".*sort=deadline.*"))
    assert "holder=unassigned" in page.url
    expect(page.get_by_test_id("queue-row").first).to_contain_text(sooner.case.file_number)
    page.screenshot(
        path=str(PROJECT_ROOT / "test-artifacts" / "queue-sorted-by-deadline.png"), full_page=True
    )

    page.get_by_test_id("open-submission").first.click()
    page.wait_for_url(f"{live_server}/admin/submission/details/**")
    back = parse_qs(urlsplit(page.url).query)["back"][0]
    assert back.startswith(QUEUE) and "sort=deadline" in back and "holder=unassigned" in back
