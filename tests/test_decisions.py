"""Decisions in the work queues: claims that two people cannot share, coded reasons, and counsel told."""

import threading
from datetime import timedelta

import pytest
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.models import AuditEvent, Language, Notification, StaffUser, Submission, SubmissionStatus
from backoffice.models.types import utcnow
from backoffice.workflows import decisions
from backoffice.workflows.refusals import Refused
from tests.factories import (
    create_filer,
    create_portal_client,
    create_staff,
    pdf_bytes,
    with_registry,
)
from tests.helpers import race_as_staff, signalled_before_each_statement, submit_through_api


def test_a_clerk_claims_then_rejects_with_coded_reasons_and_counsel_is_asked_to_resubmit(app):
    submission = with_registry()
    clerk = create_staff("clerk", "western")
    with pytest.raises(Refused):
        decisions.decide(submission.id, clerk, False, ["R-PAGES"])  # not claimed yet
    decisions.claim(submission.id, clerk)
    with pytest.raises(Refused):
        decisions.decide(submission.id, clerk, False, [])  # a rejection needs a reason
    with pytest.raises(Refused):
        decisions.decide(submission.id, clerk, False, ["D-LATE"])  # a division's reason
    decision = decisions.decide(submission.id, clerk, False, ["R-PAGES", "R-TOC"], "Combine the exhibits.")
    db.session.commit()
    assert submission.status is SubmissionStatus.REJECTED and submission.claimed_by_id is None
    assert [reason.code for reason in decision.reasons] == ["R-PAGES", "R-TOC"]
    message = db.session.scalar(select(Notification).where(Notification.template == "submission_rejected"))
    assert [reason["code"] for reason in message.values["reasons"]] == ["R-PAGES", "R-TOC"]
    assert message.values["note"] == "Combine the exhibits."
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "submission.reject_by_registry"))
    assert event.after["reasons"] == ["R-PAGES", "R-TOC"]


def test_only_the_queue_of_the_right_office_and_division_may_act(app):
    submission = with_registry("western", "RPD")
    for outsider in (
        create_staff("clerk", "central"),
        create_staff("division_member", "western", "RPD"),  # registry's queue, not the division's
        create_staff("supervisor", "western"),
    ):
        with pytest.raises(Refused):
            decisions.claim(submission.id, outsider)
    clerk = create_staff("clerk", "western")
    decisions.claim(submission.id, clerk)
    decisions.decide(submission.id, clerk, True, [])
    db.session.commit()
    assert submission.status is SubmissionStatus.WITH_DIVISION
    with pytest.raises(Refused):
        decisions.claim(submission.id, create_staff("division_member", "western", "IAD"))
    member = create_staff("division_member", "western", "RPD")
    decisions.claim(submission.id, member)
    decisions.decide(submission.id, member, False, ["D-LATE"])
    db.session.commit()
    notice = db.session.scalar(select(Notification).where(Notification.template == "division_decision"))
    assert notice.values["accepted"] is False and notice.values["reasons"][0]["code"] == "D-LATE"


def test_a_claim_held_by_someone_else_is_refused_until_it_is_left_idle(app):
    submission = with_registry()
    first, second = create_staff("clerk", "western"), create_staff("clerk", "western")
    decisions.claim(submission.id, first)
    db.session.commit()
    with pytest.raises(Refused) as refused:
        decisions.claim(submission.id, second)
    assert first.full_name in str(refused.value)
    db.session.rollback()

    later = utcnow() + timedelta(minutes=app.config["CLAIM_IDLE_MINUTES"] + 1)
    assert decisions.release_idle_claims(later) == [submission.id]
    decisions.claim(submission.id, second)
    db.session.commit()
    with pytest.raises(Refused):
        decisions.decide(submission.id, first, True, [])  # the first clerk no longer holds it


