"""Identity verification meetings in Webex: scheduled by a clerk, made in Webex by a job.

The web request only records what the clerk wants (`pending_change`); a job calls Webex and retries on
429 (honouring Retry-After), 5xx and timeouts, never inside a web request. After repeated failures the
meeting is marked failed and the registration flagged, and the clerk may enter a meeting link by hand.
"""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import lazy_gettext as _l
from sqlalchemy import select

from backoffice import queue
from backoffice.extensions import db
from backoffice.integrations import webex
from backoffice.models import (
    Channel,
    IdentityDocument,
    MeetingStatus,
    Registration,
    RegistrationStatus,
    StaffUser,
    VerificationMeeting,
)
from backoffice.models.types import utcnow
from backoffice.workflows.audit import SYSTEM, record_event
from backoffice.workflows.concurrency import lock_again
from backoffice.workflows.refusals import Refused
from backoffice.workflows.registration.machine import R, fire, message_counsel, require

MEETING_MINUTES = 30


def local_start(registration: Registration, local: datetime) -> datetime:
    """A time the clerk picked on the office's clock, as an instant."""
    if local.tzinfo is not None:
        return local
    return local.replace(tzinfo=registration.office.zone)


def schedule_meeting(registration: Registration, local: datetime, clerk: StaffUser) -> VerificationMeeting:
    starts_at = local_start(registration, local)
    _refuse_past(starts_at)
    fire(registration, "schedule_verification", clerk, starts_at=starts_at.isoformat())
    meeting = VerificationMeeting(
        registration=registration,
        starts_at=starts_at,
        minutes=MEETING_MINUTES,
        status=MeetingStatus.SCHEDULING,
        pending_change="create",
        scheduled_by=clerk,
    )
    db.session.add(meeting)
    db.session.flush()
    _sync_after_commit(meeting)
    return meeting


def reschedule_meeting(registration: Registration, local: datetime, clerk: StaffUser) -> VerificationMeeting:
    meeting = _current(registration)
    starts_at = local_start(registration, local)
    _refuse_past(starts_at)
    fire(registration, "reschedule_verification", clerk, starts_at=starts_at.isoformat())
    meeting.starts_at = starts_at
    meeting.reminder_queued_at = None
    if meeting.entered_by_hand:
        _queue_meeting_message(meeting)  # a meeting the clerk made by hand: counsel is told the new time
        return meeting
    meeting.status = MeetingStatus.SCHEDULING
    meeting.pending_change = "update" if meeting.webex_meeting_id else "create"
    meeting.attempts = 0
    _sync_after_commit(meeting)
    return meeting


def cancel_meeting(registration: Registration, clerk: StaffUser) -> None:
    meeting = _current(registration)
    fire(registration, "cancel_verification", clerk)
    stop_meeting(meeting)


def stop_meeting(meeting: VerificationMeeting) -> None:
    """Cancel a live meeting, in Webex too when it was made there; a flag about it no longer applies."""
    meeting.status = MeetingStatus.CANCELLED
    meeting.registration.flag = None
    meeting.pending_change = "delete" if meeting.webex_meeting_id else None
    if meeting.pending_change:
        meeting.attempts = 0
        _sync_after_commit(meeting)


def enter_link_by_hand(registration: Registration, link: str, number: str, clerk: StaffUser) -> None:
    """When Webex could not be reached: the clerk made the meeting some other way and enters its link."""
    require(registration, "reschedule_verification", clerk)  # a clerk, while the meeting is being arranged
    meeting = _current(registration)
    link = link.strip()
    if not link.startswith("https://") or len(link) > 500:
        raise Refused(_l("Enter the meeting link, starting with https://."))
    meeting.web_link, meeting.meeting_number = link, number.strip()[:40] or None
    meeting.entered_by_hand, meeting.pending_change = True, None
    meeting.status = MeetingStatus.SCHEDULED
    registration.flag = None
    record_event(
        "meeting.entered_by_hand",
        record=registration,
        actor=clerk,
        after={"meeting": meeting.id},
    )
    _queue_meeting_message(meeting)


