"""The work queues through their pages: what each lists, the claims, and decisions from the submission page."""

import re
from datetime import timedelta

from sqlalchemy import select

from backoffice.extensions import db
from backoffice.models import (
    AuditEvent,
    CheckOutcome,
    Notification,
    Submission,
    SubmissionStatus,
)
from backoffice.workflows import decisions, submissions
from tests.factories import create_filer, create_staff, create_submission, pdf_bytes, with_registry
from tests.helpers import (
    add_results,
    count_statements,
    csrf_token_from,
    one_of_many_queued,
    post_and_follow,
    rows_of,
)

QUEUE = "/admin/registry_queue/"


def test_the_registry_queue_lists_the_offices_screened_submissions_oldest_first_with_their_counts(
    app, login_as
):
    first, second, third = with_registry(), with_registry(), with_registry()
    add_results(second, failures=2, warnings=1)
    add_results(third, failures=0, warnings=3)
    central = with_registry("central")
    clerk = login_as("clerk", "western")

    html = clerk.get(QUEUE).get_data(as_text=True)
    assert rows_of(html) == [first.id, second.id, third.id]
    row = html[html.index(f'data-submission="{second.id}"') :]
    assert re.search(r'data-testid="failed">2<', row) and re.search(r'data-testid="warnings">1<', row)
    assert central.case.file_number not in html

    assert rows_of(clerk.get(f"{QUEUE}?failed=1").get_data(as_text=True)) == [second.id]
    assert rows_of(clerk.get(f"{QUEUE}?q={third.case.file_number}").get_data(as_text=True)) == [third.id]
    by_counsel = clerk.get(QUEUE, query_string={"q": first.counsel.full_name}).get_data(as_text=True)
    assert rows_of(by_counsel) == [first.id]
    assert rows_of(clerk.get(f"{QUEUE}?kind=disclosure").get_data(as_text=True)) == []
    assert rows_of(clerk.get(f"{QUEUE}?late=1").get_data(as_text=True)) == []
    assert rows_of(clerk.get(f"{QUEUE}?resubmissions=1").get_data(as_text=True)) == []
    decisions.claim(first.id, clerk.user)
    db.session.commit()
    assert rows_of(clerk.get(f"{QUEUE}?holder=me").get_data(as_text=True)) == [first.id]
    assert rows_of(clerk.get(f"{QUEUE}?holder=unassigned").get_data(as_text=True)) == [second.id, third.id]

    central_clerk = login_as("clerk", "central")
    assert rows_of(central_clerk.get(QUEUE).get_data(as_text=True)) == [central.id]
    national = login_as("supervisor", "national")
    assert set(rows_of(national.get(QUEUE).get_data(as_text=True))) == {
        first.id,
        second.id,
        third.id,
        central.id,
    }
    office_id = central.office_id
    assert rows_of(national.get(f"{QUEUE}?office={office_id}").get_data(as_text=True)) == [central.id]


def test_a_division_member_is_refused_the_registry_queue_and_a_clerk_the_division_queue(app, login_as):
    assert login_as("division_member", "western", "RPD").get(QUEUE).status_code == 403
    assert login_as("clerk", "western").get("/admin/division_queue/").status_code == 403
    assert login_as("admin", "western").get(QUEUE).status_code == 403
    refusals = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "permission.refused")).all()
    assert len(refusals) == 3


def test_the_number_of_statements_for_the_queue_does_not_grow_with_its_rows(app, login_as):
    clerk = login_as("clerk", "western")
    holder = create_staff("clerk", "western")
    for number in range(40):
        one_of_many_queued(number, holder)
        if number == 4:
            with_five = count_statements(clerk, QUEUE)
    with_forty = count_statements(clerk, QUEUE)
    assert len(rows_of(clerk.get(QUEUE).get_data(as_text=True))) == 40
    assert with_five == with_forty


def test_a_claim_is_refused_to_a_second_clerk_and_next_claims_the_oldest_unclaimed(app, login_as):
    first, second, _third = with_registry(), with_registry(), with_registry()
    clerk = login_as("clerk", "western")
    other = login_as("clerk", "western")

    page = post_and_follow(clerk, f"{QUEUE}claim/", id=second.id)
    assert f"/admin/submission/details/?id={second.id}" in page.request.url
    assert "You hold this submission now." in page.get_data(as_text=True)
    refused = post_and_follow(other, f"{QUEUE}claim/", id=second.id).get_data(as_text=True)
    assert f"Already claimed by {clerk.user.full_name} at " in refused
    db.session.expire_all()
    assert db.session.get(Submission, second.id).claimed_by_id == clerk.user.id

    opened = post_and_follow(other, f"{QUEUE}next/")
    assert f"/admin/submission/details/?id={first.id}" in opened.request.url
    db.session.expire_all()
    assert db.session.get(Submission, first.id).claimed_by_id == other.user.id

    released = post_and_follow(clerk, f"{QUEUE}release/", id=second.id).get_data(as_text=True)
    assert "The submission is back in the queue." in released
    db.session.expire_all()
    assert db.session.get(Submission, second.id).claimed_by_id is None


