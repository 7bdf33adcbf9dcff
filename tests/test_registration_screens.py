"""The staff screens of the registration of counsel: one registration from invitation to an active portal
account through the screens, the portal API, a real worker, the Webex emulator and the outbox; who may do
what; the returned form; Webex down for a while and for good; the pipeline board; the invite page."""

import csv
import io
import json
import re
from datetime import datetime, timedelta
from email.message import EmailMessage
from html.parser import HTMLParser

import pytest
from sqlalchemy import func, select

from backoffice.extensions import db
from backoffice.models import (
    AuditEvent,
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
from backoffice.queue import job_queue
from backoffice.workflows.registration import form as registration_form
from backoffice.workflows.registration import meetings
from backoffice.workflows.registration.machine import start_registration
from backoffice.workflows.registration.meetings import record_identity
from backoffice.workflows.registration.returned_form import record_form
from tests.factories import create_case, create_counsel, create_portal_client, make_counsel_of_record
from tests.helpers import csrf_token_from, fill_in, flattened, page_of, switch_to_french, text_of

CODE = re.compile(r"\b[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}-[2-9A-HJ-NP-Z]{4}\b")
RETURNED = {
    "mobile": "604-555-0199",
    "postal_address": "800 Hornby Street\nVancouver BC V6Z 2C5",
}


# --------------------------------------------------------------------------------------------- helpers


def details_url(registration: Registration) -> str:
    return f"/admin/registration/details/?id={registration.id}"


def post(client, url: str, data: dict, page: str = "/admin/registration/", **kwargs):
    """POST as the browser would, with the CSRF token of a page the user has open."""
    token = csrf_token_from(page_of(client, page))
    return client.post(url, data={"csrf_token": token, **data}, **kwargs)


def invite(client, counsel_id: int, channel: str):
    """Invite one counsel from the invite page, by the channel chosen there."""
    page = "/admin/registration_invite/"
    return post(client, f"{page}invite/", {"counsel": counsel_id, "channel": channel}, page)


def act(client, registration: Registration, action: str, expect: str = "success", **data):
    """Press one of the registration page's buttons; expect to be sent back to the page with a message of
    the `expect` kind (success or error)."""
    response = post(
        client, f"/admin/registration/{action}/", {"id": registration.id, **data}, details_url(registration)
    )
    assert response.status_code == 302, response.get_data(as_text=True)[-800:]
    assert response.location == details_url(registration)
    assert flashes(client)[-1][0] == expect, flashes(client)
    return response


def flashes(client) -> list[tuple[str, str]]:
    with client.session_transaction() as session:
        return list(session.get("_flashes", []))


def refreshed(record):
    db.session.expire_all()
    return db.session.get(type(record), record.id)


def counsel_of_record(office: str = "western", **fields):
    case = create_case(office, "RPD")
    counsel = create_counsel(**fields)
    make_counsel_of_record(case, counsel)
    return case, counsel


def form_values(case, counsel, **changes: str) -> dict[str, str]:
    values = registration_form.form_values_for(counsel)
    return {**values, **RETURNED, "file_numbers": case.file_number, **changes}


def invited(clerk: StaffUser, office: str = "western", **fields) -> Registration:
    case, counsel = counsel_of_record(office, **fields)
    registration = start_registration(counsel, InvitationChannel.EMAIL, clerk)
    registration.case_for_test = case
    db.session.commit()
    return registration


def with_form(clerk: StaffUser, office: str = "western", **fields) -> Registration:
    registration = invited(clerk, office, **fields)
    assert (
        record_form(registration, form_values(registration.case_for_test, registration.counsel), clerk) == []
    )
    db.session.commit()
    return registration


def scheduled(clerk: StaffUser, office: str = "western") -> Registration:
    registration = with_form(clerk, office)
    meetings.schedule_meeting(registration, datetime.now() + timedelta(days=3), clerk)
    db.session.commit()
    return registration


def arranged(clerk: StaffUser, office: str = "western") -> Registration:
    """Scheduled, and the meeting arranged (here by a link entered by hand, as if Webex had been down)."""
    registration = scheduled(clerk, office)
    meetings.enter_link_by_hand(
        registration, "https://irb-cisr.webex.example/meet/arranged", "2634 555 0101", clerk
    )
    db.session.commit()
    return registration


def upload(client, registration: Registration, pdf: bytes):
    token = csrf_token_from(page_of(client, details_url(registration)))
    return client.post(
        "/admin/registration/returned-form/",
        data={"csrf_token": token, "id": str(registration.id), "file": (io.BytesIO(pdf), "returned.pdf")},
        content_type="multipart/form-data",
    )


class _FormFields(HTMLParser):
    """The values a browser would send for the inputs, text areas and selects of a page's forms."""

    def __init__(self) -> None:
        super().__init__()
        self.values: dict[str, str] = {}
        self._textarea: str | None = None
        self._select: str | None = None

    def handle_starttag(self, tag, attrs) -> None:
        attrs = dict(attrs)
        if tag == "input" and attrs.get("name") and attrs.get("type") != "file":
            self.values[attrs["name"]] = attrs.get("value") or ""
        elif tag == "textarea":
            self._textarea = attrs.get("name")
            self.values[self._textarea] = ""
        elif tag == "select":
            self._select = attrs.get("name")
            self.values.setdefault(self._select, "")
        elif tag == "option" and self._select and "selected" in attrs:
            self.values[self._select] = attrs.get("value") or ""

    def handle_endtag(self, tag) -> None:
        if tag == "textarea":
            self._textarea = None
        elif tag == "select":
            self._select = None

    def handle_data(self, data) -> None:
        if self._textarea:
            first = not self.values[self._textarea]  # a browser drops one newline after <textarea>
            self.values[self._textarea] += re.sub(r"^\r?\n", "", data) if first else data


def fields_of(page: str) -> dict[str, str]:
    parser = _FormFields()
    parser.feed(page)
    return parser.values


def audit_trail(registration: Registration) -> list[str]:
    return list(
        db.session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.record_type == "registrations", AuditEvent.record_id == str(registration.id))
            .order_by(AuditEvent.id)
        )
    )