def close_meeting(meeting: VerificationMeeting, missed: bool) -> None:
    meeting.status = MeetingStatus.MISSED if missed else MeetingStatus.HELD
    meeting.pending_change = None


def _current(registration: Registration) -> VerificationMeeting:
    meeting = registration.current_meeting
    if meeting is None:
        raise Refused(_l("There is no meeting to change."))
    return meeting


def _refuse_past(starts_at: datetime) -> None:
    if starts_at <= utcnow():
        raise Refused(_l("Pick a time in the future."))


def _sync_after_commit(meeting: VerificationMeeting) -> None:
    meeting.pending_since = utcnow()
    db.session.flush()
    queue.enqueue_after_commit(queue.JobName.SYNC_MEETING, meeting.id)


STALLED_AFTER = timedelta(minutes=15)


def requeue_stalled_meetings(now: datetime | None = None) -> list[int]:
    """A change waiting far longer than any retry would (Redis lost its job): queue it again."""
    now = now or utcnow()
    stalled = db.session.scalars(
        select(VerificationMeeting).where(
            VerificationMeeting.pending_change.is_not(None),
            VerificationMeeting.pending_since < now - STALLED_AFTER,
        )
    ).all()
    for meeting in stalled:
        _sync_after_commit(meeting)
    db.session.commit()
    return [meeting.id for meeting in stalled]


def webex_settings() -> webex.WebexSettings:
    return webex.WebexSettings.from_config(current_app.config)


def sync_meeting(meeting_id: int) -> MeetingStatus | None:
    """Carry the clerk's pending change to Webex (the job). Idempotent: nothing pending, nothing done."""
    meeting = db.session.get(VerificationMeeting, meeting_id)
    if meeting is None or meeting.pending_change is None:
        return meeting.status if meeting else None
    change, since = meeting.pending_change, meeting.pending_since
    if change != "delete" and meeting.registration.status is not RegistrationStatus.VERIFICATION_SCHEDULED:
        meeting.pending_change = (
            None  # the registration moved on (withdrawn, on hold) before Webex was called
        )
        db.session.commit()
        return meeting.status
    db.session.commit()  # no transaction stays open while Webex is called; what changes meanwhile is seen after
    try:
        info = _apply(meeting, change)
    except webex.WebexTemporaryError as error:
        _retry_or_give_up(meeting, str(error), error.retry_after)
    except webex.WebexPermanentError as error:
        _give_up(meeting, str(error))
    else:
        _record_done(meeting, change, since, info)
    db.session.commit()
    return meeting.status


def _record_done(meeting: VerificationMeeting, change: str, since, info: webex.MeetingInfo | None) -> None:
    """Webex did it; unless the clerk changed the meeting while Webex was being called, then that comes next."""
    lock_again(meeting)
    if info is not None:
        meeting.webex_meeting_id, meeting.web_link = info.meeting_id, info.web_link
        meeting.meeting_number = info.meeting_number
    record_event(
        f"meeting.webex_{change}d", actor=SYSTEM, record=meeting.registration, after={"meeting": meeting.id}
    )
    if meeting.pending_change != change or meeting.pending_since != since:
        if info is not None:  # made or moved in Webex meanwhile: remove it or move it again
            meeting.pending_change = "delete" if meeting.status is MeetingStatus.CANCELLED else "update"
        if meeting.pending_change:
            _sync_after_commit(meeting)
        return
    meeting.pending_change = None
    meeting.last_error = None
    if change != "delete":
        meeting.status = MeetingStatus.SCHEDULED
        meeting.registration.flag = None
        _queue_meeting_message(meeting)