def test_a_clerk_out_of_scope_cannot_claim_and_a_supervisor_cannot_claim(app, login_as):
    western = with_registry("western")
    assert post_and_follow(login_as("clerk", "central"), f"{QUEUE}claim/", id=western.id).status_code == 404
    assert (
        post_and_follow(login_as("supervisor", "western"), f"{QUEUE}claim/", id=western.id).status_code == 403
    )


def test_a_rejection_with_two_reasons_and_a_note_from_the_submission_page_tells_counsel(app, login_as):
    submission = with_registry()
    clerk = login_as("clerk", "western")
    post_and_follow(clerk, f"{QUEUE}claim/", id=submission.id)
    details = clerk.get(f"/admin/submission/details/?id={submission.id}").get_data(as_text=True)
    assert 'value="R-PAGES"' in details and "RPD Rules, rule 31" in details
    assert "D-LATE" not in details  # the division's reasons are not registry's

    page = clerk.post(
        f"{QUEUE}decide/",
        data={
            "csrf_token": csrf_token_from(details),
            "id": submission.id,
            "decision": "reject",
            "reason": ["R-PAGES", "R-TOC"],
            "note": "Number the pages.",
        },
        follow_redirects=True,
    ).get_data(as_text=True)
    assert "The submission is rejected; counsel is told." in page
    assert 'data-testid="submission-status">Rejected<' in page
    assert "Number the pages." in page and "R-TOC" in page
    message = db.session.scalar(select(Notification).where(Notification.template == "submission_rejected"))
    assert [reason["code"] for reason in message.values["reasons"]] == ["R-PAGES", "R-TOC"]
    assert message.values["note"] == "Number the pages."


def test_accepted_to_the_division_it_reaches_the_division_queue_of_that_office(app, login_as):
    submission = with_registry("western", "RPD")
    clerk = login_as("clerk", "western")
    post_and_follow(clerk, f"{QUEUE}claim/", id=submission.id)
    page = post_and_follow(clerk, f"{QUEUE}decide/", id=submission.id, decision="accept").get_data(
        as_text=True
    )
    assert "The submission is accepted." in page
    db.session.expire_all()
    assert db.session.get(Submission, submission.id).status is SubmissionStatus.WITH_DIVISION

    assert (
        rows_of(login_as("division_member", "western", "IAD").get("/admin/division_queue/").get_data(True))
        == []
    )
    assert (
        rows_of(login_as("division_member", "central", "RPD").get("/admin/division_queue/").get_data(True))
        == []
    )
    member = login_as("division_member", "western", "RPD")
    assert rows_of(member.get("/admin/division_queue/").get_data(as_text=True)) == [submission.id]
    post_and_follow(member, "/admin/division_queue/claim/", id=submission.id)
    details = member.get(f"/admin/submission/details/?id={submission.id}").get_data(as_text=True)
    assert "D-LATE" in details and ">Accept<" in details
    post_and_follow(member, "/admin/division_queue/decide/", id=submission.id, decision="accept")
    db.session.expire_all()
    assert db.session.get(Submission, submission.id).status is SubmissionStatus.ACCEPTED
    notice = db.session.scalar(select(Notification).where(Notification.template == "division_decision"))
    assert notice.values["accepted"] is True


def test_the_inline_pdf_view_is_sandboxed_audited_and_only_in_scope(app, login_as):
    content = pdf_bytes(2)
    submission = create_submission(create_filer("western"), files=[("exhibit.pdf", content)])
    clerk = login_as("clerk", "western")
    response = clerk.get(f"/admin/submission/attachment/view/?id={submission.id}&position=1")
    assert response.status_code == 200
    assert response.data == content
    assert response.headers["Content-Type"] == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("inline")
    # No script runs in it, and only a page of this site may frame it.
    assert response.headers["Content-Security-Policy"] == "sandbox; frame-ancestors 'self'"
    assert response.headers["X-Frame-Options"] == "SAMEORIGIN"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"
    viewed = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "attachment.viewed"))
    assert viewed.actor_id == clerk.user.id
    download = clerk.get(f"/admin/submission/attachment/?id={submission.id}&position=1")
    assert download.headers["Content-Disposition"].startswith("attachment")
    assert download.headers["Content-Security-Policy"] == "sandbox"
    assert download.headers["X-Frame-Options"] == "DENY"

    central = login_as("clerk", "central")
    assert central.get(f"/admin/submission/attachment/view/?id={submission.id}&position=1").status_code == 404
    assert clerk.get(f"/admin/submission/attachment/view/?id={submission.id}&position=9").status_code == 404


