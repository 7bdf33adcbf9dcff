"""Invitation codes (issued by a clerk once identity is verified) and their redemption through the portal
with an SMS access code (PORTAL-API.md, steps 4 and 5).

From outside, an unknown, used, revoked or expired code all get the same answer. Failed attempts are counted
per person (sign-in subject): too many, and that person waits (429), whatever they send. The portal client as a
whole is never locked out, since all counsel come through it: when wrong codes arrive from it faster than
CODE_FLOOD_FAILURES_PER_MINUTE, each wrong one is answered 429 "slow down" (and the flood is recorded once a
minute in the audit log for operators), while a valid code is always honoured. Guessing stays hopeless at any
rate: a code has 60 random bits.
"""

import hashlib
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import func, select, update

from backoffice.extensions import db
from backoffice.models import (
    AccessChallenge,
    AuditEvent,
    Channel,
    CodeAttempt,
    InvitationCode,
    PortalAccount,
    PortalAccountStatus,
    PortalClient,
    Registration,
    RegistrationStatus,
    StaffUser,
)
from backoffice.models.types import utcnow
from backoffice.workflows.audit import record_event, record_event_now
from backoffice.workflows.concurrency import for_update
from backoffice.workflows.refusals import Refusal, Refused
from backoffice.workflows.registration import codes
from backoffice.workflows.registration.machine import MACHINE, R, fire, message_counsel, require
from backoffice.workflows.state_machine import TransitionRefused

SIGN_IN_PROVIDERS = ("gckey", "partner")
MAX_CHALLENGES_PER_CODE = 3


def issue_invitation_code(
    registration: Registration, clerk: StaffUser, *, reissue: bool = False, demo: bool = False
) -> str:
    """A new code for the registration; `reissue` revokes a code already out (a double submit does not).

    Returned once, and sent to counsel.
    """
    require(registration, "issue_invitation_code", clerk)
    if registration.current_code is not None and not reissue:
        raise Refused(_l("An invitation code is already out. Choose Reissue to replace it."))
    if not registration.verified_mobile:
        raise Refused(_l("No mobile number was verified with the form: the access code could not be sent."))
    now = utcnow()
    for earlier in registration.invitation_codes:
        if earlier.revoked_at is None and earlier.redeemed_at is None:
            earlier.revoked_at = now
    code = codes.new_invitation_code()
    days = current_app.config["INVITATION_CODE_DAYS"]
    record = InvitationCode(
        registration=registration,
        code_hash=codes.invitation_code_hash(code),
        issued_at=now,
        expires_at=now + timedelta(days=days),
        issued_by=clerk,
        is_demo=demo,
    )
    db.session.add(record)
    fire(registration, "issue_invitation_code", clerk, expires_at=record.expires_at.isoformat())
    _send_code(registration, code, record.expires_at)
    return code


def _send_code(registration: Registration, code: str, expires_at: datetime) -> None:
    values = {
        "invitation_code": code,
        "portal_url": current_app.config["PORTAL_URL"],
        "expires_on": expires_at.astimezone(registration.office.zone).strftime("%Y-%m-%d"),
    }
    message_counsel(registration, "invitation_code", values)


def expire_and_remind(now: datetime | None = None) -> dict[str, list[int]]:
    """The daily upkeep of codes: expire those past their date, remind counsel a week before."""
    now = now or utcnow()
    expired, reminded = [], []
    usable = select(InvitationCode).where(
        InvitationCode.revoked_at.is_(None), InvitationCode.redeemed_at.is_(None)
    )
    for record in db.session.scalars(usable.where(InvitationCode.expires_at <= now)).all():
        record.revoked_at = record.expired_at = now
        if MACHINE.may_fire(record.registration, "expire_invitation_code", None):
            fire(record.registration, "expire_invitation_code")
        elif record.registration.status_before_hold is R.CODE_ISSUED:
            record.registration.status_before_hold = R.CODE_EXPIRED  # resumes to a new code, not a dead one
        expired.append(record.registration_id)
    soon = now + timedelta(days=current_app.config["INVITATION_CODE_REMINDER_DAYS"])
    due = usable.join(Registration).where(
        Registration.status == RegistrationStatus.CODE_ISSUED,
        InvitationCode.expires_at > now,
        InvitationCode.expires_at <= soon,
        InvitationCode.reminder_queued_at.is_(None),
    )
    for record in db.session.scalars(due).all():
        record.reminder_queued_at = now
        _remind(record)
        reminded.append(record.registration_id)
    db.session.commit()
    return {"expired": expired, "reminded": reminded}


def _remind(record: InvitationCode) -> None:
    registration = record.registration
    values = {
        "expires_on": record.expires_at.astimezone(registration.office.zone).strftime("%Y-%m-%d"),
        "portal_url": current_app.config["PORTAL_URL"],
    }
    message_counsel(registration, "invitation_code_reminder", values)


# The portal's side


@dataclass(frozen=True)
class RedeemRequest:
    code: str
    provider: str
    subject: str