def _apply(meeting: VerificationMeeting, change: str) -> webex.MeetingInfo | None:
    settings = webex_settings()
    registration = meeting.registration
    ends_at = meeting.starts_at + timedelta(minutes=meeting.minutes)
    # No name in the title: Webex keeps it, and the invitee is enough to tell meetings apart.
    title = (
        f"IRB My Case identity verification / Vérification de l'identité Mon dossier (R-{registration.id})"
    )
    zone = registration.office.time_zone
    if change == "delete":
        webex.delete_meeting(settings, meeting.webex_meeting_id)
        return None
    if change == "update" and meeting.webex_meeting_id:
        return webex.update_meeting(
            settings, meeting.webex_meeting_id, title, meeting.starts_at, ends_at, zone
        )
    return webex.create_meeting(
        settings,
        title,
        meeting.starts_at,
        ends_at,
        zone,
        invitee_email=registration.counsel.email or "",
        invitee_name=registration.counsel.full_name,
    )


def _retry_or_give_up(meeting: VerificationMeeting, reason: str, retry_after: float | None) -> None:
    meeting.attempts += 1
    meeting.last_error = reason[:500]
    config = current_app.config
    if meeting.attempts >= config["WEBEX_MAX_ATTEMPTS"]:
        _give_up(meeting, reason)
        return
    delay = (
        retry_after
        if retry_after is not None
        else config["WEBEX_RETRY_BASE_SECONDS"] * 2 ** (meeting.attempts - 1)
    )
    queue.enqueue_in(timedelta(seconds=delay), queue.JobName.SYNC_MEETING, meeting.id)


def _give_up(meeting: VerificationMeeting, reason: str) -> None:
    """Stop trying: the clerk enters a link by hand or asks to try again (`retry_meeting`)."""
    meeting.last_error = reason[:500]
    change, meeting.pending_change = meeting.pending_change, None
    if change == "delete":
        return  # cancelled here; Webex keeps a meeting nobody will join
    meeting.status = MeetingStatus.FAILED
    meeting.registration.flag = str(
        _l("Webex could not be reached to arrange the meeting. Enter a meeting link by hand, or try again.")
    )
    record_event(
        "meeting.webex_failed",
        actor=SYSTEM,
        record=meeting.registration,
        after={"meeting": meeting.id, "reason": reason[:200]},
    )


def retry_meeting(registration: Registration, clerk: StaffUser) -> None:
    require(registration, "reschedule_verification", clerk)
    meeting = _current(registration)
    if meeting.status is not MeetingStatus.FAILED:
        raise Refused(_l("Only a meeting Webex could not arrange can be tried again."))
    meeting.status = MeetingStatus.SCHEDULING
    meeting.pending_change = "update" if meeting.webex_meeting_id else "create"
    meeting.attempts = 0
    registration.flag = None
    record_event("meeting.retried", record=registration, actor=clerk, after={"meeting": meeting.id})
    _sync_after_commit(meeting)


def _queue_meeting_message(meeting: VerificationMeeting, template: str = "verification_meeting") -> None:
    registration = meeting.registration
    zone = ZoneInfo(registration.office.time_zone)
    values = {
        "meeting_time": meeting.starts_at.astimezone(zone).strftime("%Y-%m-%d %H:%M"),
        "meeting_time_zone": registration.office.time_zone,
        "meeting_zone_name": _zone_names(registration.office.zone),
        "meeting_link": meeting.web_link or "",
        "meeting_number": meeting.meeting_number or "",
    }
    # A link is of little use on paper: email when counsel has an address; a reminder goes by SMS otherwise.
    channel = None
    if registration.counsel.email:
        channel = Channel.EMAIL
    elif template == "verification_reminder":
        channel = Channel.SMS
    message_counsel(registration, template, values, channel)


def queue_meeting_reminders(now: datetime | None = None) -> list[int]:
    """Remind counsel of meetings starting within the next 24 hours (once each)."""
    now = now or utcnow()
    due = (
        select(VerificationMeeting)
        .join(Registration)
        .where(
            Registration.status == RegistrationStatus.VERIFICATION_SCHEDULED,
            VerificationMeeting.status == MeetingStatus.SCHEDULED,
            VerificationMeeting.reminder_queued_at.is_(None),
            VerificationMeeting.starts_at > now,
            VerificationMeeting.starts_at <= now + timedelta(hours=24),
        )
    )
    reminded = []
    for meeting in db.session.scalars(due).all():
        meeting.reminder_queued_at = now
        _queue_meeting_message(meeting, "verification_reminder")
        reminded.append(meeting.id)
    return reminded