def test_the_submission_page_shows_the_first_clean_pdf_in_its_viewer_or_the_one_asked_for(app, login_as):
    files = [("exhibit-1.pdf", pdf_bytes(1)), ("exhibit-2.pdf", pdf_bytes(2))]
    submission = create_submission(create_filer("western"), files=files)
    clerk = login_as("clerk", "western")
    viewer = re.compile(r'<iframe id="pdf-viewer"[^>]*src="([^"]+)"[^>]*title="([^"]+)"', re.S)

    def shown(query: str = "") -> list[tuple[str, str]]:
        return viewer.findall(
            clerk.get(f"/admin/submission/details/?id={submission.id}{query}").get_data(True)
        )

    # Not screened yet: nothing opens by itself; a file opens when asked for.
    assert shown() == []
    assert shown("&show=2") == [
        (f"/admin/submission/attachment/view/?id={submission.id}&amp;position=2", "The PDF exhibit-2.pdf")
    ]
    # Screened: the first file the checks found readable and safe; one that failed only when asked for.
    first, second = submission.attachments
    first.screening_outcome, second.screening_outcome = CheckOutcome.FAILURE, CheckOutcome.WARNING
    db.session.commit()
    assert [title for _src, title in shown()] == ["The PDF exhibit-2.pdf"]
    assert [title for _src, title in shown("&show=1")] == ["The PDF exhibit-1.pdf"]
    assert [title for _src, title in shown("&show=7")] == ["The PDF exhibit-2.pdf"]
    page = clerk.get(f"/admin/submission/details/?id={submission.id}").get_data(as_text=True)
    assert 'data-testid="show-pdf-1"' in page and 'data-testid="show-pdf-2"' not in page
    # Opening the page shows nothing by itself: only the viewer's own request, made by the browser, is audited.
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "attachment.viewed")) is None


def test_the_age_filter_keeps_what_was_received_at_least_so_many_days_ago(app, login_as):
    old, recent = with_registry(), with_registry()
    old.received_at = old.received_at - timedelta(days=5)
    db.session.commit()
    clerk = login_as("clerk", "western")
    assert rows_of(clerk.get(f"{QUEUE}?older_than=3").get_data(as_text=True)) == [old.id]
    assert rows_of(clerk.get(f"{QUEUE}?older_than=0").get_data(as_text=True)) == [old.id, recent.id]


def test_a_search_finds_parts_of_file_numbers_and_names_and_whole_ucis_in_this_queue_only(app, login_as):
    tremblay = with_registry(file_number="VB5-70123", uci="1234-5678")
    tremblay.counsel.full_name = "Marie-Ève Tremblay"
    other = with_registry(file_number="VB5-80456", uci="12-3456-7890")
    elsewhere = with_registry("central", file_number="TB5-70124")
    elsewhere.counsel.full_name = "Luc Tremblay"
    # The same counsel and case, but in the division's queue: not in the registry's.
    filer = tremblay.portal_account
    filer.case = tremblay.case
    moved = create_submission(filer)
    for transition in ("start_screening", "finish_screening"):
        submissions.fire(moved, transition)
    clerk = login_as("clerk", "western")
    decisions.claim(moved.id, clerk.user)
    decisions.decide(moved.id, clerk.user, True, [])
    db.session.commit()

    def found(words: str) -> list[int]:
        return rows_of(clerk.get(QUEUE, query_string={"q": words}).get_data(as_text=True))

    assert found("701") == [tremblay.id]  # part of a file number
    assert found("tremb") == [tremblay.id]  # part of a name, whatever the case
    assert found("Ève") == [tremblay.id]
    assert found("12345678") == found("1234-5678") == [tremblay.id]  # a whole UCI, with or without dashes
    assert found("1234567890") == [other.id]
    assert found("5678") == []  # part of a UCI finds nothing
    assert found("VB5") == [tremblay.id, other.id]
    assert found("zzz") == []