def read_redeem_request(body: object) -> RedeemRequest:
    if not isinstance(body, dict):
        raise Refusal("malformed_request", reason="a JSON object is expected")
    code, provider, subject = (body.get(key) for key in ("code", "sign_in_provider", "sign_in_subject"))
    for name, value in (("code", code), ("sign_in_provider", provider), ("sign_in_subject", subject)):
        if not isinstance(value, str) or not value.strip():
            raise Refusal("missing_field", field=name)
    if provider not in SIGN_IN_PROVIDERS:
        raise Refusal("malformed_request", reason="sign_in_provider is gckey or partner")
    if len(subject) > 200 or len(code) > 40:
        raise Refusal("malformed_request", reason="a field is too long")
    return RedeemRequest(code, provider, subject.strip())


def redeem_invitation_code(client: PortalClient, request: RedeemRequest) -> AccessChallenge:
    """Step 4: a valid code gives a challenge and an SMS access code to the mobile verified at registration."""
    person = _subject_key(request.provider, request.subject)
    _refuse_when_too_many_failures(client, person)
    record = _usable_code(request.code)
    if record is None or not _may_challenge(record, request):
        _count_failure(client, person, "invitation_code")
        raise _wrong_code_refusal(client)
    registration = record.registration
    _close_open_challenges(record)
    access_code = codes.new_access_code()
    challenge = AccessChallenge(
        invitation_code=record,
        portal_client_id=client.id,
        code_hash=codes.access_code_hash(access_code),
        sign_in_provider=request.provider,
        sign_in_subject=request.subject,
        expires_at=utcnow() + timedelta(hours=current_app.config["ACCESS_CODE_HOURS"]),
    )
    db.session.add(challenge)
    db.session.flush()
    message_counsel(
        registration,
        "access_code",
        {"access_code": access_code, "valid_hours": current_app.config["ACCESS_CODE_HOURS"]},
        Channel.SMS,
        to=registration.verified_mobile,
    )
    record_event(
        "invitation_code.redeemed",
        record=record.registration,
        actor=f"portal: {client.name}",
        after={"challenge": challenge.public_id, "sign_in_provider": request.provider},
    )
    return challenge


def _usable_code(code: str) -> InvitationCode | None:
    digest = codes.invitation_code_hash(code)
    if digest is None:
        return None
    # Locked until the commit, so that two redemptions of one code are counted one after the other.
    record = db.session.scalar(for_update(select(InvitationCode).where(InvitationCode.code_hash == digest)))
    if record is None or record.revoked_at or record.redeemed_at or record.expires_at <= utcnow():
        return None
    if record.registration.status is not RegistrationStatus.CODE_ISSUED:
        return None
    return record


def _may_challenge(record: InvitationCode, request: RedeemRequest) -> bool:
    """A code in the middle of its SMS step stays with the person who started it, a few times at most."""
    earlier = db.session.scalars(
        select(AccessChallenge).where(AccessChallenge.invitation_code_id == record.id)
    ).all()
    if len(earlier) >= MAX_CHALLENGES_PER_CODE:
        return False
    pending = [c for c in earlier if c.used_at is None and c.expires_at > utcnow()]
    return all(
        (c.sign_in_provider, c.sign_in_subject) == (request.provider, request.subject) for c in pending
    )


def _close_open_challenges(record: InvitationCode) -> None:
    db.session.execute(
        update(AccessChallenge)
        .where(AccessChallenge.invitation_code_id == record.id, AccessChallenge.used_at.is_(None))
        .values(expires_at=utcnow())
    )


def verify_access_code(client: PortalClient, body: object) -> PortalAccount:
    """Step 5: the SMS code, once, within 24 hours, in a few attempts. Success makes the account and the
    registration active."""
    challenge_id, access_code = _read_verify_request(body)
    challenge = db.session.scalar(select(AccessChallenge).where(AccessChallenge.public_id == challenge_id))
    if challenge is None or challenge.used_at or challenge.expires_at <= utcnow():
        raise Refusal("invalid_access_code")
    if not _count_attempt(challenge):
        raise Refusal("too_many_attempts")
    if not codes.same_hash(challenge.code_hash, codes.access_code_hash(access_code)):
        raise Refusal("invalid_access_code")
    return _activate(client, challenge)


def _count_attempt(challenge: AccessChallenge) -> bool:
    """Count this attempt in one statement, committed at once, so parallel guesses cannot share one."""
    counted = db.session.execute(
        update(AccessChallenge)
        .where(
            AccessChallenge.id == challenge.id,
            AccessChallenge.attempts < current_app.config["ACCESS_CODE_MAX_ATTEMPTS"],
        )
        .values(attempts=AccessChallenge.attempts + 1)
        .execution_options(synchronize_session=False)
    )
    db.session.commit()
    return counted.rowcount == 1


