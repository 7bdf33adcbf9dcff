"""Passkeys (WebAuthn credentials) of staff: adding one, and proving one as a second factor after a password, as
a sign-in alone (a discoverable credential: no email, no password) or again for a sensitive action (step-up).

The ceremonies are py_webauthn's; what is ours is kept here: which credentials are offered, who owns the one
presented, the signature counter (moved forward by compare-and-set, a counter that goes back refused as a
possible clone), and the lockout, shared with passwords and codes (accounts.attempt_factor). Nothing here reads
the request: the relying party's id, the origins and the challenge are passed in by the routes.

A credential arrives as the browser's JSON, so from anyone: whatever its shape, a refusal answers it (None, or
`Refused` when adding one), never an exception.
"""

import re
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm.attributes import set_committed_value
from webauthn import (
    base64url_to_bytes,
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.authentication.verify_authentication_response import VerifiedAuthentication
from webauthn.helpers import (
    bytes_to_base64url,
    parse_authentication_credential_json,
    parse_registration_credential_json,
)
from webauthn.helpers.cose import COSEAlgorithmIdentifier
from webauthn.helpers.structs import (
    AttestationConveyancePreference,
    AuthenticationCredential,
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)
from webauthn.registration.verify_registration_response import VerifiedRegistration

from backoffice.edge import odd_character
from backoffice.extensions import db
from backoffice.models import StaffPasskey, StaffUser
from backoffice.models.types import utcnow
from backoffice.observability.metrics import count_sign_in_failure
from backoffice.workflows.accounts import SignInOutcome, SignInResult, attempt_factor
from backoffice.workflows.audit import Actor, record_event
from backoffice.workflows.refusals import Refused
from backoffice.workflows.registration.codes import keyed_hash

RP_NAME = "IRB My Case back office"
ALGORITHMS = [COSEAlgorithmIdentifier.ECDSA_SHA_256, COSEAlgorithmIdentifier.RSASSA_PKCS1_v1_5_SHA_256]
TIMEOUT_MS = 120_000
MAX_NAME_LENGTH = 100
MAX_CREDENTIAL_ID_LENGTH = 1400  # the column's; browsers give at most 1023 bytes, 1364 characters
CREDENTIAL_ID = re.compile(rf"[A-Za-z0-9_-]{{1,{MAX_CREDENTIAL_ID_LENGTH}}}")
UNKNOWN_PASSKEY = "unknown passkey"  # the actor of a sign-in with a credential nobody has


def user_handle(user: StaffUser) -> bytes:
    """The id the authenticator keeps for the person: opaque (no email, no guessable number), and derived again
    whenever needed, so nothing more is stored. It changes with CODE_HASH_KEY, as the authenticator app's secret
    does: a key rotated means passkeys added again."""
    return bytes.fromhex(keyed_hash(str(user.id), "webauthn-user"))


# Adding one ---------------------------------------------------------------------------------------------------


def registration_options(user: StaffUser, rp_id: str) -> tuple[str, bytes]:
    """The options for navigator.credentials.create(), as JSON, and their challenge (the caller keeps it)."""
    options = generate_registration_options(
        rp_id=rp_id,
        rp_name=RP_NAME,
        user_id=user_handle(user),
        user_name=user.email,
        user_display_name=user.full_name,
        timeout=TIMEOUT_MS,
        attestation=AttestationConveyancePreference.NONE,
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        exclude_credentials=_descriptors(user),
        supported_pub_key_algs=ALGORITHMS,
    )
    return options_to_json(options), options.challenge


def add_passkey(
    user: StaffUser,
    credential_json: Any,
    challenge: bytes,
    rp_id: str,
    origins: list[str],
    name: str | None,
    *,
    actor: Actor,
) -> StaffPasskey:
    """Keep the credential the person's authenticator just made, once its attestation is verified (the "none"
    attestation is enough: we trust the person who is signed in, not the make of their key). The caller
    commits, or rolls back on `Refused`."""
    name = _passkey_name(user, name)
    verified = _verified_registration(credential_json, challenge, rp_id, origins)
    credential_id = bytes_to_base64url(verified.credential_id)
    if len(credential_id) > MAX_CREDENTIAL_ID_LENGTH:
        raise Refused(_l("This passkey cannot be used here. Try another one."))
    if db.session.scalar(select(exists().where(StaffPasskey.credential_id == credential_id))):
        raise Refused(_l("This passkey is already registered. Use it to sign in, or add another one."))
    passkey = StaffPasskey(
        credential_id=credential_id,
        public_key=verified.credential_public_key,
        sign_count=verified.sign_count,
        name=name,
    )
    user.passkeys.append(passkey)
    try:
        db.session.flush()
    except IntegrityError:  # the same credential sent twice at the same moment; the caller rolls back
        raise Refused(
            _l("This passkey is already registered. Use it to sign in, or add another one.")
        ) from None
    user.must_enrol = False
    record_event("staff_users.passkey_added", actor=actor, record=user, after={"name": name})
    return passkey


def _passkey_name(user: StaffUser, name: str | None) -> str:
    name = " ".join((name or "").split())
    if not name:
        return str(_l("Passkey %(number)d", number=len(user.passkeys) + 1))
    if len(name) > MAX_NAME_LENGTH:
        raise Refused(_l("A passkey's name has at most %(count)d characters.", count=MAX_NAME_LENGTH))
    if odd_character(name):
        raise Refused(_l("A passkey's name cannot hold control characters."))
    return name


def _verified_registration(
    credential_json: Any, challenge: bytes, rp_id: str, origins: list[str]
) -> VerifiedRegistration:
    refusal = Refused(_l("The passkey could not be added. Try again, or use another passkey."))
    if not isinstance(credential_json, dict | str):
        raise refusal
    try:
        credential = parse_registration_credential_json(credential_json)
        return verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origins,
            supported_pub_key_algs=ALGORITHMS,
        )
    except Exception:  # hostile input meets the library's many exceptions: each is a refusal
        raise refusal from None