def templates_queued(counsel_id: int) -> list[str]:
    return list(
        db.session.scalars(
            select(Notification.template)
            .where(Notification.counsel_id == counsel_id)
            .order_by(Notification.id)
        )
    )


def local_input(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M")


# --------------------------------------------------------------------------------------------- end to end


def test_a_registration_goes_from_invitation_to_an_active_portal_account_through_the_screens(
    app, login_as, run_worker, smtp_sink, webex_emulator
):
    clerk = login_as("clerk", "western")
    case, counsel = counsel_of_record("western", full_name="Grace Li", email="grace.li@law.example")

    # Invite by email: the invitation, with the registration form, goes out through the worker.
    invite_page = page_of(clerk, "/admin/registration_invite/")
    assert "Grace Li" in text_of(invite_page, "eligible")
    response = invite(clerk, counsel.id, "email")
    registration = db.session.scalar(select(Registration).where(Registration.counsel_id == counsel.id))
    assert response.location == details_url(registration)
    assert registration.status is RegistrationStatus.INVITED
    assert templates_queued(counsel.id) == ["invitation"]
    run_worker()
    [email] = smtp_sink.messages
    assert email["To"] == "grace.li@law.example"
    [attachment] = [part for part in email.iter_attachments() if isinstance(part, EmailMessage)]
    assert attachment.get_content_type() == "application/pdf"
    assert attachment.get_content().startswith(b"%PDF-")

    # The returned form, filled in with a PDF viewer, read and shown beside the counsel record.
    returned = fill_in(registration_form.registration_form_pdf(counsel), RETURNED)
    check = upload(clerk, registration, returned)
    assert check.status_code == 200, check.get_data(as_text=True)[-800:]
    check_page = check.get_data(as_text=True)
    inputs = fields_of(check_page)
    assert inputs["mobile"] == "604-555-0199"
    assert inputs["full_name"] == "Grace Li"
    assert 'data-testid="differs-mobile"' in check_page  # the record has no mobile number yet
    assert 'data-testid="differs-full_name"' not in check_page
    response = post(clerk, "/admin/registration/record-form/", {**inputs}, details_url(registration))
    assert response.location == details_url(registration)
    registration = refreshed(registration)
    assert registration.status is RegistrationStatus.FORM_RECEIVED
    assert registration.counsel.mobile == "+16045550199"

    # The Webex meeting, in Vancouver time; the worker makes it in Webex.
    start = (datetime.now(registration.office.zone) + timedelta(days=7)).replace(
        hour=10, minute=30, second=0, microsecond=0, tzinfo=None
    )
    act(clerk, registration, "schedule", starts_at=local_input(start))
    run_worker()
    [meeting] = refreshed(registration).meetings
    assert meeting.status is MeetingStatus.SCHEDULED
    [in_webex] = webex_emulator.meetings.values()
    assert [invitee["email"] for invitee in in_webex["invitees"]] == ["grace.li@law.example"]
    assert in_webex["timezone"] == "America/Vancouver"
    assert in_webex["start"].startswith(start.strftime("%Y-%m-%dT%H:%M"))
    page = page_of(clerk, details_url(registration))
    assert in_webex["webLink"] in text_of(page, "meetings")
    assert start.strftime("%Y-%m-%d %H:%M") in text_of(page, "meetings")

    # Identity verified with a passport; the invitation code shown once.
    act(
        clerk,
        registration,
        "identity",
        outcome="verified",
        document="passport",
        early_reason="Counsel joined the meeting early.",
    )
    assert refreshed(registration).identity_document is IdentityDocument.PASSPORT
    response = post(
        clerk, "/admin/registration/invitation-code/", {"id": registration.id}, details_url(registration)
    )
    assert response.status_code == 200
    code_page = response.get_data(as_text=True)
    code = CODE.search(text_of(code_page, "invitation-code")).group(0)
    assert "will not be shown again" in text_of(code_page, "code-warning")

    # The portal: the code gives an SMS challenge; the access code (read in the outbox before delivery).
    portal = app.test_client()
    headers = {"Authorization": f"Bearer {create_portal_client('My Case portal')}"}
    redeemed = portal.post(
        "/api/v1/invitation-codes/redeem",
        json={"code": code, "sign_in_provider": "gckey", "sign_in_subject": "gckey-grace-li"},
        headers=headers,
    )
    assert redeemed.status_code == 200, redeemed.get_json()
    sms = db.session.scalar(select(Notification).where(Notification.template == "access_code"))
    verified = portal.post(
        "/api/v1/access-codes/verify",
        json={"challenge_id": redeemed.get_json()["challenge_id"], "access_code": sms.values["access_code"]},
        headers=headers,
    )
    assert verified.status_code == 200, verified.get_json()
    assert verified.get_json()["status"] == "active"

    page = page_of(clerk, details_url(registration))
    assert text_of(page, "registration-status") == "Active"
    assert audit_trail(registration) == [
        "registration.invited",
        "registration.form_uploaded",
        "registration.receive_form",
        "registration.schedule_verification",
        "meeting.webex_created",
        "registration.verify_identity",
        "registration.issue_invitation_code",
        "invitation_code.redeemed",
        "registration.activate",
    ]
    assert templates_queued(counsel.id) == [
        "invitation",
        "verification_meeting",
        "invitation_code",
        "access_code",
    ]
    timeline = text_of(page, "timeline")
    for words in ("Invitation sent", "Form received", "Meeting made in Webex", "Portal account active"):
        assert words in timeline
    assert code not in page


# --------------------------------------------------------------------------------------------- who may do what


def test_a_central_clerk_opening_a_western_registration_gets_404_and_is_audited(login_as):
    western_clerk = login_as("clerk", "western")
    registration = invited(western_clerk.user, full_name="Only Western")
    central_clerk = login_as("clerk", "central")

    response = central_clerk.get(details_url(registration))

    assert response.status_code == 404
    assert "Only Western" not in response.get_data(as_text=True)
    assert "Only Western" not in page_of(central_clerk, "/admin/registration/")
    refusal = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "permission.refused").order_by(AuditEvent.id.desc())
    ).first()
    assert refusal.actor_id == central_clerk.user.id
    assert refusal.after["reason"] == "out_of_scope"
    assert (refusal.after["record_type"], refusal.after["record_id"]) == (
        "registrations",
        str(registration.id),
    )
    assert "Only Western" in page_of(western_clerk, "/admin/registration/")


