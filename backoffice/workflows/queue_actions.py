"""What a staff member may do to a submission in the work queues: one answer, for the guards of every action
(`require_action`, called by workflows.decisions under the submission's lock) and for the submission page that
decides which buttons to show (`allowed_actions`).

Who works a queue: registry clerks the registry queue, division members their division's queue, each in their
office. Supervisors of the office (or national ones) move work, and take work off hold. Only the one who holds
(has claimed) a submission decides on it, sets it aside or corrects it; a claim left idle may be taken over.
"""

from datetime import datetime, timedelta

from babel.dates import format_datetime
from flask import current_app
from flask_babel import get_locale
from flask_babel import lazy_gettext as _l

from backoffice.models import ReasonUse, Role, StaffUser, Submission, SubmissionStatus
from backoffice.models.types import utcnow
from backoffice.workflows.refusals import Refused
from backoffice.workflows.timeliness import EASTERN

# Who works which queue, and the transitions of each decision.
QUEUES = {
    SubmissionStatus.WITH_REGISTRY: (
        Role.CLERK,
        ReasonUse.REGISTRY,
        "accept_to_division",
        "reject_by_registry",
    ),
    SubmissionStatus.WITH_DIVISION: (
        Role.DIVISION_MEMBER,
        ReasonUse.DIVISION,
        "accept_by_division",
        "reject_by_division",
    ),
}
NOTE_WRITERS = frozenset({Role.CLERK, Role.DIVISION_MEMBER, Role.SUPERVISOR})
ACTIONS = (
    "claim",
    "release",
    "decide",
    "decide_by_file",
    "hold",
    "take_off_hold",
    "note",
    "change_kind",
    "reassign",
    "return_to_queue",
)

NOT_IN_QUEUE = _l("This submission is not in your queue.")
NOT_SUPERVISOR = _l("Only a supervisor of the submission's office does this.")
# What to claim first, said when someone who works the queue does not hold the submission.
CLAIM_FIRST = {
    "release": _l("You do not hold this submission."),
    "decide": _l("Claim the submission before deciding on it."),
    "decide_by_file": _l("Claim the submission before deciding on it."),
    "hold": _l("Claim the submission before putting it on hold."),
    "change_kind": _l("Claim the submission before changing it."),
    "take_off_hold": _l("Claim the submission before taking it off hold."),
}


def works_queue(submission: Submission, staff: StaffUser) -> bool:
    """Whether the submission waits in a queue that this staff member works."""
    queue = QUEUES.get(submission.status)
    if queue is None or staff.role is not queue[0] or staff.office_id not in (None, submission.office_id):
        return False
    return staff.role is not Role.DIVISION_MEMBER or staff.division_id == submission.division_id


def supervises(submission: Submission, staff: StaffUser) -> bool:
    """Whether this is a supervisor of the submission's office, and the submission waits in a queue."""
    return (
        staff.role is Role.SUPERVISOR
        and staff.office_id in (None, submission.office_id)
        and submission.status in QUEUES
    )


def writes_notes(submission: Submission, staff: StaffUser) -> bool:
    if staff.role not in NOTE_WRITERS or staff.office_id not in (None, submission.office_id):
        return False
    return staff.role is not Role.DIVISION_MEMBER or staff.division_id == submission.division_id


def claim_is_idle(submission: Submission, now: datetime | None = None) -> bool:
    minutes = current_app.config["CLAIM_IDLE_MINUTES"]
    return submission.claimed_at is None or submission.claimed_at <= (now or utcnow()) - timedelta(
        minutes=minutes
    )


