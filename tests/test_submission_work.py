"""Work on a submission beyond accept and reject: holds with internal notes, notes, supervisors taking work
back or handing it on, the division deciding file by file, and the timeline that shows all of it."""

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.models import (
    AttachmentDecision,
    AuditEvent,
    Language,
    Notification,
    Submission,
    SubmissionNote,
    SubmissionStatus,
)
from backoffice.models.types import utcnow
from backoffice.workflows import decisions, submissions
from backoffice.workflows.decisions import FileOutcome
from backoffice.workflows.message_rendering import render_message
from backoffice.workflows.refusals import Refused
from tests.factories import (
    create_portal_client,
    create_staff,
    create_submission,
    with_registry,
)
from tests.helpers import csrf_token_from, post_and_follow, with_division

DETAILS = "/admin/submission/details/?id={}"


# ----------------------------------------------------------------------------------------------- holds


def test_a_held_submission_stays_in_the_queue_out_of_next_with_its_note(app, login_as):
    held, waiting = with_registry(), with_registry()
    clerk = login_as("clerk", "western")
    post_and_follow(clerk, "/admin/registry_queue/claim/", id=held.id)

    refused = post_and_follow(clerk, "/admin/submission/hold/", id=held.id, note="  ")
    assert "Say why the submission is on hold." in refused.get_data(as_text=True)
    page = post_and_follow(
        clerk, "/admin/submission/hold/", id=held.id, note="Waiting for the interpreter's confirmation."
    )
    html = page.get_data(as_text=True)
    assert 'data-testid="on-hold"' in html and "Waiting for the interpreter&#39;s confirmation." in html
    db.session.refresh(held)
    assert held.held_at is not None and held.held_by_id == clerk.user.id and held.claimed_by_id is None
    note = db.session.scalar(select(SubmissionNote).where(SubmissionNote.submission_id == held.id))
    assert note.is_hold and note.staff_id == clerk.user.id

    queue = clerk.get("/admin/registry_queue/?held=yes").get_data(as_text=True)
    assert f'data-submission="{held.id}"' in queue and f'data-submission="{waiting.id}"' not in queue
    assert 'data-testid="on-hold-badge"' in queue and '<option value="yes" selected>' in queue
    queue = clerk.get("/admin/registry_queue/?held=no").get_data(as_text=True)
    assert f'data-submission="{held.id}"' not in queue and f'data-submission="{waiting.id}"' in queue
    # Next skips the held one, although it is older.
    opened = post_and_follow(clerk, "/admin/registry_queue/next/")
    assert opened.request.args["id"] == str(waiting.id)


def test_whoever_claims_a_held_submission_takes_it_off_hold_and_a_decision_ends_the_hold(app):
    submission = with_registry()
    first, second = create_staff("clerk", "western"), create_staff("clerk", "western")
    with pytest.raises(Refused):
        decisions.put_on_hold(submission.id, first, "Why")  # not claimed
    decisions.claim(submission.id, first)
    decisions.put_on_hold(submission.id, first, "Checking the hearing date with scheduling.")
    db.session.commit()
    with pytest.raises(Refused):
        decisions.put_on_hold(submission.id, first, "Again")  # not claimed any more, and already held
    db.session.rollback()
    with pytest.raises(Refused):
        decisions.take_off_hold(submission.id, second)  # must claim it first
    db.session.rollback()

    decisions.claim(submission.id, second)
    decisions.take_off_hold(submission.id, second)
    db.session.commit()
    assert submission.held_at is None and submission.claimed_by_id == second.id

    decisions.claim(submission.id, second)
    decisions.put_on_hold(submission.id, second, "Held again")
    decisions.claim(submission.id, second)
    decisions.decide(submission.id, second, True, [])
    db.session.commit()
    assert submission.status is SubmissionStatus.WITH_DIVISION and submission.held_at is None


