"""Invitation codes and SMS access codes: how they are made, written and kept (only as keyed hashes).

An invitation code is 12 characters from an alphabet of 32 without look-alikes (no 0/O, 1/I), that is 60
bits from `secrets`, printed in groups for reading: K7QM-3XPR-9TWD. An access code is 6 digits. Both are
stored as HMAC-SHA256 under a key of the back office, so a copy of the database alone cannot check guesses.
"""

import hashlib
import hmac
import re
import secrets

from flask import current_app

ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"
CODE_LENGTH = 12
GROUP = 4
NOT_IN_CODE = re.compile(r"[\s-]+")


def new_invitation_code() -> str:
    characters = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    return "-".join(characters[start : start + GROUP] for start in range(0, CODE_LENGTH, GROUP))


def normalise_invitation_code(typed: str) -> str | None:
    """What counsel typed, in the stored form, or None when it cannot be a code (so no lookup is needed)."""
    characters = NOT_IN_CODE.sub("", typed or "").upper()
    characters = characters.replace("O", "0").replace("I", "1")  # read as typed; neither is in the alphabet
    if len(characters) != CODE_LENGTH or any(character not in ALPHABET for character in characters):
        return None
    return characters


def new_access_code() -> str:
    return f"{secrets.randbelow(10**6):06d}"


def keyed_hash(value: str, purpose: str) -> str:
    """HMAC-SHA256 of a code under the back office's key; `purpose` keeps the two kinds of codes apart."""
    config = current_app.config
    key = (config["CODE_HASH_KEY"] or f"code-hash:{config['SECRET_KEY']}").encode()
    return hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).hexdigest()


def invitation_code_hash(code: str) -> str | None:
    normalised = normalise_invitation_code(code)
    return keyed_hash(normalised, "invitation") if normalised else None


def access_code_hash(code: str) -> str:
    return keyed_hash(code, "access")


def masked_phone(number: str | None) -> str:
    digits = re.sub(r"\D", "", number or "")
    return "******" + digits[-4:] if len(digits) >= 4 else "******"


def same_hash(stored: str, computed: str) -> bool:
    return hmac.compare_digest(stored, computed)