def allowed_actions(submission: Submission, staff: StaffUser, now: datetime | None = None) -> frozenset[str]:
    """The actions of ACTIONS this staff member may take on the submission as it stands."""
    allowed = {"note"} if writes_notes(submission, staff) else set()
    works, holder = works_queue(submission, staff), submission.claimed_by_id
    held = submission.held_at is not None
    holds = works and holder == staff.id
    if works and (holder in (None, staff.id) or claim_is_idle(submission, now)):
        allowed.add("claim")
    if holds:
        allowed |= {"release", "decide", "change_kind"}
        allowed |= set() if held else {"hold"}
        if submission.status is SubmissionStatus.WITH_DIVISION:
            allowed.add("decide_by_file")
    if supervises(submission, staff):
        allowed |= {"reassign", "return_to_queue"} if holder is not None else {"reassign"}
    if held and (holds or supervises(submission, staff)):
        allowed.add("take_off_hold")
    return frozenset(allowed)


def require_action(submission: Submission, staff: StaffUser, action: str) -> None:
    """Refuse, saying why, an action that `allowed_actions` does not offer."""
    if action not in allowed_actions(submission, staff):
        raise Refused(why_not(submission, staff, action))


def why_not(submission: Submission, staff: StaffUser, action: str):
    """The reason, for the staff member, that the action is not allowed (as they would best understand it)."""
    if action == "note":
        return _l("Your role does not write notes on this submission.")
    if action in ("reassign", "return_to_queue") or (
        action == "take_off_hold" and staff.role is Role.SUPERVISOR
    ):
        return _supervisor_refusal(submission, staff, action)
    if action == "take_off_hold" and submission.held_at is None:
        return _l("This submission is not on hold.")
    if not works_queue(submission, staff):
        return _moved_on(submission, staff) or NOT_IN_QUEUE
    if action == "claim" or submission.claimed_by_id not in (None, staff.id):
        return _claimed_by_another(submission, staff)
    if action == "hold" and submission.claimed_by_id == staff.id:
        return _l("This submission is already on hold.")
    if action == "decide_by_file" and submission.claimed_by_id == staff.id:
        return _l("Only the division decides file by file.")
    return CLAIM_FIRST[action]


def _supervisor_refusal(submission: Submission, staff: StaffUser, action: str):
    if staff.role is not Role.SUPERVISOR or staff.office_id not in (None, submission.office_id):
        return NOT_SUPERVISOR
    if submission.status not in QUEUES:
        return _l("This submission is not waiting in a queue.")
    if action == "take_off_hold":
        return _l("This submission is not on hold.")
    return _l("No one holds this submission.")


def _moved_on(submission: Submission, staff: StaffUser):
    """What became of a submission that left the queue this staff member works (a tab left open while a
    colleague decided it), from its latest decision; None when it never was in their queue."""
    worked = [status for status, queue in QUEUES.items() if queue[0] is staff.role]
    if not worked or staff.office_id not in (None, submission.office_id):
        return None
    if staff.role is Role.DIVISION_MEMBER and staff.division_id != submission.division_id:
        return None
    latest = submission.decisions[-1] if submission.decisions else None
    if latest is None or submission.status in worked:
        return None
    values = {"name": latest.staff.full_name, "time": local_time(latest.decided_at, staff)}
    if not latest.accepted:
        return _l("Already rejected by %(name)s at %(time)s.", **values)
    if latest.made_by is ReasonUse.REGISTRY:
        return _l("Already accepted to the division by %(name)s at %(time)s.", **values)
    if latest.partial:
        return _l("Already accepted in part by %(name)s at %(time)s.", **values)
    return _l("Already accepted by %(name)s at %(time)s.", **values)


def _claimed_by_another(submission: Submission, staff: StaffUser):
    holder = submission.claimed_by
    return _l(
        "Already claimed by %(name)s at %(time)s.",
        name=holder.full_name,
        time=local_time(submission.claimed_at, staff),
    )


def local_time(instant: datetime | None, staff: StaffUser) -> str:
    """An instant as the staff member reads it: the time alone when it is today in their office's time zone
    (Eastern time for national staff), else the day and the time."""
    if instant is None:
        return ""
    zone = staff.office.zone if staff.office is not None else EASTERN
    today = utcnow().astimezone(zone).date() == instant.astimezone(zone).date()
    pattern = "HH:mm" if today else "yyyy-MM-dd HH:mm"
    return format_datetime(instant, pattern, tzinfo=zone, locale=get_locale() or "en")