def test_a_supervisor_of_the_office_takes_a_submission_off_hold(app):
    submission = with_registry()
    clerk = create_staff("clerk", "western")
    decisions.claim(submission.id, clerk)
    decisions.put_on_hold(submission.id, clerk, "Ask the supervisor")
    db.session.commit()
    with pytest.raises(Refused):
        decisions.take_off_hold(submission.id, create_staff("supervisor", "central"))
    db.session.rollback()
    decisions.take_off_hold(submission.id, create_staff("supervisor", "western"))
    db.session.commit()
    assert submission.held_at is None


# ----------------------------------------------------------------------------------------------- notes


def test_internal_notes_are_kept_for_colleagues_in_scope_only(app, login_as):
    submission = with_registry()
    clerk = login_as("clerk", "western")
    page = post_and_follow(
        clerk, "/admin/submission/note/", id=submission.id, note="Counsel phoned about exhibit 3."
    )
    assert "Counsel phoned about exhibit 3." in page.get_data(as_text=True)
    assert post_and_follow(clerk, "/admin/submission/note/", id=submission.id, note="").status_code == 200
    assert len(db.session.scalars(select(SubmissionNote)).all()) == 1

    with pytest.raises(Refused):
        decisions.add_note(submission.id, create_staff("division_member", "western", "IAD"), "Not mine")
    with pytest.raises(Refused):
        decisions.add_note(submission.id, create_staff("clerk", "western"), "x" * 2001)
    db.session.rollback()
    # Out of scope: a clerk of another office is answered 404, and nothing is kept.
    outsider = login_as("clerk", "central")
    token = csrf_token_from(outsider.get("/admin/").get_data(as_text=True))
    answer = outsider.post(
        "/admin/submission/note/", data={"csrf_token": token, "id": submission.id, "note": "x"}
    )
    assert answer.status_code == 404
    assert len(db.session.scalars(select(SubmissionNote)).all()) == 1
    # Counsel never sees a note: the portal API does not carry it.
    token = create_portal_client("Portal (notes)")
    body = app.test_client().get(
        f"/api/v1/submissions/{submission.public_id}", headers={"Authorization": f"Bearer {token}"}
    )
    assert "exhibit 3" not in body.get_data(as_text=True)


# ------------------------------------------------------------------------------------------ supervisors


def test_a_supervisor_returns_a_claimed_submission_to_the_queue_or_hands_it_to_a_clerk(app, login_as):
    submission = with_registry()
    holder = create_staff("clerk", "western")
    decisions.claim(submission.id, holder)
    db.session.commit()
    supervisor = login_as("supervisor", "western")
    page = supervisor.get(DETAILS.format(submission.id)).get_data(as_text=True)
    assert 'data-testid="supervisor-actions"' in page and holder.full_name in page

    post_and_follow(supervisor, "/admin/submission/return-to-queue/", id=submission.id)
    db.session.refresh(submission)
    assert submission.claimed_by_id is None

    colleague = create_staff("clerk", "western")
    post_and_follow(supervisor, "/admin/submission/reassign/", id=submission.id, to=colleague.id)
    db.session.refresh(submission)
    assert submission.claimed_by_id == colleague.id

    elsewhere = create_staff("clerk", "central")
    refused = post_and_follow(supervisor, "/admin/submission/reassign/", id=submission.id, to=elsewhere.id)
    assert f"{elsewhere.full_name} does not work this queue in this office." in refused.get_data(as_text=True)
    colleague.is_active_account = False
    db.session.commit()
    refused = post_and_follow(supervisor, "/admin/submission/reassign/", id=submission.id, to=colleague.id)
    assert "account is disabled" in refused.get_data(as_text=True)


def test_only_a_supervisor_of_the_office_moves_work(app):
    submission = with_registry()
    clerk = create_staff("clerk", "western")
    decisions.claim(submission.id, clerk)
    for outsider in (create_staff("supervisor", "central"), create_staff("clerk", "western")):
        with pytest.raises(Refused):
            decisions.return_to_queue(submission.id, outsider)
        with pytest.raises(Refused):
            decisions.reassign(submission.id, outsider, clerk)
    decisions.return_to_queue(submission.id, create_staff("supervisor", "national"))
    assert submission.claimed_by_id is None


