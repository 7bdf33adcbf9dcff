"""The registration workflow: eligibility, invitations with the form, Webex meetings through the emulator,
the identity check, holds, and the reminders."""

from datetime import datetime, timedelta
from io import BytesIO

import pikepdf
import pytest
from sqlalchemy import select

from backoffice.extensions import db
from backoffice.models import (
    Channel,
    IdentityDocument,
    InvitationChannel,
    MeetingStatus,
    Notification,
    Registration,
    RegistrationStatus,
    StaffUser,
    VerificationMeeting,
)
from backoffice.models.types import utcnow
from backoffice.workflows.letters import letter_pdf
from backoffice.workflows.refusals import Refused
from backoffice.workflows.registration import machine as registration
from backoffice.workflows.registration import meetings, returned_form
from backoffice.workflows.registration.machine import MACHINE
from tests.factories import (
    FORM_VALUES,
    create_case,
    create_counsel,
    create_staff,
    make_counsel_of_record,
)


def counsel_of_record(office: str = "western", **fields):
    case = create_case(office, "RPD")
    counsel = create_counsel(**fields)
    make_counsel_of_record(case, counsel)
    return counsel, case


def form_received(office: str = "western"):
    counsel, case = counsel_of_record(office)
    clerk = create_staff("clerk", office)
    record = registration.start_registration(counsel, InvitationChannel.EMAIL, clerk)
    values = {**FORM_VALUES, "email": counsel.email, "file_numbers": case.file_number}
    assert returned_form.record_form(record, values, clerk) == []
    db.session.commit()
    return record, clerk


def test_only_counsel_of_record_on_an_active_case_can_be_invited(app):
    clerk = create_staff("clerk", "western")
    nobody = create_counsel()
    closed_case = create_case("western", "RPD", status="closed")
    on_closed_only = create_counsel()
    make_counsel_of_record(closed_case, on_closed_only)
    for counsel in (nobody, on_closed_only):
        with pytest.raises(Refused) as refused:
            registration.start_registration(counsel, InvitationChannel.EMAIL, clerk)
        assert "active case" in str(refused.value)
    assert db.session.scalar(select(Registration.id)) is None


def test_a_counsel_is_invited_once_and_only_by_a_clerk_of_their_office(app):
    counsel, _case = counsel_of_record("central")
    with pytest.raises(Refused):
        registration.start_registration(counsel, InvitationChannel.EMAIL, create_staff("clerk", "western"))
    with pytest.raises(Refused):
        registration.start_registration(
            counsel, InvitationChannel.EMAIL, create_staff("supervisor", "central")
        )
    clerk = create_staff("clerk", "central")
    record = registration.start_registration(counsel, InvitationChannel.EMAIL, clerk)
    assert record.status is RegistrationStatus.INVITED and record.office.code == "central"
    with pytest.raises(Refused):
        registration.start_registration(counsel, InvitationChannel.MAIL, clerk)


def test_an_early_request_is_recorded_then_the_invitation_sent(app):
    counsel, _case = counsel_of_record(postal_address="1 Main St, Vancouver BC")
    clerk = create_staff("clerk", "western")
    record = registration.start_registration(counsel, InvitationChannel.PHONE, clerk, requested=True)
    assert record.status is RegistrationStatus.REQUESTED
    assert db.session.scalar(select(Notification.id)) is None
    registration.send_invitation(record, InvitationChannel.MAIL, clerk)
    assert record.status is RegistrationStatus.INVITED
    letter = db.session.scalar(select(Notification).where(Notification.template == "invitation"))
    assert letter.channel is Channel.MAIL


def test_bulk_invitation_reaches_every_eligible_counsel_not_yet_invited(app):
    clerk = create_staff("clerk", "western")
    by_email, _ = counsel_of_record()
    by_letter, _ = counsel_of_record(email=None, postal_address="1 Main St, Vancouver BC")
    unreachable, _ = counsel_of_record(email=None, postal_address=None)
    already, _ = counsel_of_record()
    registration.start_registration(already, InvitationChannel.EMAIL, clerk)
    elsewhere, _ = counsel_of_record("eastern")

    invited = registration.invite_in_bulk(clerk.office, InvitationChannel.EMAIL, clerk)

    assert {record.counsel_id for record in invited} == {by_email.id, by_letter.id}
    channels = {record.counsel_id: record.channel for record in invited}
    assert channels[by_letter.id] is InvitationChannel.MAIL
    assert unreachable.id not in channels and elsewhere.id not in channels