def posted_from_two_pages(app, action, staff_id: int, submission_id: int) -> list[str]:
    """Two posts of `action(staff)` from two pages that both read the submission before either acted, each in
    its own session that keeps the page's copy: the first acts and keeps its lock until the second has asked for
    the row; "won" or "refused" for each, sorted."""
    both_loaded, first_acted, second_asking = threading.Barrier(2), threading.Event(), threading.Event()
    outcomes, pages = [], {}

    def post(position: int) -> None:
        with app.app_context():
            staff = db.session.get(StaffUser, staff_id)
            # Kept in hand like the page's own copy (the session's identity map only holds it weakly).
            pages[position] = db.session.get(Submission, submission_id)
            both_loaded.wait(timeout=30)
            try:
                if position == 1:
                    first_acted.wait(timeout=30)
                    with signalled_before_each_statement(second_asking):
                        action(staff)
                else:
                    action(staff)
                    first_acted.set()
                    second_asking.wait(timeout=30)  # the second is asking the database for the row
                db.session.commit()
                outcomes.append("won")
            except Refused:
                db.session.rollback()
                outcomes.append("refused")
            finally:
                first_acted.set()
                db.session.remove()

    threads = [threading.Thread(target=post, args=(position,)) for position in (0, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return sorted(outcomes)


def test_two_clerks_racing_to_claim_the_same_submission_one_wins(app):
    submission_id = with_registry().id  # threads read no object of the test's session
    clerks = [create_staff("clerk", "western").id for _ in range(4)]
    outcomes = race_as_staff(app, lambda staff: decisions.claim(submission_id, staff), clerks)
    assert outcomes == ["refused", "refused", "refused", "won"]
    claims = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "submission.claimed")).all()
    assert len(claims) == 1


def test_two_clerks_racing_to_decide_the_same_submission_one_wins(app):
    submission_id = with_registry().id  # threads read no object of the test's session
    first, second = create_staff("clerk", "western"), create_staff("clerk", "western")
    decisions.claim(submission_id, first)
    db.session.commit()
    ids = [first.id, second.id]

    def claim_and_decide(staff):
        if staff.id == ids[1]:
            decisions.claim(submission_id, staff)  # refused while the first holds it
        decisions.decide(submission_id, staff, False, ["R-PROCEDURE"])

    assert race_as_staff(app, claim_and_decide, ids) == ["refused", "won"]
    db.session.expire_all()
    assert len(db.session.get(Submission, submission_id).decisions) == 1


def test_a_submission_goes_from_the_portal_through_registry_and_the_division(
    app, client, run_worker, smtp_sink
):
    """Received by the API, screened by a real worker, rejected by registry with two reasons (counsel gets
    the email in French), resubmitted, accepted by registry, accepted by the division."""
    token = create_portal_client("My Case portal")
    headers = {"Authorization": f"Bearer {token}"}
    filer = create_filer("eastern", "RPD")
    filer.counsel.preferred_language = Language.FRENCH
    db.session.commit()

    def submit(**fields):
        letter = [("lettre.pdf", pdf_bytes())]
        response = submit_through_api(client, token, filer, letter, subject="Changement d'adresse", **fields)
        assert response.status_code == 201, response.get_json()
        return response.get_json()["id"]

    def status(public_id: str) -> dict:
        return client.get(f"/api/v1/submissions/{public_id}", headers=headers).get_json()

    def db_id(public_id: str) -> int:
        return db.session.scalar(select(Submission.id).where(Submission.public_id == public_id))

    first = submit()
    run_worker()
    assert status(first)["status"] == "with_registry"
    clerk = create_staff("clerk", "eastern")
    decisions.claim(db_id(first), clerk)
    decisions.decide(db_id(first), clerk, False, ["R-SEVERAL-SUBJECTS", "R-PROCEDURE"], "Un sujet par PDF.")
    db.session.commit()
    run_worker()
    rejected = status(first)
    assert rejected["status"] == "rejected"
    assert [reason["code"] for reason in rejected["decisions"][0]["reasons"]] == [
        "R-PROCEDURE",
        "R-SEVERAL-SUBJECTS",
    ]
    email = next(message for message in smtp_sink.messages if "rejet" in message["Subject"].lower())
    text = email.get_body(("plain",)).get_content()
    assert "Un même PDF traite de plusieurs sujets" in text and "Un sujet par PDF." in text

    second = submit(resubmission_of=first)
    run_worker()
    assert status(second)["resubmission_of"]["id"] == first
    decisions.claim(db_id(second), clerk)
    decisions.decide(db_id(second), clerk, True, [])
    db.session.commit()
    assert status(second)["status"] == "with_division"
    member = create_staff("division_member", "eastern", "RPD")
    decisions.claim(db_id(second), member)
    decisions.decide(db_id(second), member, True, [])
    db.session.commit()
    run_worker()
    done = status(second)
    assert done["status"] == "accepted"
    assert [(d["by"], d["decision"]) for d in done["decisions"]] == [
        ("registry", "accepted"),
        ("division", "accepted"),
    ]
    notices = db.session.scalars(select(Notification.template).order_by(Notification.id)).all()
    assert notices.count("submission_receipt") == 2 and notices[-1] == "division_decision"


