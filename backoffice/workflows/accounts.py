"""Staff accounts: creation, password hashing (Argon2id), sign-in with lockout, second factors at sign-in.

One count of failed attempts covers the password and the second factor: an attempt of either is reserved
(counted) before it is checked, and only a complete sign-in resets the count. Knowing the password therefore
gives no more guesses at the second factor than the lockout allows."""

import enum
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from flask import Flask, current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import case, func, or_, select, update

from backoffice.extensions import db
from backoffice.models import Division, Office, Role, SignInMethod, StaffUser
from backoffice.models.types import utcnow
from backoffice.observability.metrics import count_lockout, count_sign_in_failure
from backoffice.workflows import factors
from backoffice.workflows.audit import Actor, record_event


@dataclass(frozen=True)
class PasswordHashing:
    """Argon2id with the application's costs (PASSWORD_HASH_*), and a hash verified against when the email is
    unknown, so that the answer takes as long either way."""

    hasher: PasswordHasher
    dummy_hash: str


def init_password_hashing(app: Flask) -> None:
    hasher = PasswordHasher(
        time_cost=app.config["PASSWORD_HASH_TIME_COST"],
        memory_cost=app.config["PASSWORD_HASH_MEMORY_KIB"],
        parallelism=app.config["PASSWORD_HASH_PARALLELISM"],
    )
    app.extensions["password_hashing"] = PasswordHashing(hasher, hasher.hash("not a real password"))


def _hashing() -> PasswordHashing:
    return current_app.extensions["password_hashing"]


MIN_PASSWORD_LENGTH = 12


def new_session_token() -> str:
    return secrets.token_urlsafe(24)


class AccountError(ValueError):
    """A refusal with a message in the reader's language."""


def hash_password(password: str) -> str:
    return _hashing().hasher.hash(password)