# -------------------------------------------------------------------------------------- file by file


def test_the_division_decides_file_by_file_and_counsel_reads_each_outcome(app, login_as):
    submission = with_division(files=3, language=Language.FRENCH)
    first, second, third = submission.attachments
    member = login_as("division_member", "western", "RPD")
    post_and_follow(member, "/admin/division_queue/claim/", id=submission.id)
    page = member.get(DETAILS.format(submission.id)).get_data(as_text=True)
    assert 'data-testid="decide-by-file"' in page

    refused = post_and_follow(
        member,
        "/admin/submission/decide-by-file/",
        id=submission.id,
        **{f"file-{first.id}": "accept", f"file-{second.id}": "accept", f"file-{third.id}": "reject"},
    )
    assert "Give at least one reason for each rejected file (exhibit-3.pdf)." in refused.get_data(
        as_text=True
    )
    refused = post_and_follow(
        member, "/admin/submission/decide-by-file/", id=submission.id, **{f"file-{first.id}": "accept"}
    )
    assert "Decide on every file of the submission." in refused.get_data(as_text=True)
    assert db.session.scalars(select(AttachmentDecision)).all() == []

    page = post_and_follow(
        member,
        "/admin/submission/decide-by-file/",
        id=submission.id,
        note="Merci.",
        **{
            f"file-{first.id}": "accept",
            f"file-{second.id}": "accept",
            f"file-{third.id}": "reject",
            f"reason-{third.id}": ["D-LATE", "D-NOT-SERVED"],
        },
    ).get_data(as_text=True)
    assert "Accepted in part" in page
    db.session.refresh(submission)
    assert submission.status is SubmissionStatus.ACCEPTED
    decision = submission.decisions[-1]
    assert decision.accepted and decision.partial
    outcomes = {
        item.attachment.filename: (item.accepted, [r.code for r in item.reasons])
        for item in decision.attachment_decisions
    }
    assert outcomes == {
        "exhibit-1.pdf": (True, []),
        "exhibit-2.pdf": (True, []),
        "exhibit-3.pdf": (False, ["D-LATE", "D-NOT-SERVED"]),
    }

    notice = db.session.scalar(select(Notification).where(Notification.template == "division_decision"))
    rendered = render_message("division_decision", "email", "fr", notice.values)
    assert "acceptée en partie" in rendered.subject
    assert "exhibit-3.pdf : rejeté" in rendered.text and "exhibit-1.pdf : accepté" in rendered.text

    token = create_portal_client("Portal (files)")
    body = (
        app.test_client()
        .get(f"/api/v1/submissions/{submission.public_id}", headers={"Authorization": f"Bearer {token}"})
        .get_json()
    )
    files = body["decisions"][-1]["files"]
    assert [(item["filename"], item["decision"]) for item in files] == [
        ("exhibit-1.pdf", "accepted"),
        ("exhibit-2.pdf", "accepted"),
        ("exhibit-3.pdf", "rejected"),
    ]
    assert [reason["code"] for reason in files[2]["reasons"]] == ["D-LATE", "D-NOT-SERVED"]
    assert body["decisions"][0]["files"] == []  # registry's decision is on the whole submission


