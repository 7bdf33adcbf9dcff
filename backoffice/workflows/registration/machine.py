"""The registration's one state machine: its stages, who may move it, its refusals, and the invitations that
start it. Every change of status goes through `fire`, with its audit event; nothing else sets the status."""

from datetime import datetime
from typing import Any

from flask_babel import lazy_gettext as _l
from sqlalchemy import exists, select

from backoffice.extensions import db
from backoffice.models import (
    Case,
    CaseStatus,
    Channel,
    Counsel,
    CounselOfRecord,
    InvitationChannel,
    Office,
    Registration,
    RegistrationStatus,
    Role,
    StaffUser,
)
from backoffice.models.types import utcnow
from backoffice.workflows import portal
from backoffice.workflows.audit import record_event
from backoffice.workflows.concurrency import for_update
from backoffice.workflows.notifications import counsel_values, queue_message
from backoffice.workflows.refusals import Refused
from backoffice.workflows.state_machine import ChangedMeanwhile, StateMachine, Transition, TransitionRefused

R = RegistrationStatus
CLERK = frozenset({Role.CLERK})
CLERK_OR_SUPERVISOR = frozenset({Role.CLERK, Role.SUPERVISOR})
OPEN = frozenset(status for status in R if status not in (R.ACTIVE, R.WITHDRAWN))
ON_HOLD_ALLOWED = OPEN - {R.ON_HOLD}
# Where each channel sends the messages of a registration; early requests go by email when possible.
MESSAGE_CHANNEL = {
    InvitationChannel.EMAIL: Channel.EMAIL,
    InvitationChannel.MAIL: Channel.MAIL,
    InvitationChannel.FAX: Channel.FAX,
}


def _status_changed(registration: Registration, before: RegistrationStatus) -> None:
    if registration.status is R.ON_HOLD:
        registration.status_before_hold = before


MACHINE = StateMachine(
    "registration",
    {
        "send_invitation": Transition(frozenset({R.REQUESTED}), R.INVITED, CLERK),
        "receive_form": Transition(
            frozenset({R.INVITED, R.REQUESTED, R.FORM_INCOMPLETE}), R.FORM_RECEIVED, CLERK
        ),
        "mark_form_incomplete": Transition(
            frozenset({R.INVITED, R.REQUESTED, R.FORM_INCOMPLETE}), R.FORM_INCOMPLETE, CLERK
        ),
        "schedule_verification": Transition(
            frozenset({R.FORM_RECEIVED, R.VERIFICATION_MISSED, R.IDENTITY_NOT_CONFIRMED}),
            R.VERIFICATION_SCHEDULED,
            CLERK,
        ),
        "reschedule_verification": Transition(
            frozenset({R.VERIFICATION_SCHEDULED}), R.VERIFICATION_SCHEDULED, CLERK
        ),
        "cancel_verification": Transition(frozenset({R.VERIFICATION_SCHEDULED}), R.FORM_RECEIVED, CLERK),
        "record_missed_verification": Transition(
            frozenset({R.VERIFICATION_SCHEDULED}), R.VERIFICATION_MISSED, CLERK
        ),
        "verify_identity": Transition(frozenset({R.VERIFICATION_SCHEDULED}), R.IDENTITY_VERIFIED, CLERK),
        "record_identity_not_confirmed": Transition(
            frozenset({R.VERIFICATION_SCHEDULED}), R.IDENTITY_NOT_CONFIRMED, CLERK
        ),
        "issue_invitation_code": Transition(
            frozenset({R.IDENTITY_VERIFIED, R.CODE_ISSUED, R.CODE_EXPIRED}), R.CODE_ISSUED, CLERK
        ),
        "expire_invitation_code": Transition(frozenset({R.CODE_ISSUED}), R.CODE_EXPIRED, frozenset()),
        "activate": Transition(frozenset({R.CODE_ISSUED}), R.ACTIVE, frozenset()),
        "put_on_hold": Transition(ON_HOLD_ALLOWED, R.ON_HOLD, CLERK_OR_SUPERVISOR),
        "resume": Transition(frozenset({R.ON_HOLD}), None, CLERK_OR_SUPERVISOR),
        "withdraw": Transition(OPEN, R.WITHDRAWN, CLERK_OR_SUPERVISOR),
    },
    on_change=_status_changed,
    version="status_changed_at",
)

ACTION_LABELS = {
    "send_invitation": _l("Send the invitation"),
    "receive_form": _l("Record the returned form"),
    "mark_form_incomplete": _l("Form incomplete"),
    "schedule_verification": _l("Schedule the identity verification"),
    "reschedule_verification": _l("Reschedule"),
    "cancel_verification": _l("Cancel the meeting"),
    "record_missed_verification": _l("Counsel missed the meeting"),
    "verify_identity": _l("Identity verified"),
    "record_identity_not_confirmed": _l("Identity not confirmed"),
    "issue_invitation_code": _l("Issue the invitation code"),
    "put_on_hold": _l("Put on hold"),
    "resume": _l("Resume"),
    "withdraw": _l("Withdraw"),
}


NOT_NOW = _l("This action is not possible at this stage of the registration.")
CHANGED_MEANWHILE = _l(
    "This registration changed since the page was shown (someone acted on it first): look at it again."
)


def fire(registration: Registration, transition: str, actor: StaffUser | None = None, **details: Any) -> None:
    try:
        MACHINE.fire(registration, transition, actor, **details)
    except ChangedMeanwhile:
        raise Refused(CHANGED_MEANWHILE) from None
    except TransitionRefused:
        raise Refused(NOT_NOW) from None


