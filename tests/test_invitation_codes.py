"""Invitation codes and their redemption by the portal with an SMS access code (PORTAL-API.md, steps 4-5)."""

from datetime import timedelta

import pytest
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.models import (
    AuditEvent,
    CodeAttempt,
    InvitationCode,
    Notification,
    PortalAccount,
    PortalClient,
    RegistrationStatus,
)
from backoffice.models.types import utcnow
from backoffice.workflows.refusals import Refused
from backoffice.workflows.registration import codes, invitation_codes
from backoffice.workflows.registration.machine import MACHINE
from tests.factories import create_portal_client, registration_with_code


@pytest.fixture
def portal(app):
    token = create_portal_client("My Case portal")
    client = app.test_client()
    headers = {"Authorization": f"Bearer {token}"}

    def post(path: str, body: dict):
        return client.post(f"/api/v1/{path}", json=body, headers=headers)

    return post


def redeem(portal, code: str, subject: str = "gckey-subject-1"):
    return portal(
        "invitation-codes/redeem", {"code": code, "sign_in_provider": "gckey", "sign_in_subject": subject}
    )


def sent_access_code() -> str:
    """The access code as queued for SMS (before delivery erases it from the outbox)."""
    message = db.session.scalars(
        select(Notification).where(Notification.template == "access_code").order_by(Notification.id.desc())
    ).first()
    return message.values["access_code"]


def test_an_invitation_code_has_sixty_bits_without_look_alikes_and_is_kept_only_as_a_keyed_hash(app):
    code = codes.new_invitation_code()
    assert len(code) == 14 and code[4] == code[9] == "-"
    assert set(code.replace("-", "")) <= set(codes.ALPHABET)
    assert not set("01OI") & set(codes.ALPHABET)
    assert len(codes.ALPHABET) ** codes.CODE_LENGTH >= 2**60
    registration, issued = registration_with_code()
    stored = db.session.scalar(
        select(InvitationCode).where(InvitationCode.registration_id == registration.id)
    )
    assert issued not in stored.code_hash and issued.replace("-", "") not in stored.code_hash
    assert stored.code_hash == codes.invitation_code_hash(issued.lower().replace("-", " "))
    assert (stored.expires_at - stored.issued_at).days == 30
    message = db.session.scalar(select(Notification).where(Notification.template == "invitation_code"))
    assert message.values["invitation_code"] == issued  # in the message to counsel only, erased once sent
    events = db.session.scalars(select(AuditEvent)).all()
    assert not any(issued in str(event.after) for event in events)


def test_a_code_is_redeemed_with_an_sms_access_code_and_the_account_becomes_active(app, portal):
    registration, code = registration_with_code()  # the returned form gave mobile 604-555-0199, English
    response = redeem(portal, code)
    assert response.status_code == 200, response.get_json()
    challenge = response.get_json()
    assert challenge["sms_sent_to"] == "******0199"
    sms = db.session.scalars(select(Notification).where(Notification.template == "access_code")).one()
    assert sms.channel.value == "sms" and sms.recipient == "+16045550199"

    verified = portal(
        "access-codes/verify", {"challenge_id": challenge["challenge_id"], "access_code": sent_access_code()}
    )

    assert verified.status_code == 200, verified.get_json()
    body = verified.get_json()
    assert body["status"] == "active"
    assert body["counsel"] == {"name": "Grace Li", "preferred_language": "en"}
    account = db.session.scalar(
        select(PortalAccount).where(PortalAccount.public_id == body["portal_account_id"])
    )
    assert (account.sign_in_provider, account.sign_in_subject) == ("gckey", "gckey-subject-1")
    db.session.refresh(registration)
    assert registration.status is RegistrationStatus.ACTIVE


def test_a_code_cannot_be_redeemed_twice(app, portal):
    _registration, code = registration_with_code()
    challenge = redeem(portal, code).get_json()
    portal(
        "access-codes/verify", {"challenge_id": challenge["challenge_id"], "access_code": sent_access_code()}
    )
    again = redeem(portal, code)
    assert again.status_code == 422 and again.get_json()["error"] == "invalid_code"


def test_an_expired_code_is_refused_like_an_unknown_one(app, portal):
    registration, code = registration_with_code()
    unknown = redeem(portal, "ABCD-EFGH-JKLM").get_json()
    later = utcnow() + timedelta(days=31)
    found = invitation_codes.expire_and_remind(later)
    assert registration.id in found["expired"]
    db.session.refresh(registration)
    assert registration.status is RegistrationStatus.CODE_EXPIRED
    expired = redeem(portal, code, subject="another-person")
    assert expired.status_code == 422
    assert expired.get_json() == unknown