def test_every_file_rejected_rejects_the_submission_and_registry_cannot_decide_by_file(app):
    submission = with_division(files=2)
    member = create_staff("division_member", "western", "RPD")
    decisions.claim(submission.id, member)
    outcomes = [FileOutcome(attachment.id, False, ("D-LATE",)) for attachment in submission.attachments]
    decision = decisions.decide_by_file(submission.id, member, outcomes)
    db.session.commit()
    assert submission.status is SubmissionStatus.REJECTED and not decision.accepted and not decision.partial
    notice = db.session.scalar(select(Notification).where(Notification.template == "division_decision"))
    rendered = render_message("division_decision", "email", "en", notice.values)
    assert "rejected by the division" in rendered.subject and "- exhibit-2.pdf: rejected" in rendered.text

    registry = with_registry()
    clerk = create_staff("clerk", "western")
    decisions.claim(registry.id, clerk)
    with pytest.raises(Refused):
        decisions.decide_by_file(registry.id, clerk, [FileOutcome(registry.attachments[0].id, True)])


# --------------------------------------------------------------------------------------------- timeline


def test_the_timeline_shows_claims_releases_holds_notes_reassignments_and_decisions(app, login_as):
    submission = with_registry()
    clerk = login_as("clerk", "western")
    post_and_follow(clerk, "/admin/registry_queue/claim/", id=submission.id)
    post_and_follow(clerk, "/admin/registry_queue/release/", id=submission.id)
    post_and_follow(clerk, "/admin/registry_queue/claim/", id=submission.id)
    post_and_follow(clerk, "/admin/submission/hold/", id=submission.id, note="Interpreter to confirm.")
    post_and_follow(clerk, "/admin/submission/note/", id=submission.id, note="Confirmed by phone.")
    supervisor = login_as("supervisor", "western")
    post_and_follow(supervisor, "/admin/submission/reassign/", id=submission.id, to=clerk.user.id)
    post_and_follow(clerk, "/admin/submission/take-off-hold/", id=submission.id)
    later = utcnow() + timedelta(minutes=app.config["CLAIM_IDLE_MINUTES"] + 1)
    assert decisions.release_idle_claims(later) == [submission.id]
    post_and_follow(clerk, "/admin/registry_queue/claim/", id=submission.id)
    html = post_and_follow(
        clerk, "/admin/registry_queue/decide/", id=submission.id, decision="reject", reason=["R-TOC"]
    )
    html = html.get_data(as_text=True)
    timeline = html[html.index('data-testid="timeline"') :]
    expected = [
        "submission.received",
        "submission.start_screening",
        "submission.finish_screening",
        "submission.claimed",
        "submission.released",
        "submission.claimed",
        "submission.put_on_hold",
        "submission.note_added",
        "submission.reassigned",
        "submission.taken_off_hold",
        "submission.claim_expired",
        "submission.claimed",
        "submission.reject_by_registry",
    ]
    assert re.findall(r'data-testid="timeline-([a-z_.]+)"', timeline) == expected
    assert "Interpreter to confirm." in timeline and "Confirmed by phone." in timeline
    assert "Claim left idle: released to the queue" in timeline and "R-TOC" not in timeline
    assert (
        "The disclosure holds several documents but has no table of contents." in timeline
    )  # words, not codes


def test_a_clerk_corrects_a_mis_filed_kind_and_the_deadline_and_checks_are_judged_again(
    app, login_as, run_worker
):
    submission = with_registry()
    clerk = login_as("clerk", "western")
    refused = post_and_follow(
        clerk, "/admin/submission/change-kind/", id=submission.id, kind="disclosure", why="Evidence"
    )
    assert "Claim the submission before changing it." in refused.get_data(as_text=True)
    post_and_follow(clerk, "/admin/registry_queue/claim/", id=submission.id)
    refused = post_and_follow(
        clerk, "/admin/submission/change-kind/", id=submission.id, kind="letter", why="Evidence"
    )
    assert "Unknown kind of document." in refused.get_data(as_text=True)
    page = post_and_follow(
        clerk, "/admin/submission/change-kind/", id=submission.id, kind="disclosure", why="It is evidence."
    )
    db.session.refresh(submission)
    assert submission.document_kind.value == "disclosure" and submission.deadline_rule is not None
    timeline = page.get_data(as_text=True).split('data-testid="timeline"')[1]
    assert "submission.kind_changed" in timeline and "It is evidence." in timeline
    # The reason is an internal note: the audit log keeps its id, not the words.
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "submission.kind_changed"))
    assert "It is evidence." not in str(event.after) and event.after["note"]
    # The checks depend on the kind: they run again, and meanwhile the submission is not "clean".
    assert submission.screening_outcome is None
    run_worker()
    submission = db.session.get(Submission, submission.id)
    assert submission.screening_outcome is not None and submission.status is SubmissionStatus.WITH_REGISTRY
    codes = {result.code for result in submission.check_results}
    assert "table_of_contents" in codes  # a disclosure's check, which a written submission does not get
    assert submission.failed_checks == sum(r.outcome.value == "failure" for r in submission.check_results)
    html = clerk.get(DETAILS.format(submission.id)).get_data(as_text=True)
    assert 'data-testid="timeline-submission.checked_again"' in html