def test_a_central_clerk_cannot_act_on_a_western_registration(login_as):
    western_clerk = login_as("clerk", "western")
    registration = invited(western_clerk.user)
    central_clerk = login_as("clerk", "central")

    response = post(central_clerk, "/admin/registration/hold/", {"id": registration.id})

    assert response.status_code == 404
    assert refreshed(registration).status is RegistrationStatus.INVITED


@pytest.mark.parametrize(
    "url", ["/admin/registration/", "/admin/registration_pipeline/", "/admin/registration_invite/"]
)
def test_a_division_member_is_refused_the_registration_screens(login_as, url):
    member = login_as("division_member", "western", "RPD")

    assert member.get(url).status_code == 403
    refusal = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "permission.refused")).one()
    assert refusal.after["reason"] == "role"


@pytest.mark.parametrize(
    ("role", "actions"),
    [
        ("clerk", ["schedule-meeting", "hold-actions"]),
        ("supervisor", ["hold-actions"]),
        ("admin", ["no-actions"]),
    ],
)
def test_each_role_is_shown_its_own_actions_on_a_registration_with_its_form(login_as, role, actions):
    registration = with_form(login_as("clerk", "western").user)

    page = page_of(login_as(role, "western"), details_url(registration))

    groups = ("schedule-meeting", "hold-actions", "no-actions")
    assert [group for group in groups if f'data-testid="{group}"' in page] == actions


def test_a_supervisor_puts_a_registration_on_hold_and_resumes_it_but_cannot_schedule_the_meeting(login_as):
    clerk = login_as("clerk", "western")
    registration = with_form(clerk.user)
    supervisor = login_as("supervisor", "western")

    act(supervisor, registration, "hold")
    assert refreshed(registration).status is RegistrationStatus.ON_HOLD
    assert 'data-testid="schedule-meeting"' not in page_of(clerk, details_url(registration))
    act(supervisor, registration, "resume")
    assert refreshed(registration).status is RegistrationStatus.FORM_RECEIVED

    later = local_input(datetime.now() + timedelta(days=5))
    response = post(supervisor, "/admin/registration/schedule/", {"id": registration.id, "starts_at": later})
    assert response.status_code == 403
    assert refreshed(registration).meetings == []
    refusal = db.session.scalars(
        select(AuditEvent).where(AuditEvent.action == "permission.refused").order_by(AuditEvent.id.desc())
    ).first()
    assert (refusal.actor_id, refusal.after["reason"], refusal.after["action"]) == (
        supervisor.user.id,
        "role",
        "schedule_verification",
    )
    assert audit_trail(registration)[-2:] == ["registration.put_on_hold", "registration.resume"]