# Proving one ----------------------------------------------------------------------------------------------


def authentication_options(user: StaffUser | None, rp_id: str) -> tuple[str, bytes]:
    """The options for navigator.credentials.get(), as JSON, and their challenge. For a known person (second
    factor, step-up) their credentials are offered and user verification preferred; without one (a sign-in with
    a passkey alone) the browser offers the discoverable credentials it has, which must verify the person."""
    options = generate_authentication_options(
        rp_id=rp_id,
        timeout=TIMEOUT_MS,
        allow_credentials=_descriptors(user) if user is not None else [],
        user_verification=(
            UserVerificationRequirement.PREFERRED
            if user is not None
            else UserVerificationRequirement.REQUIRED
        ),
    )
    return options_to_json(options), options.challenge


def check_passkey(
    user: StaffUser, credential_json: Any, challenge: bytes, rp_id: str, origins: list[str]
) -> SignInOutcome:
    """One of the person's passkeys, as the second factor after their password or again for a sensitive
    action: one attempt under the lockout. Does not complete a sign-in (the caller does). Commits."""
    return _attempt(user, credential_json, challenge, rp_id, origins, require_user_verification=False)


def _attempt(
    user: StaffUser,
    credential_json: Any,
    challenge: bytes,
    rp_id: str,
    origins: list[str],
    *,
    require_user_verification: bool,
) -> SignInOutcome:
    """One attempt with one of the person's passkeys, counted under their lockout."""

    def verified() -> bool:
        return (
            verify_passkey(
                credential_json,
                challenge,
                rp_id,
                origins,
                expected_user=user,
                require_user_verification=require_user_verification,
            )
            is not None
        )

    return attempt_factor(user, "wrong_passkey", verified)


def sign_in_with_passkey(
    credential_json: Any, challenge: bytes, rp_id: str, origins: list[str]
) -> SignInResult:
    """A passkey alone, instead of a password: its owner is found by the credential, then the passkey is
    checked as one attempt under that person's lockout. A credential nobody has is recorded like an unknown
    email. Does not complete the sign-in (the caller does). Commits."""
    owner = passkey_owner(credential_json)
    if owner is None:
        count_sign_in_failure("unknown_passkey")
        record_event("sign_in.failed", actor=UNKNOWN_PASSKEY)
        db.session.commit()
        return SignInResult(SignInOutcome.BAD_CREDENTIALS)
    outcome = _attempt(owner, credential_json, challenge, rp_id, origins, require_user_verification=True)
    return SignInResult(outcome, owner)