def rejected(submission):
    clerk = create_staff("clerk", submission.office.code)
    decisions.claim(submission.id, clerk)
    decisions.decide(submission.id, clerk, False, ["R-TOC"])
    db.session.commit()
    return submission


def resubmit(earlier):
    account = earlier.portal_account
    account.case = earlier.case  # what create_filer gives
    later = create_submission(account, resubmission_of=earlier.public_id)
    for transition in ("start_screening", "finish_screening"):
        submissions.fire(later, transition)
    db.session.commit()
    return later


def statements_for(client, url: str) -> int:
    from sqlalchemy import event

    count = [0]

    def counted(*_args) -> None:
        count[0] += 1

    event.listen(db.engine, "before_cursor_execute", counted)
    try:
        assert client.get(url).status_code == 200
    finally:
        event.remove(db.engine, "before_cursor_execute", counted)
    return count[0]


def test_the_resubmission_chain_shows_every_link_in_order_in_a_fixed_number_of_statements(app, login_as):
    first = rejected(with_registry())
    second = resubmit(first)
    clerk = login_as("clerk", "western")
    short = statements_for(clerk, DETAILS.format(first.id))
    third = resubmit(rejected(second))
    fourth = resubmit(rejected(third))

    for shown in (first, third, fourth):
        html = clerk.get(DETAILS.format(shown.id)).get_data(as_text=True)
        chain = html.split('data-testid="resubmission-chain"')[1].split("</ol>")[0]
        links = re.findall(r"details/\?id=(\d+)", chain)
        expected = [item.id for item in (first, second, third, fourth) if item.id != shown.id]
        assert [int(link) for link in links] == expected and "This submission" in chain
    assert statements_for(clerk, DETAILS.format(first.id)) == short


def test_the_sweep_queues_again_checks_that_redis_lost(app):
    from backoffice import queue
    from backoffice.screening import workflow as screening

    submission = with_registry()
    submission.screening_outcome = None  # a correction whose job was lost
    db.session.commit()
    assert not queue.job_is_waiting_or_running(screening.recheck_job_id(submission.id))
    assert submission.id in screening.requeue_lost_screenings()
    assert queue.job_is_waiting_or_running(screening.recheck_job_id(submission.id))
    assert submission.id not in screening.requeue_lost_screenings()  # its job waits: nothing more


def test_a_decision_file_by_file_costs_the_submission_page_no_statement_more(app, login_as):
    whole, by_file = with_division(files=2), with_division(files=2)
    member = create_staff("division_member", "western", "RPD")
    decisions.claim(whole.id, member)
    decisions.decide(whole.id, member, False, ["D-LATE"])
    decisions.claim(by_file.id, member)
    first, second = by_file.attachments
    decisions.decide_by_file(
        by_file.id, member, [FileOutcome(first.id, True), FileOutcome(second.id, False, ("D-LATE",))]
    )
    db.session.commit()
    clerk = login_as("clerk", "western")
    assert statements_for(clerk, DETAILS.format(by_file.id)) == statements_for(
        clerk, DETAILS.format(whole.id)
    )
