"""The same action sent several times at once (two tabs, a retried POST, two colleagues, a burst of guesses):
exactly one takes effect and the others are refused plainly, on SQLite as on PostgreSQL."""

import re
import threading

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm.attributes import set_committed_value

from backoffice.extensions import db
from backoffice.models import (
    AccessChallenge,
    AuditEvent,
    Counsel,
    Decision,
    InvitationChannel,
    InvitationCode,
    Notification,
    NotificationStatus,
    PortalAccount,
    Registration,
    RegistrationStatus,
    StaffUser,
    Submission,
    SubmissionStatus,
)
from backoffice.workflows import accounts, decisions, notifications, submissions
from backoffice.workflows.accounts import SignInOutcome, sign_in
from backoffice.workflows.refusals import Refused
from backoffice.workflows.registration import machine as registration
from backoffice.workflows.state_machine import ChangedMeanwhile
from tests.factories import (
    PASSWORD,
    create_case,
    create_counsel,
    create_portal_client,
    create_staff,
    make_counsel_of_record,
    registration_with_code,
    with_registry,
)
from tests.helpers import copies_of, csrf_token_from, race

N = 4
QUEUE = "/admin/registry_queue/"


def flashed(client) -> list[str]:
    with client.session_transaction() as session:
        return [category for category, _message in session.get("_flashes", [])]


def count(model, *where) -> int:
    return db.session.scalar(select(func.count()).select_from(model).where(*where))


def events(action: str) -> int:
    return count(AuditEvent, AuditEvent.action == action)


def post_from_tabs(app, client, url: str, page: str, data: dict) -> list:
    """The same form, read once from `page`, posted from N tabs of the same person at once."""
    token = csrf_token_from(client.get(page).get_data(as_text=True))
    tabs = copies_of(app, client, N)
    answers = race(app, [lambda tab=tab: tab.post(url, data={"csrf_token": token, **data}) for tab in tabs])
    return [(answer.status_code, flashed(tab)) for answer, tab in zip(answers, tabs, strict=True)]


# ------------------------------------------------------------------------------------------- submissions


def test_the_same_rejection_sent_from_four_tabs_at_once_is_recorded_once_and_counsel_told_once(app, login_as):
    submission = with_registry()
    clerk = login_as("clerk", "western")
    decisions.claim(submission.id, db.session.get(StaffUser, clerk.user.id))
    page = f"/admin/submission/details/?id={submission.id}"
    data = {
        "id": submission.id,
        "decision": "reject",
        "reason": "R-PROCEDURE",
        "note": "Resubmit as one PDF.",
    }

    answers = post_from_tabs(app, clerk, f"{QUEUE}decide/", page, data)

    assert [status for status, _flashes in answers] == [
        302
    ] * N  # every tab is answered, none with an error page
    assert sorted(flash for _status, flashes in answers for flash in flashes) == ["error"] * (N - 1) + [
        "success"
    ]
    assert count(Decision, Decision.submission_id == submission.id) == 1
    assert count(Notification, Notification.template == "submission_rejected") == 1
    assert events("submission.reject_by_registry") == 1
    assert db.session.get(Submission, submission.id).status is SubmissionStatus.REJECTED


def test_four_clerks_claiming_at_once_one_holds_it_and_the_others_are_told_who(app):
    submission_id = with_registry().id  # ids only: the threads never touch this test's session
    clerks = [create_staff("clerk", "western").id for _ in range(N)]

    def claim(staff_id: int):
        def act():
            decisions.claim(submission_id, db.session.get(StaffUser, staff_id))
            db.session.commit()
            return staff_id

        return act

    outcomes = race(app, [claim(staff_id) for staff_id in clerks], (Refused,))

    winners = [outcome for outcome in outcomes if outcome != "refused"]
    assert len(winners) == 1 and outcomes.count("refused") == N - 1
    assert db.session.get(Submission, submission_id).claimed_by_id == winners[0]
    assert events("submission.claimed") == 1


def test_the_same_bulk_accept_sent_four_times_at_once_accepts_each_submission_once(app, login_as):
    selected = [with_registry() for _ in range(3)]
    clerk = login_as("clerk", "western")
    ids = [submission.id for submission in selected]

    answers = post_from_tabs(app, clerk, f"{QUEUE}bulk/accept/", QUEUE, {"id": ids})

    assert [status for status, _flashes in answers] == [200] * N
    for submission_id in ids:
        assert count(Decision, Decision.submission_id == submission_id) == 1
        assert db.session.get(Submission, submission_id).status is SubmissionStatus.WITH_DIVISION
    assert events("submission.accept_to_division") == len(ids)