def test_an_administrator_may_not_act_on_a_registration(login_as):
    clerk = login_as("clerk", "western")
    registration = with_form(clerk.user)
    admin = login_as("admin", "western")

    assert post(admin, "/admin/registration/hold/", {"id": registration.id}).status_code == 403
    assert refreshed(registration).status is RegistrationStatus.FORM_RECEIVED


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("invitation-code", {}),
        ("schedule", {"starts_at": "2031-03-04T10:00"}),
        ("identity", {"outcome": "verified", "document": "passport", "early_reason": "Joined early."}),
        ("send-invitation", {"channel": "mail"}),
        ("cancel-meeting", {}),
        ("resume", {}),
        ("record-form", {"full_name": "Somebody Else", "mobile": "604-555-0100"}),
    ],
)
def test_an_action_the_stage_does_not_allow_is_refused_and_changes_nothing(login_as, action, data):
    clerk = login_as("clerk", "western")
    registration = invited(clerk.user, full_name="Still Invited")
    events, messages = audit_trail(registration), templates_queued(registration.counsel_id)
    if action == "record-form":
        act(clerk, registration, "withdraw")  # a withdrawn registration takes no form
        events = audit_trail(registration)

    response = post(
        clerk, f"/admin/registration/{action}/", {"id": registration.id, **data}, details_url(registration)
    )

    assert response.status_code == 302 and response.location == details_url(registration)
    assert flashes(clerk)[-1][0] == "error"
    registration = refreshed(registration)
    assert registration.status in (RegistrationStatus.INVITED, RegistrationStatus.WITHDRAWN)
    assert registration.counsel.full_name == "Still Invited"
    assert registration.identity_document is None
    assert (registration.meetings, registration.invitation_codes, registration.form_values) == ([], [], None)
    assert audit_trail(registration) == events
    assert templates_queued(registration.counsel_id) == messages


def test_an_upload_on_a_registration_past_the_form_stage_is_refused_and_nothing_is_kept(login_as):
    clerk = login_as("clerk", "western")
    registration = with_form(clerk.user)
    events = audit_trail(registration)

    response = upload(clerk, registration, registration_form.registration_form_pdf(registration.counsel))

    assert response.status_code == 302
    assert flashes(clerk)[-1][0] == "error"
    assert refreshed(registration).form_sha256 is None
    assert audit_trail(registration) == events


def test_the_invitation_code_is_never_in_the_page_the_list_the_audit_log_the_session_or_the_jobs(
    app, login_as
):
    clerk = login_as("clerk", "western")
    registration = arranged(clerk.user)
    record_identity(registration, clerk.user, "verified", IdentityDocument.DRIVERS_LICENCE, "Joined early.")
    db.session.commit()

    response = post(
        clerk, "/admin/registration/invitation-code/", {"id": registration.id}, details_url(registration)
    )
    code = CODE.search(response.get_data(as_text=True)).group(0)
    assert response.headers["Cache-Control"] == "no-store"
    assert code not in response.headers.get("Location", "") and code not in str(response.headers)

    forms = {code, code.replace("-", ""), code.lower()}
    for url in (details_url(registration), "/admin/registration/", "/admin/registration/export/csv/"):
        shown = clerk.get(url).get_data(as_text=True)
        assert not any(form in shown for form in forms), url
    assert "Issued" in text_of(page_of(clerk, details_url(registration)), "invitation-codes")
    with clerk.session_transaction() as session:
        assert not any(form in json.dumps(dict(session), default=str) for form in forms)
    events = db.session.scalars(select(AuditEvent)).all()
    assert not any(
        form in json.dumps([event.before, event.after, event.record_id]) for event in events for form in forms
    )
    queue = job_queue(app)
    jobs = queue.get_jobs() + [
        queue.fetch_job(job_id) for job_id in queue.scheduled_job_registry.get_job_ids()
    ]
    assert jobs, "the invitation_code message is queued for delivery"
    assert not any(form in repr((job.args, job.kwargs)) for job in jobs for form in forms)


# --------------------------------------------------------------------------------------------- the returned form


def test_a_flattened_form_falls_back_to_typed_entry(login_as):
    clerk = login_as("clerk", "western")
    registration = invited(clerk.user)
    counsel = registration.counsel
    returned = flattened(fill_in(registration_form.registration_form_pdf(counsel), RETURNED))

    response = upload(clerk, registration, returned)

    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "no form fields to read" in text_of(page, "typed-entry")
    inputs = fields_of(page)
    assert {name: inputs[name] for name in registration_form.FIELD_NAMES} == dict.fromkeys(
        registration_form.FIELD_NAMES, ""
    )
    assert text_of(page, "record-full_name") == counsel.full_name  # the record, beside the empty inputs
    assert refreshed(registration).form_sha256 is not None  # kept, to be read by the clerk
    download = clerk.get(f"/admin/registration/returned-form/download/?id={registration.id}")
    assert download.status_code == 200 and download.data == returned
    assert download.headers["Content-Disposition"].startswith("attachment")

    typed = {**inputs, **form_values(registration.case_for_test, counsel)}
    post(clerk, "/admin/registration/record-form/", typed, details_url(registration))
    registration = refreshed(registration)
    assert registration.status is RegistrationStatus.FORM_RECEIVED
    assert registration.form_values["postal_address"] == RETURNED["postal_address"]


def test_a_form_received_on_paper_is_typed_in_without_an_upload(login_as):
    clerk = login_as("clerk", "western")
    registration = invited(clerk.user)

    page = page_of(clerk, f"/admin/registration/typed-form/?id={registration.id}")

    assert 'data-testid="typed-entry"' in page
    values = form_values(registration.case_for_test, registration.counsel)
    post(clerk, "/admin/registration/record-form/", {**fields_of(page), **values}, details_url(registration))
    assert refreshed(registration).status is RegistrationStatus.FORM_RECEIVED
    assert refreshed(registration).form_sha256 is None