def test_a_reissued_code_revokes_the_previous_one(app, portal):
    registration, first = registration_with_code()
    clerk = db.session.scalar(select(InvitationCode)).issued_by
    with pytest.raises(Refused):  # a double submit does not kill the code just sent
        invitation_codes.issue_invitation_code(registration, clerk)
    second = invitation_codes.issue_invitation_code(registration, clerk, reissue=True)
    db.session.commit()
    assert redeem(portal, first).get_json()["error"] == "invalid_code"
    assert redeem(portal, second).status_code == 200


def test_twenty_wrong_codes_in_a_row_get_429(app, portal):
    _registration, code = registration_with_code()
    statuses = [
        redeem(portal, f"ABCD-EFGH-{n:04d}".replace("0", "2").replace("1", "3")).status_code
        for n in range(20)
    ]
    assert statuses[:5] == [422] * 5
    assert set(statuses[5:]) == {429}
    refused = redeem(portal, code)  # even the right code waits: the person is slowed down, not told
    assert refused.status_code == 429 and refused.headers["Retry-After"]
    assert redeem(portal, code, subject="someone-else").status_code == 200


def test_a_flood_of_wrong_codes_slows_the_portal_down_but_never_refuses_a_valid_code(app, portal):
    """The whole portal is one client: many people failing must never lock every counsel out."""
    app.config["CODE_FLOOD_FAILURES_PER_MINUTE"] = 8
    _registration, code = registration_with_code()
    answers = [redeem(portal, "ABCD-EFGH-JKLM", subject=f"person-{person}") for person in range(12)]
    assert [answer.status_code for answer in answers] == [422] * 8 + [429] * 4
    assert answers[-1].get_json()["error"] == "slow_down"
    assert answers[-1].headers["Retry-After"] == "60"
    assert answers[-1].get_json()["message_fr"]
    assert redeem(portal, code, subject="honest-person").status_code == 200
    floods = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "portal_client.code_flood")
    ).all()
    assert len(floods) == 1  # recorded once a minute, not once per wrong code


def test_two_hundred_people_failing_five_times_each_do_not_lock_counsel_out(app, portal):
    """What locked every counsel out before: a per-client limit reached by many people's typos."""
    _registration, code = registration_with_code()
    client = db.session.scalar(select(PortalClient))
    five_minutes_ago = utcnow() - timedelta(minutes=5)
    db.session.add_all(
        CodeAttempt(
            portal_client_id=client.id,
            subject_key=f"typo-{person}",
            kind="invitation_code",
            attempted_at=five_minutes_ago,
        )
        for person in range(200)
        for _attempt in range(5)
    )
    db.session.commit()
    assert redeem(portal, code, subject="honest-person").status_code == 200


def test_an_access_code_is_single_use_limited_in_attempts_and_time(app, portal):
    _registration, code = registration_with_code()
    challenge = redeem(portal, code).get_json()["challenge_id"]
    right = sent_access_code()
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(5):
        answer = portal("access-codes/verify", {"challenge_id": challenge, "access_code": wrong})
        assert answer.get_json()["error"] in ("invalid_access_code", "too_many_attempts")
    blocked = portal("access-codes/verify", {"challenge_id": challenge, "access_code": right})
    assert blocked.status_code == 429


def test_a_used_or_expired_access_code_is_refused(app, portal):
    _registration, code = registration_with_code()
    challenge = redeem(portal, code).get_json()["challenge_id"]
    right = sent_access_code()
    assert portal("access-codes/verify", {"challenge_id": challenge, "access_code": right}).status_code == 200
    again = portal("access-codes/verify", {"challenge_id": challenge, "access_code": right})
    assert again.status_code == 422 and again.get_json()["error"] == "invalid_access_code"

    _registration, code = registration_with_code()
    challenge = redeem(portal, code, subject="late-person").get_json()["challenge_id"]
    right = sent_access_code()
    from backoffice.models import AccessChallenge

    record = db.session.scalar(select(AccessChallenge).where(AccessChallenge.public_id == challenge))
    record.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    late = portal("access-codes/verify", {"challenge_id": challenge, "access_code": right})
    assert late.status_code == 422 and late.get_json()["error"] == "invalid_access_code"


