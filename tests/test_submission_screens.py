"""The staff screens of submissions: the scoped list, the details with received times and check results,
downloads, a supervisor's correction of a received time, the portal clients, and every list filter."""

import csv
import io
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select

from backoffice.admin.submissions import SubmissionView
from backoffice.devservices import sample_pdfs
from backoffice.extensions import db
from backoffice.models import (
    AuditEvent,
    CheckResultRecord,
    PortalClient,
    ReceivedTimeCorrection,
    Submission,
    SubmissionStatus,
    Timeliness,
)
from tests.factories import create_filer, create_portal_client, create_submission, office, pdf_bytes
from tests.helpers import csrf_token_from, fix_clock, page_of, switch_to_french, text_of

WORKED_EXAMPLE = datetime(2021, 4, 2, 5, 0, tzinfo=UTC)  # 01:00 Eastern, 22:00 the day before in Vancouver


def details_url(submission: Submission) -> str:
    return f"/admin/submission/details/?id={submission.id}"


def audit_events(action: str) -> list[AuditEvent]:
    return list(db.session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


def exported_subjects(client) -> set[str]:
    response = client.get("/admin/submission/export/csv/")
    assert response.status_code == 200, response.get_data(as_text=True)[-500:]
    return {row["Subject"] for row in csv.DictReader(io.StringIO(response.get_data(as_text=True)))}


# Scope: who sees which submissions.


@pytest.fixture
def submissions_everywhere(app) -> dict[str, Submission]:
    """One submission per place, each with a subject that names it."""
    places = {
        "western RPD": create_filer("western", "RPD"),
        "western IAD": create_filer("western", "IAD", appeal_filed_on=date(2026, 1, 12)),
        "central RPD": create_filer("central", "RPD"),
    }
    return {place: create_submission(account, subject=f"From {place}") for place, account in places.items()}


def assert_lists_exactly(client, everything: dict[str, Submission], visible: set[str]) -> None:
    listing = page_of(client, "/admin/submission/")
    for place, submission in everything.items():
        assert (submission.subject in listing) == (place in visible), place
    assert f"List ({len(visible)})" in listing
    assert exported_subjects(client) == {everything[place].subject for place in visible}


def test_a_western_clerk_lists_western_submissions_and_not_central_ones(login_as, submissions_everywhere):
    clerk = login_as("clerk", "western")
    assert_lists_exactly(clerk, submissions_everywhere, {"western RPD", "western IAD"})


def test_a_division_member_lists_only_the_submissions_of_their_division_in_their_region(
    login_as, submissions_everywhere
):
    rpd_member = login_as("division_member", "western", "RPD")
    assert_lists_exactly(rpd_member, submissions_everywhere, {"western RPD"})
    iad_submission = submissions_everywhere["western IAD"]
    assert rpd_member.get(details_url(iad_submission)).status_code == 404

    iad_member = login_as("division_member", "western", "IAD")
    assert_lists_exactly(iad_member, submissions_everywhere, {"western IAD"})
    assert iad_member.get(details_url(iad_submission)).status_code == 200


def test_a_central_clerk_opening_a_western_submission_by_its_url_gets_404_and_is_audited(
    login_as, submissions_everywhere
):
    western = submissions_everywhere["western RPD"]
    clerk = login_as("clerk", "central")

    response = clerk.get(details_url(western))

    assert response.status_code == 404
    assert western.subject not in response.get_data(as_text=True)
    [refusal] = audit_events("permission.refused")
    assert refusal.actor_id == clerk.user.id
    assert refusal.after["reason"] == "out_of_scope"
    assert (refusal.after["record_type"], refusal.after["record_id"]) == ("submissions", str(western.id))


def test_a_national_supervisor_lists_the_submissions_of_every_office(login_as, submissions_everywhere):
    supervisor = login_as("supervisor", "national")
    assert_lists_exactly(supervisor, submissions_everywhere, set(submissions_everywhere))
    for submission in submissions_everywhere.values():
        assert supervisor.get(details_url(submission)).status_code == 200


def test_the_list_shows_the_received_time_in_eastern_time(monkeypatch, login_as):
    fix_clock(monkeypatch, WORKED_EXAMPLE)
    create_submission(create_filer("western", "RPD"))
    listing = page_of(login_as("clerk", "western"), "/admin/submission/")
    assert "Received (Eastern)" in listing and "2021-04-02 01:00 Eastern Time" in listing  # the zone by name


# The details of a screened submission.


@pytest.fixture
def screened(app, monkeypatch, run_worker) -> Submission:
    """A Vancouver submission of the worked example: a numbered letter and a French notice of appeal."""
    fix_clock(monkeypatch, WORKED_EXAMPLE)
    account = create_filer("western", "RPD")
    submission = create_submission(
        account,
        files=[
            ("letter.pdf", sample_pdfs.numbered_document(3)),
            ("avis.pdf", sample_pdfs.notice_of_appeal("fr")),
        ],
        subject="Change of address",
    )
    run_worker()
    assert submission.status is SubmissionStatus.WITH_REGISTRY
    return submission


def test_the_details_show_the_received_time_in_eastern_time_and_in_vancouver_time(login_as, screened):
    page = page_of(login_as("clerk", "western"), details_url(screened))
    assert "2021-04-02 01:00" in text_of(page, "received-eastern")
    local = text_of(page, "received-local")
    assert local == "2021-04-01 22:00 Pacific Time"  # the zone's name, not its identifier


def test_the_details_show_each_attachment_with_its_page_count_and_its_check_results(login_as, screened):
    page = page_of(login_as("clerk", "western"), details_url(screened))

    letter, notice = text_of(page, "attachment-1"), text_of(page, "attachment-2")
    assert "letter.pdf" in letter and "3 pages" in letter
    assert "avis.pdf" in notice and "2 pages" in notice
    results = db.session.scalars(select(CheckResultRecord)).all()
    assert {result.attachment_id for result in results} == {item.id for item in screened.attachments}
    for result in results:
        card = letter if result.attachment_id == screened.attachments[0].id else notice
        assert result.message_en in card, result.code
    assert "Passed This document does not look like a notice of appeal." in letter
    assert "Failed This document looks like a notice of appeal (page 1)." in notice
    assert "Ce document" not in page


def test_the_check_results_read_in_french_after_switching_language(login_as, screened):
    clerk = login_as("clerk", "western")
    switch_to_french(clerk, details_url(screened))

    page = page_of(clerk, details_url(screened))

    assert 'lang="fr"' in page or "English" in page
    for result in db.session.scalars(select(CheckResultRecord)):
        assert result.message_fr in text_of(page, f"attachment-{result.attachment.position}"), result.code
        if result.message_en != result.message_fr:  # "3 page(s)." reads the same in both
            assert result.message_en not in page, result.code
    assert "Ce document semble être un avis d'appel (page 1)." in text_of(page, "attachment-2")
    assert "2021-04-02 01:00" in text_of(page, "received-eastern")
    assert "2021-04-01 22:00" in text_of(page, "received-local")


# Downloads.


def test_a_clerk_downloads_an_attachment_as_its_exact_bytes_never_inline_and_it_is_audited(app, login_as):
    content = pdf_bytes(pages=2, text="Exactly these bytes.")
    submission = create_submission(create_filer("western", "RPD"), files=[("évidence 1.pdf", content)])
    clerk = login_as("clerk", "western")

    response = clerk.get(f"/admin/submission/attachment/?id={submission.id}&position=1")

    assert response.status_code == 200
    assert response.get_data() == content
    assert response.mimetype == "application/pdf"
    assert response.headers["Content-Disposition"].startswith("attachment")
    assert "filename*=UTF-8''%C3%A9vidence%201.pdf" in response.headers["Content-Disposition"]
    assert response.headers["Content-Security-Policy"] == "sandbox"
    [event] = audit_events("attachment.downloaded")
    assert event.actor_id == clerk.user.id
    assert (event.record_type, event.record_id) == ("submissions", str(submission.id))
    assert event.after == {"attachment": submission.attachments[0].public_id}
    assert event.office_id == submission.office_id


@pytest.mark.parametrize("position", ["2", "0", "first", ""])
def test_a_download_of_a_position_the_submission_does_not_have_is_404(app, login_as, position):
    submission = create_submission(create_filer("western", "RPD"))
    response = login_as("clerk", "western").get(
        f"/admin/submission/attachment/?id={submission.id}&position={position}"
    )
    assert response.status_code == 404
    assert audit_events("attachment.downloaded") == []


def test_a_download_out_of_scope_is_404_and_is_audited(app, login_as):
    content = pdf_bytes(text="Not for other offices or divisions.")
    submission = create_submission(create_filer("western", "RPD"), files=[("letter.pdf", content)])
    for role, office_code, division in [("clerk", "central", None), ("division_member", "western", "IAD")]:
        response = login_as(role, office_code, division).get(
            f"/admin/submission/attachment/?id={submission.id}&position=1"
        )
        assert response.status_code == 404, role
        assert content not in response.get_data()
    assert audit_events("attachment.downloaded") == []
    assert [event.after["reason"] for event in audit_events("permission.refused")] == ["out_of_scope"] * 2


# A supervisor's correction of a received time.

# Due 10 days before a hearing on 12 April: by the end of 2 April, Vancouver time.
HEARING = date(2021, 4, 12)
LATE_STAMP = datetime(2021, 4, 3, 7, 30, tzinfo=UTC)  # 03:30 Eastern, 00:30 on 3 April in Vancouver: late
CORRECTED_EASTERN = "2021-04-01T23:30"  # 20:30 on 1 April in Vancouver: on time
CORRECTED = datetime(2021, 4, 2, 3, 30, tzinfo=UTC)
REASON = "The portal's upload queue stalled; the counsel's receipt shows 23:30 on 1 April."


@pytest.fixture
def late_disclosure(app, monkeypatch) -> Submission:
    fix_clock(monkeypatch, LATE_STAMP)
    account = create_filer("western", "RPD", next_hearing_on=HEARING)
    submission = create_submission(
        account, "disclosure", files=[("bundle.pdf", sample_pdfs.numbered_document(2))]
    )
    assert submission.deadline_rule is not None, "no document rules in this test database"
    assert submission.timeliness is Timeliness.LATE and submission.deadline_on == date(2021, 4, 2)
    return submission


def post_correction(client, submission: Submission, **changes):
    token = csrf_token_from(page_of(client, details_url(submission)))
    data = {"csrf_token": token, "id": submission.id, "corrected_at": CORRECTED_EASTERN, "reason": REASON}
    data.update(changes)
    return client.post("/admin/submission/correct-received-time/", data=data)


def assert_uncorrected(submission: Submission) -> None:
    db.session.expire_all()
    assert submission.received_at == submission.received_at_original == LATE_STAMP
    assert submission.timeliness is Timeliness.LATE
    assert db.session.scalar(select(func.count(ReceivedTimeCorrection.id))) == 0
    assert audit_events("submission.received_time_corrected") == []


def test_a_supervisor_corrects_a_received_time_keeping_the_original_and_it_is_judged_again(
    login_as, late_disclosure
):
    supervisor = login_as("supervisor", "western")

    response = post_correction(supervisor, late_disclosure)

    assert response.status_code == 302 and response.location.endswith(details_url(late_disclosure))
    db.session.expire_all()
    assert late_disclosure.received_at == CORRECTED
    assert late_disclosure.received_at_original == LATE_STAMP
    assert late_disclosure.timeliness is Timeliness.ON_TIME
    [correction] = db.session.scalars(select(ReceivedTimeCorrection)).all()
    assert (correction.previous_received_at, correction.corrected_received_at) == (LATE_STAMP, CORRECTED)
    assert (correction.reason, correction.corrected_by_id) == (REASON, supervisor.user.id)
    [event] = audit_events("submission.received_time_corrected")
    assert event.actor_id == supervisor.user.id
    assert (event.record_type, event.record_id) == ("submissions", str(late_disclosure.id))
    assert datetime.fromisoformat(event.before["received_at"]) == LATE_STAMP
    assert datetime.fromisoformat(event.after["received_at"]) == CORRECTED
    assert (event.after["reason"], event.after["timeliness"]) == (REASON, "on_time")


def test_the_details_show_the_original_time_and_the_corrections(login_as, late_disclosure):
    supervisor = login_as("supervisor", "western")
    post_correction(supervisor, late_disclosure)

    page = page_of(supervisor, details_url(late_disclosure))

    assert "The received time is corrected; the original is kept." in page
    assert "2021-04-01 23:30" in text_of(page, "received-eastern")
    assert "2021-04-01 20:30" in text_of(page, "received-local")
    assert "Originally received" in page and "2021-04-03 03:30" in page
    assert "On time" in text_of(page, "timeliness")
    corrections = text_of(page, "corrections")
    assert supervisor.user.full_name in corrections
    assert "2021-04-03 03:30" in corrections and "2021-04-01 23:30" in corrections
    assert REASON in corrections


def test_a_clerk_cannot_correct_a_received_time(login_as, late_disclosure):
    clerk = login_as("clerk", "western")
    assert "correct-received-time" not in page_of(clerk, details_url(late_disclosure))

    response = post_correction(clerk, late_disclosure)

    assert response.status_code == 403
    assert_uncorrected(late_disclosure)
    [refusal] = audit_events("permission.refused")
    assert refusal.actor_id == clerk.user.id and refusal.after["reason"] == "role"


def test_a_supervisor_of_another_office_cannot_correct_a_received_time(login_as, late_disclosure):
    supervisor = login_as("supervisor", "central")
    token = csrf_token_from(page_of(supervisor, "/admin/submission/"))
    response = supervisor.post(
        "/admin/submission/correct-received-time/",
        data={
            "csrf_token": token,
            "id": late_disclosure.id,
            "corrected_at": CORRECTED_EASTERN,
            "reason": REASON,
        },
    )
    assert response.status_code == 404
    assert_uncorrected(late_disclosure)


@pytest.mark.parametrize(
    "changes", [{"reason": ""}, {"reason": "   "}, {"corrected_at": ""}, {"corrected_at": "1 April"}]
)
def test_a_correction_without_a_reason_or_a_valid_time_changes_nothing(login_as, late_disclosure, changes):
    supervisor = login_as("supervisor", "western")

    response = post_correction(supervisor, late_disclosure, **changes)

    assert response.status_code == 302
    assert "Give the corrected time and the reason." in page_of(supervisor, details_url(late_disclosure))
    assert_uncorrected(late_disclosure)


def test_a_correction_with_a_forged_form_token_changes_nothing(login_as, late_disclosure):
    response = post_correction(login_as("supervisor", "western"), late_disclosure, csrf_token="forged")
    assert response.status_code == 400
    assert_uncorrected(late_disclosure)


# Portal clients.


def test_an_administrator_revokes_a_portal_client_and_its_token_stops_working(app, client, login_as):
    token = create_portal_client("Revoked portal")
    portal_client = db.session.scalar(select(PortalClient).where(PortalClient.name == "Revoked portal"))
    account = create_filer("western", "RPD")
    api_url = f"/api/v1/accounts/{account.public_id}/cases"
    bearer = {"Authorization": f"Bearer {token}"}
    assert client.get(api_url, headers=bearer).status_code == 200
    admin = login_as("admin", "central")
    details = page_of(admin, f"/admin/portalclient/details/?id={portal_client.id}")

    response = admin.post(
        "/admin/portalclient/revoke/", data={"csrf_token": csrf_token_from(details), "id": portal_client.id}
    )

    assert response.status_code == 302
    assert client.get(api_url, headers=bearer).status_code == 401
    db.session.expire_all()
    assert portal_client.revoked_at is not None
    [event] = audit_events("portal_client.revoked")
    assert (event.actor_id, event.record_id) == (admin.user.id, str(portal_client.id))
    page = page_of(admin, f"/admin/portalclient/details/?id={portal_client.id}")
    assert "The portal client is revoked: its token no longer works." in page
    assert "/admin/portalclient/revoke/" not in page


def test_a_clerk_can_neither_open_nor_revoke_the_portal_clients(app, client, login_as):
    token = create_portal_client("Kept portal")
    portal_client = db.session.scalar(select(PortalClient))
    clerk = login_as("clerk", "western")

    assert clerk.get("/admin/portalclient/").status_code == 403
    assert clerk.get(f"/admin/portalclient/details/?id={portal_client.id}").status_code == 403
    csrf = csrf_token_from(page_of(clerk, "/admin/submission/"))
    revoke = clerk.post("/admin/portalclient/revoke/", data={"csrf_token": csrf, "id": portal_client.id})

    assert revoke.status_code == 403
    db.session.expire_all()
    assert portal_client.revoked_at is None
    account = create_filer("western", "RPD")
    headers = {"Authorization": f"Bearer {token}"}
    assert client.get(f"/api/v1/accounts/{account.public_id}/cases", headers=headers).status_code == 200


# Every list filter, on this run's database engine.


def test_every_submission_list_filter_applies_on_this_database(monkeypatch, login_as, run_worker):
    fix_clock(monkeypatch, LATE_STAMP)
    late = create_submission(
        create_filer("western", "RPD", next_hearing_on=HEARING), "disclosure", subject="Late disclosure"
    )
    letter = create_submission(create_filer("western", "RPD"), subject="Western letter")
    run_worker()
    central = create_submission(create_filer("central", "RPD"), subject="Central letter")  # not screened
    supervisor = login_as("supervisor", "national")
    filters = {  # filter (its position in FILTER_ORDER) → value, and the submissions it keeps
        "status": ("with_registry", {late, letter}),
        "document_kind": ("disclosure", {late}),
        "timeliness": ("late", {late}),
        "screening_outcome": (late.screening_outcome.value, {late}),
        "office": (str(office("western").id), {late, letter}),
        "case": (str(central.case_id), {central}),
    }
    assert late.screening_outcome is not letter.screening_outcome, "the disclosure lacks its proof of service"
    assert tuple(filters) == SubmissionView.FILTER_ORDER
    for position, (name, (value, kept)) in enumerate(filters.items()):
        listing = page_of(supervisor, f"/admin/submission/?flt0_{position}={value}")
        for submission in (late, letter, central):
            assert (submission.subject in listing) == (submission in kept), (name, submission.subject)

    every_filter = {**{name: value for name, (value, _kept) in filters.items()}, "case": str(late.case_id)}
    query = "&".join(f"flt{n}_{n}={value}" for n, value in enumerate(every_filter.values()))
    listing = page_of(supervisor, f"/admin/submission/?{query}")
    assert "Late disclosure" in listing and "List (1)" in listing