def test_the_invitation_carries_the_fillable_registration_form(app, smtp_sink, run_worker):
    counsel, _case = counsel_of_record()
    clerk = create_staff("clerk", "western")
    record = registration.start_registration(counsel, InvitationChannel.EMAIL, clerk)
    db.session.commit()
    run_worker()
    message = smtp_sink.messages[-1]
    attachments = [part for part in message.walk() if part.get_content_type() == "application/pdf"]
    assert len(attachments) == 1
    form = pikepdf.Pdf.open(BytesIO(attachments[0].get_payload(decode=True)))
    names = {str(field.T) for field in form.Root.AcroForm.Fields}
    assert {"full_name", "membership_number", "mobile", "file_numbers"} <= names

    letter = Notification(
        counsel=counsel,
        office_id=record.office_id,
        channel=Channel.MAIL,
        template="invitation",
        language="en",
        recipient="1 Main St",
        values=db.session.scalar(select(Notification.values).where(Notification.template == "invitation")),
    )
    printed = pikepdf.Pdf.open(BytesIO(letter_pdf(letter)))
    assert len(printed.pages) >= 2  # the letter, then the form


def test_an_incomplete_form_tells_counsel_what_is_missing(app):
    counsel, case = counsel_of_record()
    clerk = create_staff("clerk", "western")
    record = registration.start_registration(counsel, InvitationChannel.EMAIL, clerk)
    values = {**FORM_VALUES, "mobile": "12", "file_numbers": case.file_number}
    missing = returned_form.record_form(record, values, clerk)
    assert [item.field for item in missing] == ["mobile"]
    assert record.status is RegistrationStatus.FORM_INCOMPLETE
    message = db.session.scalar(select(Notification).where(Notification.template == "form_incomplete"))
    assert message.values["missing_items"] == [{"en": missing[0].en, "fr": missing[0].fr}]
    assert returned_form.record_form(record, {**values, "mobile": "604 555 0123"}, clerk) == []
    assert record.status is RegistrationStatus.FORM_RECEIVED
    assert counsel.mobile == "+16045550123"


def in_three_days() -> datetime:
    return (datetime.now() + timedelta(days=3)).replace(microsecond=0)


def meeting_webex_gave_up_on(app, webex_emulator) -> tuple[Registration, StaffUser, VerificationMeeting]:
    """A registration whose meeting Webex refused on every attempt: the record, its clerk and the meeting."""
    record, clerk = form_received()
    meeting = meetings.schedule_meeting(record, in_three_days(), clerk)
    db.session.commit()
    webex_emulator.fail_next(503, times=10)
    for _ in range(app.config["WEBEX_MAX_ATTEMPTS"]):
        meetings.sync_meeting(meeting.id)
    return record, clerk, meeting


def test_a_meeting_is_made_in_webex_with_counsel_invited(app, webex_emulator):
    record, clerk = form_received()
    meeting = meetings.schedule_meeting(record, in_three_days(), clerk)
    db.session.commit()
    assert meeting.status is MeetingStatus.SCHEDULING  # the web request never calls Webex

    assert meetings.sync_meeting(meeting.id) is MeetingStatus.SCHEDULED

    made = webex_emulator.meetings[meeting.webex_meeting_id]
    assert [invitee["email"] for invitee in made["invitees"]] == [record.counsel.email]
    assert record.counsel.full_name not in made["title"]
    assert meeting.web_link.startswith("https://") and meeting.meeting_number
    sent = db.session.scalar(select(Notification).where(Notification.template == "verification_meeting"))
    assert sent.values["meeting_link"] == meeting.web_link
    assert sent.values["meeting_time_zone"] == "America/Vancouver"


def test_the_clerk_picks_the_time_on_the_office_clock(app, webex_emulator):
    record, clerk = form_received("central")
    local = in_three_days().replace(hour=10, minute=30)
    meeting = meetings.schedule_meeting(record, local, clerk)
    assert meeting.starts_at.astimezone(record.office.zone).strftime("%H:%M") == "10:30"


def test_webex_down_for_the_first_attempts_still_ends_with_a_meeting(app, webex_emulator):
    record, clerk = form_received()
    meeting = meetings.schedule_meeting(record, in_three_days(), clerk)
    db.session.commit()
    webex_emulator.fail_next(503, times=2)
    assert meetings.sync_meeting(meeting.id) is MeetingStatus.SCHEDULING
    webex_emulator.fail_next(429, retry_after=2)
    assert meetings.sync_meeting(meeting.id) is MeetingStatus.SCHEDULING
    assert meetings.sync_meeting(meeting.id) is MeetingStatus.SCHEDULING
    assert meeting.attempts == 3 and "429" in meeting.last_error
    assert meetings.sync_meeting(meeting.id) is MeetingStatus.SCHEDULED
    assert record.flag is None