def test_a_form_without_a_mobile_number_sends_the_registration_to_form_incomplete_with_a_message(login_as):
    clerk = login_as("clerk", "western")
    registration = invited(clerk.user)
    returned = fill_in(
        registration_form.registration_form_pdf(registration.counsel), {**RETURNED, "mobile": ""}
    )

    inputs = fields_of(upload(clerk, registration, returned).get_data(as_text=True))
    assert inputs["mobile"] == ""
    post(clerk, "/admin/registration/record-form/", inputs, details_url(registration))

    registration = refreshed(registration)
    assert registration.status is RegistrationStatus.FORM_INCOMPLETE
    category, text = flashes(clerk)[-1]
    assert category == "warning" and "Mobile number (for SMS access codes): required, but left blank" in text
    message = db.session.scalar(select(Notification).where(Notification.template == "form_incomplete"))
    assert message.counsel_id == registration.counsel_id
    assert message.values["missing_items"] == [
        {
            "en": "Mobile number (for SMS access codes): required, but left blank",
            "fr": "Cellulaire (codes d'accès par texto) : obligatoire, mais laissé vide",
        }
    ]
    assert registration.counsel.mobile is None  # an incomplete form changes nothing on the record
    page = page_of(clerk, details_url(registration))
    assert 'data-testid="upload-form"' in page  # counsel's corrected form can come in


def test_a_file_that_is_not_a_pdf_is_refused_with_a_reason(login_as):
    clerk = login_as("clerk", "western")
    registration = invited(clerk.user)

    response = upload(clerk, registration, b"RIFF....WAVEfmt ")

    assert response.status_code == 302
    assert flashes(clerk)[-1] == ("error", "The returned form must be a PDF file.")
    assert refreshed(registration).form_sha256 is None


# --------------------------------------------------------------------------------------------- Webex


def sync_until_settled(meeting_id: int, tries: int = 10) -> MeetingStatus:
    """Carry the meeting's pending change to Webex in this process, as the scheduled retries would."""
    status = None
    for _ in range(tries):
        status = meetings.sync_meeting(meeting_id)
        db.session.expire_all()
        if status is not MeetingStatus.SCHEDULING:
            break
    return status


def scheduled_while_webex_is_down(
    clerk, webex_emulator, run_worker, failures: int
) -> tuple[Registration, VerificationMeeting]:
    """A meeting asked for on the page while Webex answers 503 to the next `failures` requests, after the
    worker's first attempt: the registration and its meeting."""
    registration = with_form(clerk.user)
    webex_emulator.fail_next(503, times=failures)
    act(clerk, registration, "schedule", starts_at=local_input(datetime.now() + timedelta(days=3)))
    run_worker()
    [meeting] = refreshed(registration).meetings
    return registration, meeting


def test_webex_down_for_the_first_attempts_still_ends_with_a_scheduled_meeting(
    app, login_as, run_worker, webex_emulator
):
    clerk = login_as("clerk", "western")
    registration, meeting = scheduled_while_webex_is_down(clerk, webex_emulator, run_worker, failures=2)
    assert meeting.attempts >= 1 and "503" in meeting.last_error

    assert sync_until_settled(meeting.id) is MeetingStatus.SCHEDULED
    meeting = refreshed(meeting)
    assert meeting.last_error is None and meeting.web_link.startswith("https://")
    assert len(webex_emulator.meetings) == 1
    assert refreshed(registration).flag is None
    assert meeting.web_link in text_of(page_of(clerk, details_url(registration)), "meetings")


def test_webex_down_for_good_flags_the_registration_and_a_link_entered_by_hand_clears_the_flag(
    app, login_as, run_worker, webex_emulator
):
    clerk = login_as("clerk", "western")
    registration, meeting = scheduled_while_webex_is_down(clerk, webex_emulator, run_worker, failures=20)
    assert sync_until_settled(meeting.id) is MeetingStatus.FAILED
    assert refreshed(meeting).attempts == app.config["WEBEX_MAX_ATTEMPTS"]
    assert webex_emulator.meetings == {}

    page = page_of(clerk, details_url(registration))
    assert "Webex could not be reached" in text_of(page, "registration-flag")
    assert "503" in text_of(page, "meetings")
    assert 'data-testid="meeting-failed-actions"' in page
    assert "Flagged" in page_of(clerk, "/admin/registration/?flt0_3=1")

    act(
        clerk,
        registration,
        "meeting-link",
        link="https://irb-cisr.webex.example/meet/by-hand",
        number="2634 123",
    )

    registration = refreshed(registration)
    assert registration.flag is None
    meeting = refreshed(meeting)
    assert (meeting.status, meeting.entered_by_hand) == (MeetingStatus.SCHEDULED, True)
    page = page_of(clerk, details_url(registration))
    assert 'data-testid="registration-flag"' not in page
    assert "entered by hand" in text_of(page, "meetings")
    assert "https://irb-cisr.webex.example/meet/by-hand" in text_of(page, "meetings")
    assert templates_queued(registration.counsel_id)[-1] == "verification_meeting"
    assert "meeting.entered_by_hand" in audit_trail(registration)


def test_webex_is_tried_again_after_it_failed_and_makes_the_meeting(
    app, login_as, run_worker, webex_emulator
):
    clerk = login_as("clerk", "western")
    registration = with_form(clerk.user)
    webex_emulator.fail_next(503, times=app.config["WEBEX_MAX_ATTEMPTS"])
    act(clerk, registration, "schedule", starts_at=local_input(datetime.now() + timedelta(days=3)))
    [meeting] = refreshed(registration).meetings
    assert sync_until_settled(meeting.id) is MeetingStatus.FAILED

    act(clerk, registration, "retry-meeting")
    assert refreshed(registration).flag is None
    run_worker()

    assert refreshed(meeting).status is MeetingStatus.SCHEDULED
    assert len(webex_emulator.meetings) == 1