# ------------------------------------------------------------------ stages that end a meeting


def _fire_ending_meeting(registration: Registration, transition: str, user: StaffUser) -> bool:
    """Fire `transition`, which cancels a live meeting (in Webex too); True when there was one."""
    require(registration, transition, user)
    meeting = registration.current_meeting
    fire(registration, transition, user)
    if meeting is None:
        return False
    stop_meeting(meeting)
    return True


def put_on_hold(registration: Registration, user: StaffUser) -> None:
    """A live meeting is cancelled (in Webex too); resuming comes back before the meeting was arranged."""
    if _fire_ending_meeting(registration, "put_on_hold", user):
        registration.status_before_hold = R.FORM_RECEIVED


def resume(registration: Registration, user: StaffUser) -> None:
    fire(registration, "resume", user, target=registration.status_before_hold or R.INVITED)
    registration.status_before_hold = None


def withdraw(registration: Registration, user: StaffUser) -> None:
    """Withdrawn: a live meeting is cancelled and an unused invitation code revoked."""
    _fire_ending_meeting(registration, "withdraw", user)
    for code in registration.invitation_codes:
        if code.revoked_at is None and code.redeemed_at is None:
            code.revoked_at = utcnow()


def record_identity(
    registration: Registration,
    clerk: StaffUser,
    outcome: str,
    document: IdentityDocument | None = None,
    early_reason: str = "",
) -> None:
    """The clerk's record of the verification meeting: verified (which kind of photo ID was seen, never its
    number), not confirmed, or missed; before the meeting's start only with the clerk's reason."""
    transition = {
        "verified": "verify_identity",
        "not_confirmed": "record_identity_not_confirmed",
        "missed": "record_missed_verification",
    }.get(outcome)
    if transition is None:
        raise Refused(_l("Unknown outcome."))
    require(registration, transition, clerk)
    meeting = registration.current_meeting
    if meeting is None or meeting.status is not MeetingStatus.SCHEDULED:
        raise Refused(_l("Record the outcome once the meeting is arranged (its link is known)."))
    early = _reason_for_recording_early(registration, meeting, early_reason)
    details = {"recorded_before_start": early} if early else {}
    if outcome == "verified":
        if document is None:
            raise Refused(_l("Say which kind of government photo ID was seen."))
        registration.identity_document = document
        registration.identity_checked_by = clerk
        registration.identity_checked_at = utcnow()
        fire(registration, "verify_identity", clerk, document=document.value, **details)
    elif outcome == "not_confirmed":
        fire(registration, "record_identity_not_confirmed", clerk, **details)
    else:
        fire(registration, "record_missed_verification", clerk, **details)
    if meeting is not None:
        close_meeting(meeting, missed=outcome == "missed")


def has_begun(meeting: VerificationMeeting) -> bool:
    return meeting.starts_at <= utcnow()


def _reason_for_recording_early(
    registration: Registration, meeting: VerificationMeeting, reason: str | None
) -> str | None:
    """A meeting's outcome is recorded once it has begun; before, only with the clerk's reason (counsel joined
    early, the meeting was held another way), which the audit log keeps with the outcome."""
    if has_begun(meeting):
        return None
    reason = " ".join((reason or "").split())[:500]
    if not reason:
        when = meeting.starts_at.astimezone(registration.office.zone).strftime("%Y-%m-%d %H:%M")
        raise Refused(
            _l(
                "The meeting starts at %(when)s (the office's local time). Record its outcome once it has "
                "begun, or say why you record it before.",
                when=when,
            )
        )
    return reason


def _zone_names(zone: ZoneInfo) -> dict[str, str]:
    """The office's time zone as counsel reads it in each language ("Pacific Time", "heure du Pacifique")."""
    from babel import Locale
    from babel.dates import get_timezone_name

    return {
        language: get_timezone_name(zone, width="long", locale=Locale(language, "CA")).replace("’", "'")
        for language in ("en", "fr")
    }