def test_webex_down_for_good_flags_the_registration_and_a_link_can_be_entered_by_hand(app, webex_emulator):
    record, clerk, meeting = meeting_webex_gave_up_on(app, webex_emulator)
    assert meeting.status is MeetingStatus.FAILED
    assert "Webex" in record.flag
    meetings.enter_link_by_hand(record, "https://irb-cisr.webex.example/meet/by-hand", "2634 000 1111", clerk)
    assert meeting.status is MeetingStatus.SCHEDULED and meeting.entered_by_hand
    assert record.flag is None


def test_a_meeting_is_rescheduled_and_cancelled_in_webex(app, webex_emulator):
    record, clerk = form_received()
    meeting = meetings.schedule_meeting(record, in_three_days(), clerk)
    db.session.commit()
    meetings.sync_meeting(meeting.id)
    later = in_three_days() + timedelta(days=1)
    meetings.reschedule_meeting(record, later, clerk)
    db.session.commit()
    meetings.sync_meeting(meeting.id)
    stored = webex_emulator.meetings[meeting.webex_meeting_id]
    assert datetime.fromisoformat(stored["start"]) == meeting.starts_at
    meetings.cancel_meeting(record, clerk)
    db.session.commit()
    meetings.sync_meeting(meeting.id)
    assert meeting.webex_meeting_id not in webex_emulator.meetings
    assert record.status is RegistrationStatus.FORM_RECEIVED and meeting.status is MeetingStatus.CANCELLED


def test_counsel_is_reminded_the_day_before_the_meeting_once(app, webex_emulator):
    record, clerk = form_received()
    meeting = meetings.schedule_meeting(record, in_three_days(), clerk)
    db.session.commit()
    meetings.sync_meeting(meeting.id)
    assert meetings.queue_meeting_reminders() == []
    day_before = meeting.starts_at - timedelta(hours=20)
    assert meetings.queue_meeting_reminders(day_before) == [meeting.id]
    assert meetings.queue_meeting_reminders(day_before) == []


def test_the_identity_check_records_the_kind_of_id_and_who_saw_it(app):
    record, clerk = form_received()
    meetings.schedule_meeting(record, in_three_days(), clerk)
    with pytest.raises(Refused):  # the meeting is not arranged yet: there was no meeting to hold
        meetings.record_identity(record, clerk, "verified", IdentityDocument.DRIVERS_LICENCE)
    meetings.enter_link_by_hand(record, "https://irb-cisr.webex.example/meet/x", "", clerk)
    early = "Counsel joined the meeting early."
    with pytest.raises(Refused):
        meetings.record_identity(record, clerk, "verified", early_reason=early)
    meetings.record_identity(record, clerk, "verified", IdentityDocument.DRIVERS_LICENCE, early)
    assert record.status is RegistrationStatus.IDENTITY_VERIFIED
    assert (record.identity_document, record.identity_checked_by) == (IdentityDocument.DRIVERS_LICENCE, clerk)
    assert not any(
        "number" in column.name for column in Registration.__table__.columns if "identity" in column.name
    )


def test_a_missed_meeting_can_be_scheduled_again(app):
    record, clerk = form_received()
    meetings.schedule_meeting(record, in_three_days(), clerk)
    meetings.enter_link_by_hand(record, "https://irb-cisr.webex.example/meet/x", "", clerk)
    meetings.record_identity(record, clerk, "missed", early_reason="Counsel said they cannot come.")
    assert record.status is RegistrationStatus.VERIFICATION_MISSED
    assert record.meetings[-1].status is MeetingStatus.MISSED
    meetings.schedule_meeting(record, in_three_days(), clerk)
    assert record.status is RegistrationStatus.VERIFICATION_SCHEDULED


def test_a_registration_on_hold_resumes_where_it_was(app):
    record, clerk = form_received()
    supervisor = create_staff("supervisor", "western")
    registration.fire(record, "put_on_hold", supervisor)
    assert record.status is RegistrationStatus.ON_HOLD
    with pytest.raises(Refused):
        meetings.schedule_meeting(record, in_three_days(), clerk)
    registration.fire(record, "resume", clerk, target=record.status_before_hold)
    assert record.status is RegistrationStatus.FORM_RECEIVED
    registration.fire(record, "withdraw", supervisor)
    assert record.status is RegistrationStatus.WITHDRAWN
    assert MACHINE.allowed(record, clerk) == []