def test_a_submission_read_before_someone_else_moved_it_cannot_be_moved_from_what_was_read(app):
    """The compare-and-set itself, without any lock: the copy in hand says "with registry", the row no longer."""
    submission = with_registry()
    submission_id, clerk = submission.id, create_staff("clerk", "western")
    clerk_id = clerk.id

    def reject_elsewhere() -> None:
        staff = db.session.get(StaffUser, clerk_id)
        decisions.claim(submission_id, staff)
        decisions.decide(submission_id, staff, False, ["R-PROCEDURE"])
        db.session.commit()

    race(app, [reject_elsewhere])
    stale = db.session.get(Submission, submission_id)
    set_committed_value(stale, "status", SubmissionStatus.WITH_REGISTRY)  # as a copy read before would say
    with pytest.raises(ChangedMeanwhile):
        submissions.fire(stale, "accept_to_division", clerk)
    db.session.rollback()
    assert db.session.get(Submission, submission_id).status is SubmissionStatus.REJECTED
    assert events("submission.accept_to_division") == 0


# ------------------------------------------------------------------------------------------ registrations


def test_the_same_registration_action_sent_from_four_tabs_at_once_is_applied_once(app, login_as):
    """Reissuing a code leaves the registration where it was ("code issued"): only what the page saw tells a
    second click from a new request."""
    record, _code = registration_with_code()
    clerk = login_as("clerk", "western")
    page = f"/admin/registration/details/?id={record.id}"
    seen = re.search(r'name="seen" value="([^"]+)"', clerk.get(page).get_data(as_text=True)).group(1)
    codes_before = count(InvitationCode)
    messages_before = count(Notification, Notification.template == "invitation_code")

    answers = post_from_tabs(
        app,
        clerk,
        "/admin/registration/invitation-code/",
        page,
        {"id": record.id, "seen": seen, "reissue": "1"},
    )

    assert sorted(status for status, _flashes in answers) == [200] + [302] * (N - 1)  # the code page, once
    assert all(flashes == ["error"] for status, flashes in answers if status == 302)
    assert count(InvitationCode) == codes_before + 1
    assert count(InvitationCode, InvitationCode.revoked_at.is_(None)) == 1
    assert count(Notification, Notification.template == "invitation_code") == messages_before + 1


def test_a_registration_moved_on_by_a_colleague_is_refused_with_a_plain_reason(app, login_as):
    record, _code = registration_with_code()
    clerk, colleague = login_as("clerk", "western"), login_as("clerk", "western")
    page = f"/admin/registration/details/?id={record.id}"
    seen = re.search(r'name="seen" value="([^"]+)"', clerk.get(page).get_data(as_text=True)).group(1)
    token = csrf_token_from(colleague.get(page).get_data(as_text=True))
    colleague.post("/admin/registration/hold/", data={"csrf_token": token, "id": record.id})
    colleague.post("/admin/registration/resume/", data={"csrf_token": token, "id": record.id})

    token = csrf_token_from(clerk.get(page).get_data(as_text=True))
    clerk.post("/admin/registration/withdraw/", data={"csrf_token": token, "id": record.id, "seen": seen})

    with clerk.session_transaction() as session:
        assert [message for _category, message in session["_flashes"]] == [
            str(registration.CHANGED_MEANWHILE)
        ]
    assert db.session.get(Registration, record.id).status is RegistrationStatus.CODE_ISSUED


def test_two_clerks_inviting_the_same_counsel_at_once_make_one_registration(app):
    case = create_case("western", "RPD")
    counsel = create_counsel()
    make_counsel_of_record(case, counsel)
    counsel_id = counsel.id
    clerks = [create_staff("clerk", "western").id for _ in range(N)]

    def invite(staff_id: int):
        def act():
            staff = db.session.get(StaffUser, staff_id)
            registration.start_registration(
                db.session.get(Counsel, counsel_id), InvitationChannel.EMAIL, staff
            )
            db.session.commit()
            return "invited"

        return act

    outcomes = race(app, [invite(staff_id) for staff_id in clerks], (Refused,))

    assert sorted(outcomes) == ["invited"] + ["refused"] * (N - 1)
    assert count(Registration, Registration.counsel_id == counsel_id) == 1
    assert count(Notification, Notification.template == "invitation") == 1