def test_an_administrator_adds_a_reason_to_the_catalogue_and_it_is_audited(app, login_as):
    from backoffice.models import Reason
    from tests.helpers import csrf_token_from

    admin = login_as("admin", "western")
    page = admin.get("/admin/reason/new/").get_data(as_text=True)
    response = admin.post(
        "/admin/reason/new/",
        data={
            "csrf_token": csrf_token_from(page),
            "code": "r-duplicate",
            "used_by": "registry",
            "text_en": "The same documents were already submitted.",
            "text_fr": "Les mêmes documents ont déjà été soumis.",
            "active": "y",
        },
    )
    assert response.status_code == 302
    reason = db.session.scalar(select(Reason).where(Reason.code == "R-DUPLICATE"))
    assert reason is not None and reason.active
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "reasons.created")) is not None
    submission = with_registry()
    clerk = create_staff("clerk", "western")
    decisions.claim(submission.id, clerk)
    decision = decisions.decide(submission.id, clerk, False, ["R-DUPLICATE"])
    assert decision.reasons == [reason]


def test_a_supervisor_reassigns_a_submission_to_a_clerk_of_the_office(app):
    submission = with_registry()
    first, second = create_staff("clerk", "western"), create_staff("clerk", "western")
    decisions.claim(submission.id, first)
    with pytest.raises(Refused):
        decisions.reassign(submission.id, create_staff("supervisor", "central"), second)
    with pytest.raises(Refused):
        decisions.reassign(
            submission.id, create_staff("supervisor", "western"), create_staff("clerk", "central")
        )
    decisions.reassign(submission.id, create_staff("supervisor", "western"), second)
    db.session.commit()
    assert submission.claimed_by_id == second.id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "submission.reassigned"))
    assert event.before["claimed_by"] == first.email and event.after["claimed_by"] == second.email


def test_a_mis_filed_kind_of_document_is_corrected_and_its_deadline_judged_again(app):
    from datetime import date

    from backoffice.models import DocumentKind, Timeliness

    submission = with_registry(next_hearing_on=date(2000, 1, 20))  # long past: a disclosure is late
    assert submission.timeliness is Timeliness.NO_DEADLINE
    clerk = create_staff("clerk", "western")
    decisions.claim(submission.id, clerk)
    with pytest.raises(Refused):
        decisions.change_document_kind(submission.id, clerk, "disclosure", "")
    decisions.change_document_kind(submission.id, clerk, "disclosure", "Filed as a letter; it is evidence.")
    db.session.commit()
    assert submission.document_kind is DocumentKind.DISCLOSURE and submission.timeliness is Timeliness.LATE
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "submission.kind_changed"))
    assert event.before == {"document_kind": "written_submission"}


def test_a_decision_posted_twice_from_a_page_that_read_the_submission_is_recorded_once(app):
    submission = with_registry()
    clerk = create_staff("clerk", "western")
    decisions.claim(submission.id, clerk)
    db.session.commit()

    def decide(staff):
        decisions.decide(submission.id, staff, False, ["R-PROCEDURE"])

    assert posted_from_two_pages(app, decide, clerk.id, submission.id) == ["refused", "won"]
    db.session.expire_all()
    assert len(db.session.get(Submission, submission.id).decisions) == 1
    rejections = select(Notification).where(Notification.template == "submission_rejected")
    assert len(db.session.scalars(rejections).all()) == 1


def test_a_hold_racing_a_decision_never_leaves_a_decided_submission_on_hold(app):
    submission = with_registry()
    clerk = create_staff("clerk", "western")
    decisions.claim(submission.id, clerk)
    db.session.commit()
    turns, turn_lock = iter(["accept", "hold"]), threading.Lock()

    def accept_or_hold(staff):
        with turn_lock:
            turn = next(turns)
        if turn == "hold":
            decisions.put_on_hold(submission.id, staff, "Waiting")
        else:
            decisions.decide(submission.id, staff, True, [])

    assert posted_from_two_pages(app, accept_or_hold, clerk.id, submission.id) == ["refused", "won"]
    db.session.expire_all()
    settled = db.session.get(Submission, submission.id)
    assert settled.status is SubmissionStatus.WITH_DIVISION and settled.held_at is None
