"""The portal's side of the back office: client tokens for the API, and counsel's portal accounts."""

import hashlib
import hmac
import secrets

from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.models import Case, CaseStatus, CounselOfRecord, PortalAccount, PortalClient
from backoffice.models.types import utcnow
from backoffice.workflows.audit import COMMAND_LINE, Actor, record_event

TOKEN_PREFIX = "mcp_"  # noqa: S105 - a prefix that names the kind of token


class PortalClientError(ValueError):
    pass


def hash_token(token: str) -> str:
    """Tokens carry 256 random bits, so a plain SHA-256 is enough to keep them unusable if the table leaks."""
    return hashlib.sha256(token.encode()).hexdigest()


def create_portal_client(name: str, actor: Actor = COMMAND_LINE) -> tuple[PortalClient, str]:
    """A new client and its token; the token is returned once and only its hash is kept."""
    name = name.strip()
    if not name or len(name) > 100:
        raise PortalClientError(_l("A portal client needs a name of 1 to 100 characters."))
    if db.session.scalar(select(PortalClient).where(PortalClient.name == name)) is not None:
        raise PortalClientError(_l("A portal client with this name already exists."))
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    client = PortalClient(name=name, token_hash=hash_token(token))
    db.session.add(client)
    db.session.flush()
    record_event("portal_client.created", record=client, actor=actor, after={"name": name})
    return client, token


def revoke_portal_client(client: PortalClient, actor: Actor = COMMAND_LINE) -> None:
    if client.revoked_at is not None:
        return
    client.revoked_at = utcnow()
    record_event("portal_client.revoked", record=client, actor=actor, after={"name": client.name})


def authenticate_portal_client(token: str | None) -> PortalClient | None:
    if not token or not token.startswith(TOKEN_PREFIX):
        return None
    digest = hash_token(token)
    client = db.session.scalar(select(PortalClient).where(PortalClient.token_hash == digest))
    if client is None or not hmac.compare_digest(client.token_hash, digest) or not client.is_active:
        return None
    return client


def find_portal_account(public_id: str | None) -> PortalAccount | None:
    if not public_id or len(public_id) > 36:
        return None
    account = db.session.scalar(select(PortalAccount).where(PortalAccount.public_id == public_id))
    return account if account is not None and account.is_active else None


def cases_of_account(account: PortalAccount) -> list[Case]:
    return active_cases_of(account.counsel_id)


def active_cases_of(counsel_id: int) -> list[Case]:
    """The active cases where this counsel is currently counsel of record."""
    return list(
        db.session.scalars(
            select(Case)
            .join(CounselOfRecord, CounselOfRecord.case_id == Case.id)
            .where(
                CounselOfRecord.counsel_id == counsel_id,
                CounselOfRecord.ended_on.is_(None),
                Case.status == CaseStatus.ACTIVE,
            )
            .order_by(Case.file_number)
        )
    )