def test_a_link_by_hand_is_refused_while_webex_is_still_arranging_the_meeting(login_as):
    clerk = login_as("clerk", "western")
    registration = scheduled(clerk.user)

    act(clerk, registration, "meeting-link", "error", link="https://elsewhere.example/meet", number="1")

    assert flashes(clerk)[-1][0] == "error"
    meeting = refreshed(registration).meetings[0]
    assert (meeting.status, meeting.web_link) == (MeetingStatus.SCHEDULING, None)


# --------------------------------------------------------------------------------------------- the board


def registration_in(status: RegistrationStatus, office: str, days: float, **fields) -> Registration:
    """Test data: a registration that has been `days` in `status`."""
    from tests.factories import office as office_named

    _case, counsel = counsel_of_record(office, **fields)
    registration = Registration(
        counsel=counsel,
        office=office_named(office),
        status=status,
        channel=InvitationChannel.EMAIL,
        status_changed_at=utcnow() - timedelta(days=days, hours=1),
        flag=fields.pop("flag", None),
    )
    db.session.add(registration)
    db.session.commit()
    return registration


@pytest.fixture
def pipeline(app) -> dict[str, Registration]:
    return {
        "western invited, 3 days": registration_in(RegistrationStatus.INVITED, "western", 3),
        "western invited, 10 days": registration_in(RegistrationStatus.INVITED, "western", 10),
        "western form received, 1 day": registration_in(RegistrationStatus.FORM_RECEIVED, "western", 1),
        "western code issued, flagged": registration_in(
            RegistrationStatus.VERIFICATION_SCHEDULED, "western", 2, full_name="Flagged Counsel"
        ),
        "central invited, 40 days": registration_in(RegistrationStatus.INVITED, "central", 40),
    }


def stage(page: str, status: str) -> tuple[int, str]:
    card = text_of(page, f"stage-{status}")
    return int(card.split()[0]), card


def test_the_board_counts_a_clerks_office_by_stage_with_the_oldest_age(login_as, pipeline):
    flagged = pipeline["western code issued, flagged"]
    flagged.flag = "Webex could not be reached to arrange the meeting."
    db.session.commit()
    clerk = login_as("clerk", "western")

    page = page_of(clerk, "/admin/registration_pipeline/")

    count, card = stage(page, "invited")
    assert count == 2 and "oldest: 10 days" in card
    count, card = stage(page, "form_received")
    assert count == 1 and "oldest: 1 days" in card
    assert stage(page, "active")[0] == 0
    assert "Flagged Counsel" in text_of(page, "flagged")
    assert 'data-testid="office-selector"' not in page
    assert page.index('data-testid="flagged"') < page.index('data-testid="stage-invited"')

    listing_url = (
        re.search(r'href="([^"]+)" data-testid="stage-invited"', page).group(1).replace("&amp;", "&")
    )
    listing = page_of(clerk, listing_url)
    assert "List (2)" in listing
    assert pipeline["western invited, 10 days"].counsel.full_name in listing
    assert pipeline["central invited, 40 days"].counsel.full_name not in listing


def test_a_national_supervisor_sees_every_office_and_can_pick_one(login_as, pipeline):
    supervisor = login_as("supervisor", "national")

    page = page_of(supervisor, "/admin/registration_pipeline/")
    count, card = stage(page, "invited")
    assert count == 3 and "oldest: 40 days" in card
    assert 'data-testid="office-selector"' in page

    from tests.factories import office

    central = page_of(supervisor, f"/admin/registration_pipeline/?office={office('central').id}")
    count, card = stage(central, "invited")
    assert count == 1 and "oldest: 40 days" in card
    assert stage(central, "form_received")[0] == 0


def test_a_regional_supervisor_sees_the_board_of_their_office_only(login_as, pipeline):
    from tests.factories import office

    supervisor = login_as("supervisor", "western")

    page = page_of(supervisor, f"/admin/registration_pipeline/?office={office('central').id}")

    assert stage(page, "invited")[0] == 2


# --------------------------------------------------------------------------------------------- the list


def test_the_list_filters_by_stage_office_channel_and_flag_and_searches_by_counsel_name(login_as, pipeline):
    pipeline["western invited, 3 days"].counsel.full_name = "Zoë Searchable"
    pipeline["western code issued, flagged"].flag = "Webex could not be reached."
    db.session.commit()
    supervisor = login_as("supervisor", "national")

    def listed(query: str) -> int:
        return int(
            re.search(r"List \((\d+)\)", page_of(supervisor, f"/admin/registration/?{query}")).group(1)
        )

    assert listed("") == 5
    assert listed("flt0_0=invited") == 3
    assert listed(f"flt0_1={pipeline['central invited, 40 days'].office_id}") == 1
    assert listed("flt0_2=email") == 5
    assert listed("flt0_3=1") == 1
    assert listed("flt0_3=0") == 4
    assert listed("search=Searchable") == 1
    listing = page_of(supervisor, "/admin/registration/?flt0_0=invited")
    assert "Invited" in listing and "Central Region" in listing
    exported = list(
        csv.DictReader(io.StringIO(supervisor.get("/admin/registration/export/csv/").get_data(as_text=True)))
    )
    assert {row["Days in stage"] for row in exported} >= {"3", "10", "40"}