def test_every_transition_names_who_may_fire_it_and_is_audited(app):
    from backoffice.models import AuditEvent

    for name, rule in MACHINE.transitions.items():
        assert rule.sources, name
        assert rule.roles or name in {"activate", "expire_invitation_code"}, name
    record, clerk = form_received()
    actions = db.session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.record_type == "registrations", AuditEvent.record_id == str(record.id))
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["registration.invited", "registration.receive_form"]


def test_a_past_time_is_refused(app):
    record, clerk = form_received()
    with pytest.raises(Refused):
        an_hour_ago = datetime.now(record.office.zone).replace(tzinfo=None) - timedelta(hours=1)
        meetings.schedule_meeting(record, an_hour_ago, clerk)
    assert db.session.scalar(select(VerificationMeeting.id)) is None
    assert utcnow()


def test_withdrawing_cancels_the_meeting_in_webex_and_sends_no_reminder(app, webex_emulator):
    record, clerk = form_received()
    meeting = meetings.schedule_meeting(record, in_three_days(), clerk)
    db.session.commit()
    meetings.sync_meeting(meeting.id)
    made = meeting.webex_meeting_id
    meetings.withdraw(record, create_staff("supervisor", "western"))
    db.session.commit()
    meetings.sync_meeting(meeting.id)
    assert made not in webex_emulator.meetings
    assert meetings.queue_meeting_reminders(meeting.starts_at - timedelta(hours=2)) == []


def test_a_meeting_not_yet_made_is_never_made_for_a_registration_put_on_hold(app, webex_emulator):
    record, clerk = form_received()
    meeting = meetings.schedule_meeting(record, in_three_days(), clerk)
    db.session.commit()
    meetings.put_on_hold(record, clerk)
    db.session.commit()
    meetings.sync_meeting(meeting.id)
    assert webex_emulator.meetings == {}
    meetings.resume(record, clerk)
    assert record.status is RegistrationStatus.FORM_RECEIVED  # to arrange the meeting again


def test_a_meeting_webex_gave_up_on_is_not_tried_again_behind_the_clerk(app, webex_emulator):
    record, clerk, meeting = meeting_webex_gave_up_on(app, webex_emulator)
    assert meeting.pending_change is None
    assert meetings.requeue_stalled_meetings(utcnow() + timedelta(hours=1)) == []
    meetings.cancel_meeting(record, clerk)
    assert record.flag is None


def test_a_code_that_expires_while_on_hold_resumes_as_expired(app):
    from tests.factories import registration_with_code

    record, _code = registration_with_code()
    clerk = create_staff("clerk", "western")
    meetings.put_on_hold(record, clerk)
    from backoffice.workflows.registration import invitation_codes

    invitation_codes.expire_and_remind(utcnow() + timedelta(days=31))
    meetings.resume(record, clerk)
    assert record.status is RegistrationStatus.CODE_EXPIRED


def test_a_meeting_cancelled_while_webex_is_making_it_is_removed_and_counsel_not_told(app, webex_emulator):
    import threading

    record, clerk = form_received()
    meeting = meetings.schedule_meeting(record, in_three_days(), clerk)
    db.session.commit()
    registration_id, clerk_id, meeting_id = record.id, clerk.id, meeting.id
    webex_emulator.hold_next()  # Webex is making the meeting until the clerk has cancelled it

    def clerk_cancels_meanwhile():
        from backoffice.models import StaffUser

        webex_emulator.wait_until_held()
        try:
            with app.app_context():
                meetings.cancel_meeting(
                    db.session.get(Registration, registration_id), db.session.get(StaffUser, clerk_id)
                )
                db.session.commit()
                db.session.remove()
        finally:
            webex_emulator.release()

    cancelling = threading.Thread(target=clerk_cancels_meanwhile)
    cancelling.start()
    meetings.sync_meeting(meeting_id)
    cancelling.join()
    meetings.sync_meeting(meeting_id)  # the job queued again to remove what Webex made

    db.session.expire_all()
    meeting = db.session.get(VerificationMeeting, meeting_id)
    assert meeting.status is MeetingStatus.CANCELLED and meeting.pending_change is None
    assert webex_emulator.meetings == {}
    assert (
        db.session.scalar(select(Notification.id).where(Notification.template == "verification_meeting"))
        is None
    )