def test_the_same_access_code_verified_four_times_at_once_activates_one_account(app, client):
    record, code = registration_with_code()
    headers = {"Authorization": f"Bearer {create_portal_client()}"}
    redeem = {"code": code, "sign_in_provider": "gckey", "sign_in_subject": "subject-1"}
    challenge = client.post("/api/v1/invitation-codes/redeem", json=redeem, headers=headers).get_json()
    access_code = (
        db.session.scalars(select(Notification).where(Notification.template == "access_code"))
        .one()
        .values["access_code"]
    )
    body = {"challenge_id": challenge["challenge_id"], "access_code": access_code}
    portals = [app.test_client() for _ in range(N)]

    answers = race(
        app, [lambda p=p: p.post("/api/v1/access-codes/verify", json=body, headers=headers) for p in portals]
    )

    assert sorted(answer.status_code for answer in answers) == [200] + [422] * (N - 1)
    assert count(PortalAccount) == 1
    assert events("registration.activate") == 1
    assert count(AccessChallenge, AccessChallenge.used_at.is_not(None)) == 1


# ----------------------------------------------------------------------------------------------- messages


def test_the_same_message_resent_four_times_at_once_is_queued_once(app):
    record, _code = registration_with_code()
    message = db.session.scalars(select(Notification)).first()
    message.status = NotificationStatus.FAILED
    message_id = message.id
    staff = [create_staff("clerk", "western").id for _ in range(N)]

    def resend(staff_id: int):
        def act():
            notifications.resend(
                db.session.get(Notification, message_id), db.session.get(StaffUser, staff_id)
            )
            db.session.commit()
            return "queued"

        return act

    outcomes = race(app, [resend(staff_id) for staff_id in staff], (Refused,))

    assert sorted(outcomes) == ["queued"] + ["refused"] * (N - 1)
    assert events("notification.resent") == 1


# ---------------------------------------------------------------------------------------------- sign-in


def test_a_burst_of_forty_guesses_checks_no_more_passwords_than_the_limit(app):
    user = create_staff("clerk")
    email, limit = user.email, app.config["SIGN_IN_MAX_FAILURES"]

    outcomes = race(app, [lambda: sign_in(email, "wrong password!").outcome for _ in range(40)])

    checked = count(AuditEvent, AuditEvent.action == "sign_in.failed", AuditEvent.actor_id == user.id)
    assert checked == limit
    assert (
        outcomes.count(SignInOutcome.LOCKED) >= 40 - limit
    )  # the refused, and maybe the failure that locked
    assert events("staff_users.locked_out") == 1
    assert db.session.get(StaffUser, user.id).locked_until is not None
    assert sign_in(email, PASSWORD).outcome is SignInOutcome.LOCKED


def test_the_right_password_among_parallel_guesses_is_checked_only_within_the_limit(app, monkeypatch):
    """23 wrong guesses and the right password 14th, all at once: the right one signs in only if it was among the
    first `limit` passwords checked. (Once it has, the count starts again, as after any sign-in.)"""
    user = create_staff("clerk")
    email, limit, password_hash = user.email, app.config["SIGN_IN_MAX_FAILURES"], user.password_hash
    passwords = ["wrong password!"] * 13 + [PASSWORD] + ["wrong password!"] * 10
    checked, in_order = [], threading.Lock()  # each check of this user's password, in the order they ended
    verify = accounts._verify

    def recorded(against: str, password: str) -> bool:
        right = verify(against, password)
        if against == password_hash:
            with in_order:
                checked.append(right)
        return right

    monkeypatch.setattr(accounts, "_verify", recorded)

    outcomes = race(
        app, [lambda password=password: sign_in(email, password).outcome for password in passwords]
    )

    succeeded = outcomes.count(SignInOutcome.SIGNED_IN)
    assert succeeded == events("sign_in.succeeded") <= 1
    wrong_before_right = checked.index(True) if succeeded else len(checked)
    assert wrong_before_right <= (limit - 1 if succeeded else limit)


def test_a_lockout_that_has_ended_gives_a_fresh_count(app):
    from datetime import timedelta

    from backoffice.models.types import utcnow

    user = create_staff("clerk")
    for _ in range(app.config["SIGN_IN_MAX_FAILURES"]):
        sign_in(user.email, "wrong password!")
    assert sign_in(user.email, PASSWORD).outcome is SignInOutcome.LOCKED
    db.session.get(StaffUser, user.id).locked_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    assert sign_in(user.email, "wrong password!").outcome is SignInOutcome.BAD_CREDENTIALS
    assert sign_in(user.email, PASSWORD).outcome is SignInOutcome.SIGNED_IN
    refreshed = db.session.get(StaffUser, user.id)
    db.session.refresh(refreshed)
    assert refreshed.failed_sign_ins == 0 and refreshed.locked_until is None