def stage_seen(registration: Registration) -> str:
    """What a page that offers actions on the registration saw of it, sent back with each action."""
    return registration.status_changed_at.isoformat()


def check_stage_seen(registration: Registration, seen: str | None) -> None:
    """Refuse an action sent from a page that showed an earlier stage: a second click, another tab, a colleague
    who acted first. The same action sent twice is thus applied once, whichever arrives first."""
    if seen is not None and seen != stage_seen(registration):
        raise Refused(CHANGED_MEANWHILE)


def require(registration: Registration, transition: str, actor: StaffUser | None) -> None:
    """Refuse before changing anything when the transition could not be fired."""
    if not MACHINE.may_fire(registration, transition, actor):
        raise Refused(NOT_NOW)


def active_cases_of(counsel: Counsel) -> list[Case]:
    return portal.active_cases_of(counsel.id)


def open_registration(counsel: Counsel) -> Registration | None:
    return db.session.scalar(
        select(Registration).where(Registration.counsel_id == counsel.id, Registration.status.in_(OPEN))
    )


def handling_office(counsel: Counsel, clerk: StaffUser) -> Office:
    """The clerk's office when counsel has an active case there, else the office of counsel's first active case."""
    cases = active_cases_of(counsel)
    if not cases:
        raise Refused(_l("Only counsel of record on at least one active case can be invited."))
    mine = [case for case in cases if case.office_id == clerk.office_id]
    return (mine or cases)[0].office


def start_registration(
    counsel: Counsel, channel: InvitationChannel, clerk: StaffUser, *, requested: bool = False
) -> Registration:
    """Invite counsel (email, mail or fax) or record counsel's own request to register early."""
    if clerk.role is not Role.CLERK:
        raise Refused(_l("Only a registry clerk invites counsel."))
    office = handling_office(counsel, clerk)
    if clerk.office_id not in (None, office.id):
        raise Refused(_l("This counsel has no active case in your office."))
    # Counsel's row is locked while looking for a registration in progress: two invitations at once make one.
    db.session.scalar(for_update(select(Counsel.id).where(Counsel.id == counsel.id)))
    existing = open_registration(counsel)
    if existing is not None:
        raise Refused(_l("This counsel already has a registration in progress."))
    if not requested and channel not in MESSAGE_CHANNEL:
        raise Refused(_l("An invitation goes by email, mail or fax."))
    status = R.REQUESTED if requested else R.INVITED
    registration = Registration(counsel=counsel, office=office, channel=channel, status=status)
    db.session.add(registration)
    db.session.flush()

    record_event(
        "registration.requested" if requested else "registration.invited",
        record=registration,
        actor=clerk,
        after={"status": status.value, "channel": channel.value},
    )
    if not requested:
        _send_invitation_message(registration)
    return registration


def send_invitation(registration: Registration, channel: InvitationChannel, clerk: StaffUser) -> None:
    """After counsel asked to register early: send them the invitation and the form."""
    if channel not in MESSAGE_CHANNEL:
        raise Refused(_l("An invitation goes by email, mail or fax."))
    require(registration, "send_invitation", clerk)
    registration.channel = channel
    fire(registration, "send_invitation", clerk, channel=channel.value)
    _send_invitation_message(registration)


def _send_invitation_message(registration: Registration) -> None:
    message_counsel(registration, "invitation")  # refused when counsel has no address for the channel


def message_counsel(
    registration: Registration,
    template: str,
    values: dict[str, Any] | None = None,
    channel: Channel | None = None,
    to: str | None = None,
) -> None:
    """Queue a message to the registration's counsel, by the registration's channel unless told otherwise."""
    queue_message(
        template,
        {**counsel_values(registration.counsel, registration.office), **(values or {})},
        counsel=registration.counsel,
        channel=channel or message_channel(registration),
        office_id=registration.office_id,
        recipient=to,
    )


def message_channel(registration: Registration) -> Channel:
    channel = MESSAGE_CHANNEL.get(registration.channel)
    if channel is None:
        return Channel.EMAIL if registration.counsel.email else Channel.MAIL
    return channel


def eligible_not_invited(office: Office) -> list[Counsel]:
    """Counsel of record on an active case of this office with no registration in progress or done."""
    active_here = (
        select(CounselOfRecord.counsel_id)
        .join(Case, Case.id == CounselOfRecord.case_id)
        .where(
            Case.office_id == office.id, Case.status == CaseStatus.ACTIVE, CounselOfRecord.ended_on.is_(None)
        )
    )
    registered = exists().where(Registration.counsel_id == Counsel.id, Registration.status != R.WITHDRAWN)
    return list(
        db.session.scalars(
            select(Counsel).where(Counsel.id.in_(active_here), ~registered).order_by(Counsel.full_name)
        )
    )


def invite_in_bulk(office: Office, channel: InvitationChannel, clerk: StaffUser) -> list[Registration]:
    """Invite every eligible counsel of the office not yet invited; counsel without the channel's address
    get a letter instead of an email."""
    invited = []
    for counsel in eligible_not_invited(office):
        usable = channel
        if channel is InvitationChannel.EMAIL and not counsel.email:
            usable = InvitationChannel.MAIL
        if usable is InvitationChannel.FAX and not counsel.fax:
            usable = InvitationChannel.MAIL
        if usable is InvitationChannel.MAIL and not counsel.postal_address:
            continue
        invited.append(start_registration(counsel, usable, clerk))
    return invited


def clear_flag(registration: Registration) -> None:
    registration.flag = None


def age_of(registration: Registration, now: datetime | None = None) -> float:
    """Days in the current stage."""
    return ((now or utcnow()) - registration.status_changed_at).total_seconds() / 86400