# --------------------------------------------------------------------------------------------- inviting


def test_a_clerk_invites_only_counsel_of_record_in_their_office_not_yet_invited(login_as):
    clerk = login_as("clerk", "western")
    _case, waiting = counsel_of_record("western", full_name="Waiting Western")
    counsel_of_record("central", full_name="Central Only")
    already = invited(clerk.user, full_name="Already Invited")

    page = page_of(clerk, "/admin/registration_invite/")

    eligible = text_of(page, "eligible")
    assert "Waiting Western" in eligible
    assert "Central Only" not in eligible and "Already Invited" not in eligible
    assert "1 counsel will be invited" in text_of(page, "eligible-count")

    response = invite(clerk, already.counsel_id, "email")
    assert response.location == "/admin/registration_invite/"
    assert flashes(clerk)[-1][0] == "error"
    assert db.session.scalar(select(func.count(Registration.id))) == 1


def test_a_phone_request_is_recorded_then_the_invitation_is_sent_by_mail(login_as):
    clerk = login_as("clerk", "western")
    _case, counsel = counsel_of_record("western", postal_address="800 Hornby Street\nVancouver BC")

    invite(clerk, counsel.id, "phone")

    registration = db.session.scalar(select(Registration).where(Registration.counsel_id == counsel.id))
    assert (registration.status, registration.channel) == (
        RegistrationStatus.REQUESTED,
        InvitationChannel.PHONE,
    )
    assert templates_queued(counsel.id) == []
    assert 'data-testid="send-invitation"' in page_of(clerk, details_url(registration))

    act(clerk, registration, "send-invitation", channel="mail")

    registration = refreshed(registration)
    assert (registration.status, registration.channel) == (RegistrationStatus.INVITED, InvitationChannel.MAIL)
    letter = db.session.scalar(select(Notification).where(Notification.counsel_id == counsel.id))
    assert (letter.template, letter.channel.value, letter.status.value) == ("invitation", "mail", "to_print")
    assert audit_trail(registration) == ["registration.requested", "registration.send_invitation"]


def test_an_invitation_by_fax_to_counsel_without_a_fax_number_is_refused_plainly(login_as):
    clerk = login_as("clerk", "western")
    _case, counsel = counsel_of_record("western", fax=None)

    invite(clerk, counsel.id, "fax")

    category, message = flashes(clerk)[-1]
    assert category == "error" and "address" in message
    assert db.session.scalar(select(func.count(Registration.id))) == 0
    assert templates_queued(counsel.id) == []


def test_the_timeline_shows_only_the_messages_of_the_users_scope(login_as):
    clerk = login_as("clerk", "western")
    registration = invited(clerk.user)
    from backoffice.workflows.message_templates import TEMPLATES
    from backoffice.workflows.notifications import queue_message

    central_case = create_case("central", "RPD")
    make_counsel_of_record(central_case, registration.counsel)
    queue_message(
        "invitation", TEMPLATES["invitation"].sample, counsel=registration.counsel, case=central_case
    )
    db.session.commit()

    western_page = page_of(clerk, details_url(registration))
    national_page = page_of(login_as("supervisor", "national"), details_url(registration))

    assert western_page.count('data-testid="timeline-message"') == 1
    assert national_page.count('data-testid="timeline-message"') == 2


def test_inviting_everyone_asks_to_confirm_the_count_and_sends_letters_to_counsel_without_email(login_as):
    clerk = login_as("clerk", "western")
    counsel_of_record("western", full_name="By Email")
    counsel_of_record(
        "western", full_name="By Letter", email=None, postal_address="1 Main Street\nVictoria BC"
    )
    counsel_of_record("western", full_name="Unreachable", email=None)
    counsel_of_record("central", full_name="Elsewhere")

    response = post(
        clerk,
        "/admin/registration_invite/bulk/",
        {"bulk_channel": "email", "expected_count": 2},
        "/admin/registration_invite/",
    )
    assert response.location == "/admin/registration_invite/"
    assert flashes(clerk)[-1][0] == "warning"
    assert db.session.scalar(select(func.count(Registration.id))) == 0

    assert fields_of(page_of(clerk, "/admin/registration_invite/"))["expected_count"] == "3"
    post(
        clerk,
        "/admin/registration_invite/bulk/",
        {"bulk_channel": "email", "expected_count": 3},
        "/admin/registration_invite/",
    )

    registrations = db.session.scalars(select(Registration)).all()
    assert sorted((r.counsel.full_name, r.channel.value) for r in registrations) == [
        ("By Email", "email"),
        ("By Letter", "mail"),
    ]
    messages = [message for category, message in flashes(clerk)]
    assert "Counsel invited: 2." in messages
    assert "Not invited, for want of an address to send to: 1." in messages


# --------------------------------------------------------------------------------------------- the meeting


