"""Second factors of staff who sign in with a password: an authenticator app (TOTP), passkeys (kept here, proved
in workflows/passkeys.py) and single-use recovery codes; and an administrator's reset of them all.

Every acceptance is a compare-and-set on the row (checked row count), so that two requests carrying the same
code at once cannot both pass, on SQLite as on PostgreSQL: a TOTP code moves `totp_last_step` forward only
if it is ahead of it, a recovery code sets its `used_at` only while it is empty. The caller commits.
"""

import base64
import hashlib
import hmac
import secrets
import time

import pyotp
import segno
from cryptography.fernet import Fernet, InvalidToken
from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import delete, or_, update

from backoffice.extensions import db
from backoffice.models import RecoveryCode, StaffUser
from backoffice.models.types import utcnow
from backoffice.workflows.audit import Actor, record_event
from backoffice.workflows.refusals import Refused
from backoffice.workflows.registration.codes import keyed_hash

ISSUER = "IRB My Case back office"
TOTP_STEP_SECONDS = 30
TOTP_SKEW_STEPS = 1  # a code of the step before or after is accepted too (clocks drift)
RECOVERY_CODE_COUNT = 10
RECOVERY_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I/L: read aloud or copied by hand
RECOVERY_CODE_LENGTH = 10


def _cipher() -> Fernet:
    """The TOTP secret must be read back to check a code, so it is encrypted (not hashed), under a key derived
    from the code-hashing key: a copy of the database alone does not give anyone's second factor."""
    config = current_app.config
    key = (config["CODE_HASH_KEY"] or f"code-hash:{config['SECRET_KEY']}").encode()
    derived = hmac.new(key, b"totp-secret-encryption", hashlib.sha256).digest()
    return Fernet(base64.urlsafe_b64encode(derived))


def _secret_of(user: StaffUser) -> str | None:
    if not user.totp_secret:
        return None
    try:
        return _cipher().decrypt(user.totp_secret.encode()).decode()
    except InvalidToken:  # the key was changed: the app must be set up again
        return None


# Authenticator app -------------------------------------------------------------------------------------------


def start_totp_enrolment(user: StaffUser) -> str:
    """A new secret for the person's authenticator app, kept unconfirmed (unusable) until a first code proves
    that the app has it. Replaces an unconfirmed one; a confirmed app stays in use until the new one is."""
    if user.has_totp:
        raise Refused(_l("An authenticator app is already set up. Remove it first to set up another."))
    secret = pyotp.random_base32()
    user.totp_secret = _cipher().encrypt(secret.encode()).decode()
    return secret


def pending_totp_secret(user: StaffUser) -> str | None:
    return None if user.has_totp else _secret_of(user)


def provisioning_uri(user: StaffUser, secret: str) -> str:
    return pyotp.TOTP(secret, interval=TOTP_STEP_SECONDS).provisioning_uri(
        name=user.email, issuer_name=ISSUER
    )


def qr_code_svg(uri: str) -> str:
    """The QR code as inline SVG, drawn in the page: the secret never leaves for an image service."""
    return segno.make(uri, error="m").svg_inline(scale=5, dark="#000", light="#fff", title=str(_l("QR code")))


def grouped(secret: str) -> str:
    """The secret in groups of four, for typing into an app by hand."""
    return " ".join(secret[index : index + 4] for index in range(0, len(secret), 4))


def confirm_totp(user: StaffUser, code: str, *, actor: Actor) -> list[str]:
    """Confirm the app with its first code; returns new recovery codes when the person has none left (shown
    once), else an empty list."""
    secret = pending_totp_secret(user)
    if secret is None:
        raise Refused(_l("Start the set-up of the authenticator app again."))
    if not _accept_totp(user, secret, code):
        raise Refused(_l("This code is not correct. Check the time on your phone and try the next code."))
    user.totp_confirmed_at = utcnow()
    user.must_enrol = False
    record_event("staff_users.totp_added", actor=actor, record=user)
    return replace_recovery_codes(user, actor=actor) if user.recovery_codes_left == 0 else []


def check_totp(user: StaffUser, code: str) -> bool:
    secret = _secret_of(user) if user.has_totp else None
    return secret is not None and _accept_totp(user, secret, code)