def _read_verify_request(body: object) -> tuple[str, str]:
    if not isinstance(body, dict):
        raise Refusal("malformed_request", reason="a JSON object is expected")
    challenge_id, access_code = body.get("challenge_id"), body.get("access_code")
    for name, value in (("challenge_id", challenge_id), ("access_code", access_code)):
        if not isinstance(value, str) or not value.strip():
            raise Refusal("missing_field", field=name)
    challenge_id, access_code = challenge_id.strip(), access_code.strip()
    if len(challenge_id) > 36 or len(access_code) > 12:  # no challenge has such an id, no code such a length
        raise Refusal("invalid_access_code")
    return challenge_id, access_code


def _activate(client: PortalClient, challenge: AccessChallenge) -> PortalAccount:
    record = challenge.invitation_code
    registration = record.registration
    if (
        not MACHINE.may_fire(registration, "activate", None)
        or record.revoked_at
        or record.expires_at <= utcnow()
    ):
        raise Refusal("invalid_access_code")  # put on hold, withdrawn, reissued or expired meanwhile
    taken = db.session.scalar(
        select(PortalAccount).where(
            PortalAccount.sign_in_provider == challenge.sign_in_provider,
            PortalAccount.sign_in_subject == challenge.sign_in_subject,
            PortalAccount.counsel_id != registration.counsel_id,
        )
    )
    if taken is not None:
        raise Refusal("sign_in_already_linked")
    now = utcnow()
    used = db.session.execute(
        update(AccessChallenge)
        .where(AccessChallenge.id == challenge.id, AccessChallenge.used_at.is_(None))
        .values(used_at=now)
        .execution_options(synchronize_session=False)
    )
    if used.rowcount != 1:
        raise Refusal("invalid_access_code")  # the same code verified twice at once: one wins
    challenge.used_at = now
    record.redeemed_at = now
    account = db.session.scalar(
        select(PortalAccount).where(PortalAccount.counsel_id == registration.counsel_id)
    )
    if account is None:
        account = PortalAccount(counsel=registration.counsel)
        db.session.add(account)
    account.sign_in_provider = challenge.sign_in_provider
    account.sign_in_subject = challenge.sign_in_subject
    account.status = PortalAccountStatus.ACTIVE
    try:
        MACHINE.fire(registration, "activate", actor_label=f"portal: {client.name}")
    except TransitionRefused:
        raise Refusal("invalid_access_code") from None  # a clerk acted on the registration at that moment
    db.session.flush()
    record_event("portal_account.activated", record=account, actor=f"portal: {client.name}")
    return account


def _subject_key(provider: str, subject: str) -> str:
    return hashlib.sha256(f"{provider}:{subject}".encode()).hexdigest()


def _refuse_when_too_many_failures(client: PortalClient, person: str) -> None:
    """The person's limit: after too many wrong codes, even a right one waits (the person is slowed down, not
    told which of their codes was right)."""
    config = current_app.config
    since = utcnow() - timedelta(minutes=config["CODE_FAILURE_WINDOW_MINUTES"])
    if _failures_since(client, since, person) >= config["CODE_FAILURES_PER_PERSON"]:
        raise Refusal("too_many_attempts")


def _failures_since(client: PortalClient, since: datetime, person: str | None = None) -> int:
    recent = select(func.count(CodeAttempt.id)).where(
        CodeAttempt.portal_client_id == client.id, CodeAttempt.attempted_at > since
    )
    if person is not None:
        recent = recent.where(CodeAttempt.subject_key == person)
    return db.session.scalar(recent)


FLOOD_WINDOW = timedelta(minutes=1)


def _wrong_code_refusal(client: PortalClient) -> Refusal:
    """The answer to a wrong code (already counted): "invalid", or "slow down" while the client floods."""
    now = utcnow()
    if _failures_since(client, now - FLOOD_WINDOW) <= current_app.config["CODE_FLOOD_FAILURES_PER_MINUTE"]:
        return Refusal("invalid_code")
    _record_flood(client, now)
    return Refusal("slow_down", retry_after_seconds=int(FLOOD_WINDOW.total_seconds()))


def _record_flood(client: PortalClient, now: datetime) -> None:
    """Once a minute at most, so that a flood does not also flood the audit log."""
    recorded = db.session.scalar(
        select(AuditEvent.id).where(
            AuditEvent.action == "portal_client.code_flood",
            AuditEvent.record_type == PortalClient.__tablename__,
            AuditEvent.record_id == str(client.id),
            AuditEvent.occurred_at > now - FLOOD_WINDOW,
        )
    )
    if recorded is None:
        record_event_now(
            "portal_client.code_flood",
            record=client,
            actor=f"portal: {client.name}",
            after={"per_minute_above": current_app.config["CODE_FLOOD_FAILURES_PER_MINUTE"]},
        )


def _count_failure(client: PortalClient, person: str, kind: str) -> None:
    """Committed at once: the refusal that follows rolls the request back, not this count."""
    db.session.add(CodeAttempt(portal_client_id=client.id, subject_key=person, kind=kind))
    db.session.commit()