def test_a_code_in_its_sms_step_stays_with_the_person_who_started_it(app, portal):
    _registration, code = registration_with_code()
    assert redeem(portal, code, subject="counsel").status_code == 200
    assert redeem(portal, code, subject="intruder").get_json()["error"] == "invalid_code"
    assert redeem(portal, code, subject="counsel").status_code == 200  # a new SMS for the same person


@pytest.mark.parametrize(
    ("body", "status", "error"),
    [
        ({}, 400, "missing_field"),
        ({"code": "X", "sign_in_provider": "facebook", "sign_in_subject": "s"}, 400, "malformed_request"),
        ([1, 2], 400, "malformed_request"),
    ],
)
def test_a_malformed_redeem_request_is_refused(app, portal, body, status, error):
    response = portal("invitation-codes/redeem", body)
    assert response.status_code == status and response.get_json()["error"] == error


def test_counsel_is_reminded_a_week_before_the_code_expires_once(app):
    registration, _code = registration_with_code()
    in_24_days = utcnow() + timedelta(days=24)
    assert invitation_codes.expire_and_remind(in_24_days)["reminded"] == [registration.id]
    assert invitation_codes.expire_and_remind(in_24_days)["reminded"] == []
    reminders = db.session.scalars(
        select(Notification).where(Notification.template == "invitation_code_reminder")
    )
    assert len(reminders.all()) == 1


def test_only_the_system_expires_a_code_and_only_the_portal_activates(app):
    registration, _code = registration_with_code()
    clerk = db.session.scalar(select(InvitationCode)).issued_by
    assert not MACHINE.may_fire(registration, "activate", clerk)
    assert not MACHINE.may_fire(registration, "expire_invitation_code", clerk)
    assert MACHINE.may_fire(registration, "activate", None)


def test_a_sign_in_already_linked_to_another_counsel_is_refused(app, portal):
    first, code = registration_with_code()
    challenge = redeem(portal, code, subject="shared-login").get_json()["challenge_id"]
    portal("access-codes/verify", {"challenge_id": challenge, "access_code": sent_access_code()})
    _second, other_code = registration_with_code()
    challenge = redeem(portal, other_code, subject="shared-login").get_json()["challenge_id"]
    refused = portal("access-codes/verify", {"challenge_id": challenge, "access_code": sent_access_code()})
    assert refused.status_code == 409 and refused.get_json()["error"] == "sign_in_already_linked"


def test_a_registration_put_on_hold_during_the_sms_step_is_not_activated(app, portal):
    from backoffice.workflows.registration.machine import fire
    from tests.factories import create_staff

    registration, code = registration_with_code()
    challenge = redeem(portal, code).get_json()["challenge_id"]
    fire(registration, "put_on_hold", create_staff("supervisor", "western"))
    db.session.commit()
    answer = portal("access-codes/verify", {"challenge_id": challenge, "access_code": sent_access_code()})
    assert answer.status_code == 422
    db.session.refresh(registration)
    assert registration.status is RegistrationStatus.ON_HOLD


def test_the_access_code_goes_to_the_mobile_verified_with_the_form(app, portal):
    registration, code = registration_with_code()
    registration.counsel.mobile = "+17785550000"  # a later import changed the record
    db.session.commit()
    answer = redeem(portal, code).get_json()
    assert answer["sms_sent_to"] == "******0199"
    sms = db.session.scalars(select(Notification).where(Notification.template == "access_code")).one()
    assert sms.recipient == "+16045550199"


def test_an_expired_code_cannot_finish_its_sms_step(app, portal):
    _registration, code = registration_with_code()
    challenge = redeem(portal, code).get_json()["challenge_id"]
    record = db.session.scalar(select(InvitationCode))
    record.expires_at = utcnow() - timedelta(seconds=1)
    db.session.commit()
    answer = portal("access-codes/verify", {"challenge_id": challenge, "access_code": sent_access_code()})
    assert answer.status_code == 422


def test_guesses_through_the_portal_do_not_block_counsel_finishing_their_sms_step(app, portal):
    app.config["CODE_FLOOD_FAILURES_PER_MINUTE"] = 3
    _registration, code = registration_with_code()
    challenge = redeem(portal, code).get_json()["challenge_id"]
    for person in range(3):
        redeem(portal, "ABCD-EFGH-JKLM", subject=f"guesser-{person}")
    answer = portal("access-codes/verify", {"challenge_id": challenge, "access_code": sent_access_code()})
    assert answer.status_code == 200