def passkey_owner(credential_json: Any) -> StaffUser | None:
    """Who owns the credential presented (nothing is verified yet), or None."""
    credential = _parsed_assertion(credential_json)
    passkey = _stored_passkey(credential) if credential is not None else None
    return passkey.staff_user if passkey is not None else None


def verify_passkey(
    credential_json: Any,
    challenge: bytes,
    rp_id: str,
    origins: list[str],
    *,
    expected_user: StaffUser | None,
    require_user_verification: bool,
) -> StaffUser | None:
    """The owner of the passkey presented, if its signature of `challenge` is right and its counter moves
    forward; else None. With `expected_user`, the passkey must be theirs. Does not count an attempt (the callers
    above do); the caller commits what this writes (the counter, the time of use, a suspected clone)."""
    credential = _parsed_assertion(credential_json)
    passkey = _stored_passkey(credential) if credential is not None else None
    if passkey is None or (expected_user is not None and passkey.staff_user_id != expected_user.id):
        return None
    given_handle = credential.response.user_handle
    if given_handle and given_handle != user_handle(passkey.staff_user):
        return None
    verified = _verified_assertion(credential, passkey, challenge, rp_id, origins, require_user_verification)
    if verified is None or not _count_use(passkey, verified.new_sign_count):
        return None
    return passkey.staff_user


def _parsed_assertion(credential_json: Any) -> AuthenticationCredential | None:
    if not isinstance(credential_json, dict | str):
        return None
    try:
        credential = parse_authentication_credential_json(credential_json)
    except Exception:  # any shape of hostile JSON: a refusal, not a 500
        return None
    # The id is looked up in the database: only the canonical base64url of the raw id, never NULs or the like.
    if not CREDENTIAL_ID.fullmatch(credential.id) or bytes_to_base64url(credential.raw_id) != credential.id:
        return None
    return credential


def _stored_passkey(credential: AuthenticationCredential) -> StaffPasskey | None:
    return db.session.scalar(select(StaffPasskey).where(StaffPasskey.credential_id == credential.id))


def _verified_assertion(
    credential: AuthenticationCredential,
    passkey: StaffPasskey,
    challenge: bytes,
    rp_id: str,
    origins: list[str],
    require_user_verification: bool,
) -> VerifiedAuthentication | None:
    try:
        return verify_authentication_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp_id,
            expected_origin=origins,
            credential_public_key=passkey.public_key,
            # Checked by _count_use instead, after the signature, so that a counter that went back is told
            # from a wrong signature (and recorded).
            credential_current_sign_count=0,
            require_user_verification=require_user_verification,
        )
    except Exception:  # hostile input meets the library's many exceptions: each is a refusal
        return None


def _count_use(passkey: StaffPasskey, new_count: int) -> bool:
    """Move the signature counter forward, by compare-and-set: of two requests carrying the same assertion, or
    two uses racing, one only passes. Authenticators that keep no counter (synced passkeys) always say 0; one
    that counts and goes back, or stays, is a possible copy of the key, refused and recorded."""
    old_count = passkey.sign_count
    if (new_count or old_count) and new_count <= old_count:
        record_event(
            "staff_users.passkey_clone_suspected",
            actor=passkey.staff_user,
            record=passkey.staff_user,
            after={"name": passkey.name, "stored_count": old_count, "presented_count": new_count},
        )
        return False
    now = utcnow()
    moved = db.session.execute(
        update(StaffPasskey)
        .where(StaffPasskey.id == passkey.id, StaffPasskey.sign_count == old_count)
        .values(sign_count=new_count, last_used_at=now)
        .execution_options(synchronize_session=False)
    ).rowcount
    if moved == 1:  # what the row now holds, without writing it again at the next flush
        set_committed_value(passkey, "sign_count", new_count)
        set_committed_value(passkey, "last_used_at", now)
    return moved == 1


def _descriptors(user: StaffUser) -> list[PublicKeyCredentialDescriptor]:
    return [PublicKeyCredentialDescriptor(id=base64url_to_bytes(key.credential_id)) for key in user.passkeys]