def _accept_totp(user: StaffUser, secret: str, code: str) -> bool:
    """A code matches the current step or one next to it, and is accepted only if its step is later than the
    last accepted one: the same code (or an older one) never works twice."""
    code = "".join(code.split())
    if len(code) != 6 or not code.isdigit():
        return False
    totp = pyotp.TOTP(secret, interval=TOTP_STEP_SECONDS)
    now_step = int(time.time()) // TOTP_STEP_SECONDS
    for step in range(now_step - TOTP_SKEW_STEPS, now_step + TOTP_SKEW_STEPS + 1):
        if hmac.compare_digest(totp.at(step * TOTP_STEP_SECONDS), code):
            return _move_step_forward(user, step)
    return False


def _move_step_forward(user: StaffUser, step: int) -> bool:
    moved = db.session.execute(
        update(StaffUser)
        .where(
            StaffUser.id == user.id,
            or_(StaffUser.totp_last_step.is_(None), StaffUser.totp_last_step < step),
        )
        .values(totp_last_step=step)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved == 1:
        user.totp_last_step = step
    return moved == 1


def remove_totp(user: StaffUser, *, actor: Actor) -> None:
    if not user.has_totp:
        raise Refused(_l("No authenticator app is set up."))
    _refuse_removing_last_factor(user, remaining=len(user.passkeys))
    user.totp_secret = None
    user.totp_confirmed_at = None
    user.totp_last_step = None  # it guarded that secret's codes; a new secret starts afresh
    record_event("staff_users.totp_removed", actor=actor, record=user)


def _refuse_removing_last_factor(user: StaffUser, remaining: int) -> None:
    if remaining == 0 and current_app.config["REQUIRE_MFA"] and not user.oidc_subject:
        raise Refused(_l("A second factor is required here: add another one before removing this one."))


# Passkeys (the ceremonies are in workflows/passkeys.py) ----------------------------------------------------------


def remove_passkey(user: StaffUser, passkey_id: int, *, actor: Actor) -> None:
    passkey = next((key for key in user.passkeys if key.id == passkey_id), None)
    if passkey is None:
        raise Refused(_l("This passkey is not one of yours."))
    _refuse_removing_last_factor(user, remaining=len(user.passkeys) - 1 + int(user.has_totp))
    user.passkeys.remove(passkey)
    record_event("staff_users.passkey_removed", actor=actor, record=user, before={"name": passkey.name})


# Recovery codes ----------------------------------------------------------------------------------------------


def replace_recovery_codes(user: StaffUser, *, actor: Actor) -> list[str]:
    """Ten new single-use codes, replacing any earlier ones; returned once, kept only as keyed hashes."""
    codes = [
        "".join(secrets.choice(RECOVERY_ALPHABET) for _ in range(RECOVERY_CODE_LENGTH))
        for _ in range(RECOVERY_CODE_COUNT)
    ]
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.staff_user_id == user.id))
    db.session.expire(user, ["recovery_codes"])
    db.session.add_all(RecoveryCode(staff_user_id=user.id, code_hash=_recovery_hash(code)) for code in codes)
    db.session.flush()
    db.session.expire(user, ["recovery_codes"])
    record_event("staff_users.recovery_codes_made", actor=actor, record=user, after={"count": len(codes)})
    return [f"{code[:5]}-{code[5:]}" for code in codes]


def use_recovery_code(user: StaffUser, code: str) -> bool:
    normalised = "".join(character for character in code.upper() if character.isalnum())
    if len(normalised) != RECOVERY_CODE_LENGTH:
        return False
    used = db.session.execute(
        update(RecoveryCode)
        .where(
            RecoveryCode.staff_user_id == user.id,
            RecoveryCode.code_hash == _recovery_hash(normalised),
            RecoveryCode.used_at.is_(None),
        )
        .values(used_at=utcnow())
        .execution_options(synchronize_session=False)
    ).rowcount
    db.session.expire(user, ["recovery_codes"])
    return used == 1


def _recovery_hash(code: str) -> str:
    return keyed_hash(code, "staff-recovery")


# All of them -------------------------------------------------------------------------------------


def clear_factors(user: StaffUser) -> dict[str, int | bool]:
    """Remove every second factor (app, passkeys, recovery codes); returns what there was, for the audit."""
    before = describe_factors(user)
    user.totp_secret = None
    user.totp_confirmed_at = None
    user.totp_last_step = None
    user.passkeys.clear()
    db.session.execute(delete(RecoveryCode).where(RecoveryCode.staff_user_id == user.id))
    db.session.expire(user, ["recovery_codes"])
    return before


def describe_factors(user: StaffUser) -> dict[str, int | bool]:
    return {
        "authenticator_app": user.has_totp,
        "passkeys": len(user.passkeys),
        "recovery_codes_left": user.recovery_codes_left,
    }