def check_password_strength(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(_l("A password needs at least %(count)d characters.", count=MIN_PASSWORD_LENGTH))


def find_staff_by_email(email: str) -> StaffUser | None:
    return db.session.scalar(select(StaffUser).where(func.lower(StaffUser.email) == email.strip().lower()))


def create_staff_user(
    *,
    email: str,
    full_name: str,
    password: str,
    role: Role,
    office_code: str | None,
    division_code: str | None = None,
    preferred_language: str = "en",
    created_by: Actor,
) -> StaffUser:
    """Create a staff user after checking the rules of roles, offices and divisions."""
    email = email.strip().lower()
    if find_staff_by_email(email):
        raise AccountError(_l("A staff user with this email already exists."))
    check_password_strength(password)
    office = _office_by_code(office_code)
    division = _division_by_code(division_code)
    check_role_scope(role, office, division)
    user = StaffUser(
        email=email,
        full_name=full_name.strip(),
        password_hash=hash_password(password),
        role=role,
        office=office,
        division=division,
        preferred_language=preferred_language,
    )
    db.session.add(user)
    db.session.flush()
    record_event("staff_users.created", actor=created_by, record=user, after=describe_staff(user))
    return user


def check_role_scope(role: Role, office: Office | None, division: Division | None) -> None:
    if office is None and role is not Role.SUPERVISOR:
        raise AccountError(_l("Only a supervisor may have national scope; choose an office."))
    if role is Role.DIVISION_MEMBER and division is None:
        raise AccountError(_l("A division member needs a division."))
    if role is not Role.DIVISION_MEMBER and division is not None:
        raise AccountError(_l("Only division members belong to a division."))


def describe_staff(user: StaffUser) -> dict[str, str | None]:
    return {
        "email": user.email,
        "role": user.role.value,
        "office": user.office.code if user.office else None,
        "division": user.division.code if user.division else None,
        "active": str(user.is_active_account),
    }


def _office_by_code(code: str | None) -> Office | None:
    if code in (None, "", "national"):
        return None
    office = db.session.scalar(select(Office).where(Office.code == code))
    if office is None:
        raise AccountError(_l("Unknown office: %(code)s.", code=code))
    return office


def _division_by_code(code: str | None) -> Division | None:
    if not code:
        return None
    division = db.session.scalar(select(Division).where(Division.code == code.upper()))
    if division is None:
        raise AccountError(_l("Unknown division: %(code)s.", code=code))
    return division


class SignInOutcome(enum.Enum):
    SIGNED_IN = "signed_in"
    SECOND_FACTOR_NEEDED = "second_factor_needed"
    BAD_CREDENTIALS = "bad_credentials"
    LOCKED = "locked"


@dataclass
class SignInResult:
    outcome: SignInOutcome
    user: StaffUser | None = None


def sign_in(email: str, password: str) -> SignInResult:
    """Check a password, counting failures and locking the account after too many. Commits.

    An attempt is reserved (counted) before its password is checked, in one statement that refuses once
    SIGN_IN_MAX_FAILURES are counted: however many guesses arrive at once, no more passwords than that are
    ever checked until the lockout ends or the right password resets the count.
    """
    user = find_staff_by_email(email)
    if user is None or not user.is_active_account:
        _verify(_hashing().dummy_hash, password)
        count_sign_in_failure("unknown_account")
        record_event("sign_in.failed", actor=_email_domain(email))
        db.session.commit()
        return SignInResult(SignInOutcome.BAD_CREDENTIALS)
    if not _reserve_attempt(user):
        _verify(_hashing().dummy_hash, password)
        count_sign_in_failure("locked")
        record_event("sign_in.refused_locked", record=user, actor=user)
        _start_lockout(user)  # if the attempts still being checked have not started it yet
        db.session.commit()
        return SignInResult(SignInOutcome.LOCKED, user)
    if not _verify(user.password_hash, password):
        return _count_failure(user, "wrong_password")
    if _hashing().hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    if user.has_second_factor:
        # The password is right, but the attempt stays counted until the second factor is too.
        record_event("sign_in.password_accepted", record=user, actor=user)
        db.session.commit()
        return SignInResult(SignInOutcome.SECOND_FACTOR_NEEDED, user)
    complete_sign_in(user, SignInMethod.PASSWORD)
    return SignInResult(SignInOutcome.SIGNED_IN, user)


class SecondFactor(enum.StrEnum):
    TOTP = "totp"
    RECOVERY_CODE = "recovery_code"


SECOND_FACTOR_METHODS = {
    SecondFactor.TOTP: SignInMethod.PASSWORD_TOTP,
    SecondFactor.RECOVERY_CODE: SignInMethod.PASSWORD_RECOVERY_CODE,
}


def check_second_factor(user: StaffUser, kind: SecondFactor, code: str) -> SignInOutcome:
    """Check a code of the person's app or one of their recovery codes, under the same lockout as passwords.
    Does not complete the sign-in (the caller does, for a sign-in or a confirmation). Commits."""
    if kind is SecondFactor.TOTP:
        return attempt_factor(user, f"wrong_{kind.value}", lambda: factors.check_totp(user, code))
    outcome = attempt_factor(user, f"wrong_{kind.value}", lambda: factors.use_recovery_code(user, code))
    if outcome is SignInOutcome.SIGNED_IN:
        record_event(
            "staff_users.recovery_code_used",
            record=user,
            actor=user,
            after={"left": user.recovery_codes_left},
        )
        db.session.commit()
    return outcome


def attempt_factor(user: StaffUser, failure_reason: str, check: Callable[[], bool]) -> SignInOutcome:
    """One attempt at a factor (a code, a passkey) counted under the lockout before `check` runs: a failure
    counts (and may lock), a success resets the count. Commits."""
    if not user.is_active_account:
        return SignInOutcome.BAD_CREDENTIALS
    if not _reserve_attempt(user):
        count_sign_in_failure("locked")
        record_event("sign_in.refused_locked", record=user, actor=user)
        _start_lockout(user)
        db.session.commit()
        return SignInOutcome.LOCKED
    if not check():
        db.session.commit()  # what the check wrote stays (a step moved forward, a code used)
        return _count_failure(user, failure_reason).outcome
    _reset_failures(user)
    db.session.commit()
    return SignInOutcome.SIGNED_IN


def complete_sign_in(user: StaffUser, method: SignInMethod) -> None:
    """A whole sign-in: the count of failures starts again and the way the person proved who they are is
    recorded (audit log, staff list). Commits."""
    _reset_failures(user)
    db.session.execute(
        update(StaffUser)
        .where(StaffUser.id == user.id)
        .values(last_sign_in_at=utcnow(), last_sign_in_method=method)
        .execution_options(synchronize_session=False)
    )
    db.session.refresh(user)
    record_event("sign_in.succeeded", record=user, actor=user, after={"method": method.value})
    db.session.commit()


def _reset_failures(user: StaffUser) -> None:
    db.session.execute(
        update(StaffUser)
        .where(StaffUser.id == user.id)
        .values(failed_sign_ins=0, locked_until=None)
        .execution_options(synchronize_session=False)
    )


def reset_factors(user: StaffUser, *, actor: Actor) -> None:
    """An administrator removes every second factor of a person (a lost phone, a key left behind): their
    sessions end, and they enrol again at their next sign-in. The caller commits."""
    before = factors.clear_factors(user)
    user.must_enrol = True
    end_sessions(user)
    record_event("staff_users.factors_reset", actor=actor, record=user, before=before)


def _reserve_attempt(user: StaffUser) -> bool:
    """Count one more attempt unless the account is locked or its attempts are all taken; committed at once.

    A lockout that has ended starts a fresh count (this attempt is its first)."""
    now = utcnow()
    lock_ended = StaffUser.locked_until <= now
    reserved = db.session.execute(
        update(StaffUser)
        .where(
            StaffUser.id == user.id,
            or_(
                lock_ended,
                StaffUser.locked_until.is_(None)
                & (StaffUser.failed_sign_ins < current_app.config["SIGN_IN_MAX_FAILURES"]),
            ),
        )
        .values(
            failed_sign_ins=case((lock_ended, 1), else_=StaffUser.failed_sign_ins + 1),
            locked_until=None,
        )
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.commit()
    return reserved == 1


def _count_failure(user: StaffUser, reason: str) -> SignInResult:
    """The attempt was counted when reserved; the failure that used the last one starts the lockout."""
    count_sign_in_failure(reason)
    action = "sign_in.failed" if reason == "wrong_password" else "sign_in.second_factor_failed"
    record_event(action, record=user, actor=user, after={"reason": reason})
    outcome = SignInOutcome.LOCKED if _start_lockout(user) else SignInOutcome.BAD_CREDENTIALS
    db.session.commit()
    return SignInResult(outcome, user)


def _start_lockout(user: StaffUser) -> bool:
    """Lock the account once all its attempts are used, unless a lockout has already started."""
    minutes = current_app.config["SIGN_IN_LOCKOUT_MINUTES"]
    started = db.session.execute(
        update(StaffUser)
        .where(
            StaffUser.id == user.id,
            StaffUser.failed_sign_ins >= current_app.config["SIGN_IN_MAX_FAILURES"],
            StaffUser.locked_until.is_(None),
        )
        .values(locked_until=utcnow() + timedelta(minutes=minutes))
        .execution_options(synchronize_session=False)
    ).rowcount
    if started == 1:
        count_lockout()
        record_event("staff_users.locked_out", record=user, actor=user, after={"minutes": minutes})
    return started == 1


def check_password(user: StaffUser, password: str) -> bool:
    """The person's password, checked again (a confirmation before a sensitive action)."""
    return _verify(user.password_hash, password)


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _hashing().hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def _email_domain(email: str) -> str:
    """Unknown sign-in names are not personal data we keep: only their domain is recorded."""
    domain = email.rpartition("@")[2].strip().lower()[:80]
    return f"unknown user @{domain}" if domain else "unknown user"


def set_password(user: StaffUser, password: str) -> None:
    """Set a new password and lift any lockout. The caller's audit event records the change
    (as "password changed", never the hash)."""
    check_password_strength(password)
    user.password_hash = hash_password(password)
    user.failed_sign_ins = 0
    user.locked_until = None
    end_sessions(user)


def end_sessions(user: StaffUser) -> None:
    """Sign the user out everywhere: every session cookie issued before now stops working."""
    user.session_token = new_session_token()