def test_a_meeting_is_moved_then_cancelled_in_webex_through_the_screens(
    app, login_as, run_worker, webex_emulator
):
    clerk = login_as("clerk", "western")
    registration = with_form(clerk.user)
    first = (datetime.now() + timedelta(days=3)).replace(hour=9, minute=0, second=0, microsecond=0)
    act(clerk, registration, "schedule", starts_at=local_input(first))
    run_worker()
    [meeting_id] = webex_emulator.meetings

    later = first + timedelta(days=1, hours=5)
    page = page_of(clerk, details_url(registration))
    assert fields_of(page)["starts_at"] == local_input(
        first
    )  # the reschedule form starts from the current time
    act(clerk, registration, "reschedule", starts_at=local_input(later))
    run_worker()
    assert webex_emulator.meetings[meeting_id]["start"].startswith(later.strftime("%Y-%m-%dT%H:%M"))
    assert refreshed(registration).meetings[0].status is MeetingStatus.SCHEDULED

    act(clerk, registration, "cancel-meeting")
    run_worker()
    assert webex_emulator.meetings == {}
    registration = refreshed(registration)
    assert registration.status is RegistrationStatus.FORM_RECEIVED
    assert registration.meetings[0].status is MeetingStatus.CANCELLED
    assert 'data-testid="schedule-meeting"' in page_of(clerk, details_url(registration))
    assert audit_trail(registration)[-4:] == [
        "registration.reschedule_verification",
        "meeting.webex_updated",
        "registration.cancel_verification",
        "meeting.webex_deleted",
    ]


def test_a_meeting_in_the_past_is_refused(login_as):
    clerk = login_as("clerk", "western")
    registration = with_form(clerk.user)

    act(clerk, registration, "schedule", "error", starts_at=local_input(datetime.now() - timedelta(days=1)))

    assert flashes(clerk)[-1] == ("error", "Pick a time in the future.")
    assert refreshed(registration).meetings == []


@pytest.mark.parametrize(
    ("outcome", "status", "meeting"),
    [
        ("not_confirmed", RegistrationStatus.IDENTITY_NOT_CONFIRMED, MeetingStatus.HELD),
        ("missed", RegistrationStatus.VERIFICATION_MISSED, MeetingStatus.MISSED),
    ],
)
def test_the_clerk_records_that_identity_was_not_confirmed_or_the_meeting_missed(
    login_as, outcome, status, meeting
):
    clerk = login_as("clerk", "western")
    registration = arranged(clerk.user)

    act(clerk, registration, "identity", outcome=outcome, early_reason="Counsel joined the meeting early.")

    registration = refreshed(registration)
    assert (registration.status, registration.meetings[0].status) == (status, meeting)
    assert registration.identity_document is None
    assert 'data-testid="schedule-meeting"' in page_of(clerk, details_url(registration))  # a new meeting


def test_identity_verified_without_the_kind_of_photo_id_is_refused(login_as):
    clerk = login_as("clerk", "western")
    registration = arranged(clerk.user)

    act(
        clerk,
        registration,
        "identity",
        "error",
        outcome="verified",
        document="",
        early_reason="Counsel joined the meeting early.",
    )

    assert flashes(clerk)[-1] == ("error", "Say which kind of government photo ID was seen.")
    assert refreshed(registration).status is RegistrationStatus.VERIFICATION_SCHEDULED


def test_the_registration_screens_open_in_french(login_as):

    clerk = login_as("clerk", "western")
    registration = scheduled(clerk.user)
    switch_to_french(clerk, details_url(registration))

    for url in (
        details_url(registration),
        "/admin/registration/",
        "/admin/registration_pipeline/",
        "/admin/registration_invite/",
        f"/admin/registration/typed-form/?id={invited(clerk.user).id}",
    ):
        page = page_of(clerk, url)
        assert "Commis du greffe" in text_of(page, "who-am-i"), url


def test_a_meeting_outcome_is_recorded_before_its_start_only_with_a_reason_kept_in_the_audit_log(login_as):
    clerk = login_as("clerk", "western")
    registration = arranged(clerk.user)
    assert 'name="early_reason"' in page_of(clerk, details_url(registration))

    act(clerk, registration, "identity", "error", outcome="missed")
    assert flashes(clerk)[-1][1].startswith("The meeting starts at ")
    assert refreshed(registration).status is RegistrationStatus.VERIFICATION_SCHEDULED

    switch_to_french(clerk, details_url(registration))
    act(clerk, registration, "identity", "error", outcome="not_confirmed")
    assert flashes(clerk)[-1][1].startswith("La rencontre commence le ")

    act(
        clerk, registration, "identity", outcome="missed", early_reason="Counsel wrote that they cannot come."
    )
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "registration.record_missed_verification")
    )
    assert event.after["recorded_before_start"] == "Counsel wrote that they cannot come."
    assert event.actor_id == clerk.user.id


def test_once_the_meeting_has_begun_its_outcome_needs_no_reason(app, login_as, monkeypatch):
    from tests.helpers import time_passes

    clerk = login_as("clerk", "western")
    registration = arranged(clerk.user)
    time_passes(monkeypatch, app, 4 * 24 * 3600, meetings)
    assert 'name="early_reason"' not in page_of(clerk, details_url(registration))

    act(clerk, registration, "identity", outcome="not_confirmed")

    assert refreshed(registration).status is RegistrationStatus.IDENTITY_NOT_CONFIRMED
    event = db.session.scalar(
        select(AuditEvent).where(AuditEvent.action == "registration.record_identity_not_confirmed")
    )
    assert "recorded_before_start" not in event.after
