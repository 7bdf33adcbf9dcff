"""Who comes in through single sign-on, and as what.

The identity provider has proved who the person is (its id_token, checked by auth/single_sign_on.py); here the
back office decides whether it knows them:

- by the provider's stable subject, bound to the staff record at the first single sign-on;
- else, once, by the email the provider says it verified (the binding is audited); a record already bound to
  another subject is never taken over;
- roles, office and division come from the staff record (the default), or, when OIDC_ROLE_CLAIM is set, from
  the groups in that claim through the administrators' table of groups (SsoGroupMapping): a person in a mapped
  group is created or updated to match, and one in no mapped group is refused.

Anyone else is refused, with a reason for the audit log and a page that tells them whom to ask.
"""

import enum
from dataclasses import dataclass, field

from flask_babel import lazy_gettext as _l
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from backoffice.extensions import db
from backoffice.models import SsoGroupMapping, StaffUser
from backoffice.workflows.accounts import describe_staff, find_staff_by_email
from backoffice.workflows.audit import record_event
from backoffice.workflows.concurrency import begin_write, compare_and_set

ACTOR = "single sign-on"
UNUSABLE_PASSWORD = "!"  # noqa: S105 (no Argon2 hash: a password sign-in never matches it)


class SsoRefusal(enum.StrEnum):
    UNKNOWN_PERSON = "unknown_person"
    NO_MAPPED_GROUP = "no_mapped_group"
    GROUPS_DISAGREE = "groups_disagree"
    INACTIVE = "inactive"
    SUBJECT_MISMATCH = "subject_mismatch"
    INCOMPLETE_CLAIMS = "incomplete_claims"

    @property
    def message(self) -> str:
        return str(SSO_REFUSAL_MESSAGES[self])


SSO_REFUSAL_MESSAGES = {
    SsoRefusal.UNKNOWN_PERSON: _l(
        "Your departmental account is not a staff account of the back office. Ask your supervisor or an "
        "administrator to add you."
    ),
    SsoRefusal.NO_MAPPED_GROUP: _l(
        "Your departmental account is in no group that gives access to the back office. Ask an administrator."
    ),
    SsoRefusal.GROUPS_DISAGREE: _l(
        "Your departmental account is in groups that give different roles. Ask an administrator to correct them."
    ),
    SsoRefusal.INACTIVE: _l("Your staff account is deactivated. Ask an administrator."),
    SsoRefusal.SUBJECT_MISMATCH: _l(
        "This staff account is tied to another departmental account. Ask an administrator."
    ),
    SsoRefusal.INCOMPLETE_CLAIMS: _l("The identity provider did not say who you are. Try again."),
}


class SignOnRefused(Exception):
    def __init__(self, reason: SsoRefusal) -> None:
        super().__init__(reason.value)
        self.reason = reason


@dataclass(frozen=True)
class Identity:
    """What the provider's id_token says about the person."""

    subject: str
    email: str
    email_verified: bool
    name: str
    groups: tuple[str, ...] = field(default=())

    @classmethod
    def from_claims(cls, claims: dict, role_claim: str | None) -> "Identity":
        subject = claims.get("sub")
        if not isinstance(subject, str) or not subject or len(subject) > 255:
            raise SignOnRefused(SsoRefusal.INCOMPLETE_CLAIMS)
        groups = claims.get(role_claim, []) if role_claim else []
        if isinstance(groups, str):
            groups = [groups]
        email = claims.get("email")
        name = claims.get("name")
        return cls(
            subject=subject,
            email=email.strip().lower() if isinstance(email, str) else "",
            email_verified=claims.get("email_verified") is True,
            name=name.strip() if isinstance(name, str) and name.strip() else "",
            groups=tuple(group for group in groups if isinstance(group, str)),
        )

    @property
    def email_domain(self) -> str:
        return self.email.rpartition("@")[2][:80]


def staff_for(identity: Identity, *, role_claim: str | None) -> StaffUser:
    """The staff user this identity signs in as, bound, created or updated as the rules say. Raises
    SignOnRefused; records what it changes (the caller commits)."""
    begin_write()  # two first sign-ins of one person at once (two tabs): one binds or creates, one finds
    user = _bound_to(identity.subject)
    if user is None and identity.email_verified and identity.email:
        user = find_staff_by_email(identity.email)
        if user is not None:
            user = _bind(user, identity.subject)
    if role_claim:
        user = _apply_groups(user, identity)
    if user is None:
        raise SignOnRefused(SsoRefusal.UNKNOWN_PERSON)
    if not user.is_active_account:
        raise SignOnRefused(SsoRefusal.INACTIVE)
    return user


def _bound_to(subject: str) -> StaffUser | None:
    return db.session.scalar(
        select(StaffUser).where(StaffUser.oidc_subject == subject).execution_options(populate_existing=True)
    )


def _bind(user: StaffUser, subject: str) -> StaffUser:
    """The staff record, bound to the subject once: a compare-and-set, so that of two different subjects
    presenting the same address at once only one is bound."""
    if compare_and_set(user, {"oidc_subject": None}, oidc_subject=subject):
        record_event(
            "staff_users.sso_subject_bound", actor=ACTOR, record=user, after={"by": "verified email"}
        )
        return user
    db.session.refresh(user)
    if user.oidc_subject != subject:
        raise SignOnRefused(SsoRefusal.SUBJECT_MISMATCH)
    return user  # bound by this person's other sign-in meanwhile


def _apply_groups(user: StaffUser | None, identity: Identity) -> StaffUser:
    mappings = (
        db.session.scalars(select(SsoGroupMapping).where(SsoGroupMapping.group.in_(identity.groups))).all()
        if identity.groups
        else []
    )
    grants = {(mapping.role, mapping.office_id, mapping.division_id) for mapping in mappings}
    if not grants:
        raise SignOnRefused(SsoRefusal.NO_MAPPED_GROUP)
    if len(grants) > 1:
        raise SignOnRefused(SsoRefusal.GROUPS_DISAGREE)
    mapping = mappings[0]
    if user is None:
        return _create(identity, mapping)
    if (user.role, user.office_id, user.division_id) != (
        mapping.role,
        mapping.office_id,
        mapping.division_id,
    ):
        before = describe_staff(user)
        user.role, user.office, user.division = mapping.role, mapping.office, mapping.division
        db.session.flush()
        record_event(
            "staff_users.role_from_groups",
            actor=ACTOR,
            record=user,
            before=before,
            after=describe_staff(user),
        )
    return user


def _create(identity: Identity, mapping: SsoGroupMapping) -> StaffUser:
    """A new staff user for a person in a mapped group, or the one their other sign-in made at the same moment
    (on PostgreSQL the second insert waits on the unique subject and fails; on SQLite they never overlap)."""
    if not identity.email:
        raise SignOnRefused(SsoRefusal.INCOMPLETE_CLAIMS)
    taken = find_staff_by_email(identity.email)
    if taken is None:
        user = StaffUser(
            email=identity.email,
            full_name=identity.name or identity.email,
            password_hash=UNUSABLE_PASSWORD,
            role=mapping.role,
            office=mapping.office,
            division=mapping.division,
            oidc_subject=identity.subject,
        )
        try:
            with db.session.begin_nested():
                db.session.add(user)
        except IntegrityError:
            taken = _bound_to(identity.subject)
        else:
            record_event("staff_users.created", actor=ACTOR, record=user, after=describe_staff(user))
            return user
    if taken is None or taken.oidc_subject != identity.subject:
        # A staff member's address that the provider did not say it verified: never a second account.
        raise SignOnRefused(SsoRefusal.UNKNOWN_PERSON)
    return taken
