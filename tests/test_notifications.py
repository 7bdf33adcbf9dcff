"""Messages to counsel: delivered through the real smtplib and the real GC Notify client, by a real
worker on real Redis, exactly once, with failures retried or stopped and codes kept out of sight."""

import socketserver
import threading

import pytest
from sqlalchemy import func, select

from backoffice.extensions import db
from backoffice.models import AuditEvent, Channel, Language, Notification, NotificationStatus
from backoffice.workflows import notifications as outbox
from backoffice.workflows.message_rendering import MASK
from backoffice.workflows.message_templates import TEMPLATES
from backoffice.workflows.notifications import queue_message
from tests.factories import create_case, create_counsel, make_counsel_of_record
from tests.helpers import csrf_token_from, race, time_passes

pytestmark = pytest.mark.worker


def queue(template: str = "invitation", counsel=None, **kwargs) -> Notification:
    counsel = counsel or create_counsel(mobile="+16045550101", preferred_language=Language.FRENCH)
    case = kwargs.pop("case", None) or create_case("western")
    values = {**TEMPLATES[template].sample, **kwargs.pop("values", {})}
    notification = queue_message(template, values, counsel=counsel, case=case, **kwargs)
    db.session.commit()
    return notification


def refreshed(notification: Notification) -> Notification:
    db.session.expire_all()
    return db.session.get(Notification, notification.id)


def test_an_email_goes_out_through_smtp_in_the_counsel_language(app, smtp_sink, run_worker):
    notification = queue("invitation")
    run_worker()
    [message] = smtp_sink.messages
    assert message["To"] == notification.recipient
    assert "Mon dossier" in message["Subject"] or "inscri" in message["Subject"].lower()
    assert notification.reference in message["Message-ID"]
    assert message.get_body(("plain",)).get_content().startswith("Bonjour")
    assert '<html lang="fr">' in message.get_body(("html",)).get_content()
    sent = refreshed(notification)
    assert sent.status is NotificationStatus.SENT and sent.provider == "smtp" and sent.attempts == 1
    assert [event.event for event in sent.events] == ["queued", "sent"]


def test_unknown_language_gets_english_and_french_together(app, smtp_sink, run_worker):
    queue("invitation", counsel=create_counsel(preferred_language=None))
    run_worker()
    [message] = smtp_sink.messages
    text = message.get_body(("plain",)).get_content()
    assert text.index("Dear") < text.index("Bonjour")
    assert " / " in message["Subject"]


def test_email_and_sms_go_out_through_gc_notify_and_codes_are_erased_once_sent(
    app, notify_emulator, run_worker
):
    app.config["EMAIL_PROVIDER"] = "notify"
    counsel = create_counsel(mobile="+16045550101", preferred_language=Language.ENGLISH)
    email = queue("invitation_code", counsel=counsel, values={"invitation_code": "K7QM-3XPR-9TWD"})
    sms = queue("access_code", counsel=counsel, values={"access_code": "482913"})
    worker_output = run_worker()

    [sent_email] = notify_emulator.sent("email")
    [sent_sms] = notify_emulator.sent("sms")
    assert "K7QM-3XPR-9TWD" in sent_email["personalisation"]["body"]
    assert sent_email["reference"] == email.reference and sent_email["recipient"] == counsel.email
    assert "482913" in sent_sms["personalisation"]["body"] and sent_sms["recipient"] == "+16045550101"
    for notification, secret in ((email, "invitation_code"), (sms, "access_code")):
        done = refreshed(notification)
        assert done.status is NotificationStatus.SENT and done.provider == "notify"
        assert done.values[secret] == MASK
    assert "K7QM" not in worker_output and "482913" not in worker_output


def test_codes_never_reach_job_arguments_or_the_staff_screens(app, login_as):
    notification = queue("access_code", values={"access_code": "482913"})
    from backoffice.queue import job_queue

    [job] = job_queue(app).get_jobs()
    assert job.args == (notification.id,) and "482913" not in str(job.kwargs)
    clerk = login_as("clerk", "western")
    assert "482913" not in clerk.get("/admin/notification/").get_data(as_text=True)
    details = clerk.get(f"/admin/notification/details/?id={notification.id}").get_data(as_text=True)
    assert "482913" not in details and MASK in details
    assert "482913" not in clerk.get("/admin/notification/export/csv/").get_data(as_text=True)


def test_provider_down_then_up_delivers_every_message_exactly_once(app, smtp_sink, run_worker, monkeypatch):
    smtp_sink.stop()
    notifications = [queue("invitation") for _ in range(5)]
    run_worker()
    for notification in notifications:
        waiting = refreshed(notification)
        assert waiting.status is NotificationStatus.RETRYING and "unreachable" in waiting.last_error
    smtp_sink.start()
    time_passes(monkeypatch, app, 1.5, outbox)  # the first retry waits DELIVERY_RETRY_BASE_SECONDS (1 s here)
    run_worker()
    references = sorted(message["Message-ID"].strip("<>").split("@")[0] for message in smtp_sink.messages)
    assert references == sorted(n.reference for n in notifications)
    for notification in notifications:
        assert refreshed(notification).status is NotificationStatus.SENT
        assert refreshed(notification).attempts == 2


def test_notify_5xx_and_429_are_retried_after_the_time_asked(app, notify_emulator, run_worker, monkeypatch):
    app.config["EMAIL_PROVIDER"] = "notify"
    notify_emulator.fail_next(503)
    notification = queue("invitation")
    run_worker()
    first = refreshed(notification)
    assert first.status is NotificationStatus.RETRYING and "503" in first.last_error
    notify_emulator.fail_next(429, retry_after=5)  # longer than the back-off of a second attempt (2 s here)
    time_passes(monkeypatch, app, 1.2, outbox)
    asked_at = outbox.utcnow()
    run_worker()
    second = refreshed(notification)
    assert second.status is NotificationStatus.RETRYING and "429" in second.last_error
    assert (second.next_attempt_at - asked_at).total_seconds() >= 5
    time_passes(monkeypatch, app, 6.2, outbox)  # the retry is queued a second after the time asked
    run_worker()
    assert refreshed(notification).status is NotificationStatus.SENT
    assert len(notify_emulator.sent()) == 1


def test_the_same_delivery_run_twice_at_once_sends_once(app, smtp_sink):
    from jobs.notifications import deliver

    notification_id = queue("invitation").id
    # The job delivered twice, to two workers that run it at the same moment, each with its own session.
    assert sorted(race(app, [lambda: deliver(notification_id)] * 2), key=str) == [None, "sent"]
    assert len(smtp_sink.messages) == 1
    assert db.session.get(Notification, notification_id).attempts == 1


def test_a_refused_address_stops_with_the_provider_reason_and_staff_can_resend(
    app, smtp_sink, run_worker, login_as
):
    counsel = create_counsel(email="nobody@invalid.example")
    notification = queue("invitation", counsel=counsel)
    run_worker()
    failed = refreshed(notification)
    assert failed.status is NotificationStatus.FAILED and failed.last_error.startswith("SMTP 550")
    assert smtp_sink.messages == []

    counsel.email = "found@law.example"
    db.session.commit()
    clerk = login_as("clerk", "western")
    page = clerk.get(f"/admin/notification/details/?id={notification.id}").get_data(as_text=True)
    assert "SMTP 550" in page
    response = clerk.post(
        "/admin/notification/resend/", data={"id": notification.id, "csrf_token": csrf_token_from(page)}
    )
    assert response.status_code == 302
    resent = refreshed(notification)
    assert resent.status is NotificationStatus.QUEUED
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "notification.resent"))
    assert event.actor_id == clerk.user.id


def test_notify_refusing_an_address_is_permanent(app, notify_emulator, run_worker):
    app.config["EMAIL_PROVIDER"] = "notify"
    notification = queue("invitation", counsel=create_counsel(email="not-an-address@"))
    run_worker()
    failed = refreshed(notification)
    assert failed.status is NotificationStatus.FAILED
    assert "400" in failed.last_error and "Not a valid email address" in failed.last_error


def test_a_message_committed_while_redis_is_down_is_sent_by_the_sweep(app, smtp_sink, run_worker):
    from datetime import timedelta

    from redis import Redis

    working = app.extensions["redis"]
    app.extensions["redis"] = Redis.from_url("redis://127.0.0.1:1/0")
    try:
        notification = queue("invitation")
    finally:
        app.extensions["redis"] = working
    notification.created_at = notification.created_at - timedelta(minutes=3)
    db.session.commit()
    run_worker()
    assert refreshed(notification).status is NotificationStatus.SENT
    assert len(smtp_sink.messages) == 1


def test_a_worker_dying_while_sending_leaves_smtp_messages_uncertain_and_finds_notify_ones(
    app, notify_emulator, run_worker
):
    from datetime import timedelta

    from backoffice.models.types import utcnow

    smtp_one = queue("invitation")
    app.config["EMAIL_PROVIDER"] = "notify"
    notify_one = queue("invitation")
    # GC Notify took the second message, then the worker died before recording it.
    from backoffice.integrations import notify
    from backoffice.integrations.delivery import OutgoingEmail

    notify.send_email(app.config, OutgoingEmail(notify_one.recipient, "s", "t", "h", notify_one.reference))
    for notification in (smtp_one, notify_one):
        notification.status = NotificationStatus.SENDING
        notification.claimed_until = utcnow() - timedelta(seconds=1)
    smtp_one.provider = "smtp"
    db.session.commit()
    from backoffice.workflows.upkeep import sweep_once

    sweep_once()
    assert refreshed(smtp_one).status is NotificationStatus.UNCERTAIN
    assert refreshed(notify_one).status is NotificationStatus.SENT
    assert len(notify_emulator.sent()) == 1


def test_letters_are_printed_then_marked_sent_by_a_clerk(app, login_as):
    counsel = create_counsel(postal_address="100 Queen St W\nToronto ON  M5H 2N2", preferred_language=None)
    notification = queue(
        "invitation_code", counsel=counsel, channel=Channel.MAIL, values={"invitation_code": "K7QM-3XPR-9TWD"}
    )
    assert notification.status is NotificationStatus.TO_PRINT
    clerk = login_as("clerk", "western")
    letter = clerk.get(f"/admin/notification/letter/?id={notification.id}")
    assert letter.status_code == 200 and letter.data.startswith(b"%PDF-")
    page = clerk.get(f"/admin/notification/details/?id={notification.id}").get_data(as_text=True)
    clerk.post(
        "/admin/notification/mark-sent/", data={"id": notification.id, "csrf_token": csrf_token_from(page)}
    )
    sent = refreshed(notification)
    assert sent.status is NotificationStatus.LETTER_SENT and sent.sent_by_id == clerk.user.id
    assert sent.values["invitation_code"] == MASK
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "notification.letter_sent")) == 1


def test_a_central_clerk_cannot_open_a_western_message(app, login_as):
    notification = queue("invitation")
    assert (
        login_as("clerk", "central").get(f"/admin/notification/details/?id={notification.id}").status_code
        == 404
    )
    assert (
        login_as("clerk", "western").get(f"/admin/notification/details/?id={notification.id}").status_code
        == 200
    )


def test_case_and_counsel_pages_link_to_their_messages(app, login_as):
    import html
    import re

    notification = queue("invitation")
    make_counsel_of_record(notification.case, notification.counsel)
    queue("invitation")  # another counsel's message, not to be listed
    clerk = login_as("clerk", "western")
    for page in (
        f"/admin/case/details/?id={notification.case_id}",
        f"/admin/counsel/details/?id={notification.counsel_id}",
    ):
        link = re.search(
            r'href="([^"]+)" data-testid="messages-link"', clerk.get(page).get_data(as_text=True)
        )
        listing = clerk.get(html.unescape(link.group(1))).get_data(as_text=True)
        assert "List (1)" in listing, page


def test_a_wrong_notify_key_is_refused_by_the_jwt_check_and_retried_once_fixed(
    app, notify_emulator, run_worker, monkeypatch
):
    app.config["EMAIL_PROVIDER"] = "notify"
    right_key = app.config["NOTIFY_API_KEY"]
    app.config["NOTIFY_API_KEY"] = right_key[:-36] + "00000000-0000-4000-8000-000000000000"
    notification = queue("invitation")
    run_worker()
    waiting = refreshed(notification)
    assert waiting.status is NotificationStatus.RETRYING
    assert "403" in waiting.last_error and "Invalid token" in waiting.last_error
    assert notify_emulator.sent() == []
    app.config["NOTIFY_API_KEY"] = right_key
    time_passes(monkeypatch, app, 2.2, outbox)
    run_worker()
    assert refreshed(notification).status is NotificationStatus.SENT


@pytest.mark.parametrize(
    ("values", "error"),
    [({}, "UndefinedError"), ({**TEMPLATES["submission_receipt"].sample, "attachments": 3}, "TypeError")],
)
def test_a_message_that_cannot_be_rendered_fails_plainly_and_stays_readable(
    app, smtp_sink, run_worker, login_as, values, error
):
    notification = queue("submission_receipt")
    notification.values = values  # as if a template now asks for something this message lacks
    db.session.commit()
    run_worker()
    failed = refreshed(notification)
    assert failed.status is NotificationStatus.FAILED and failed.last_error == f"Template error: {error}"
    assert smtp_sink.messages == []
    page = login_as("clerk", "western").get(f"/admin/notification/details/?id={notification.id}")
    assert page.status_code == 200 and "cannot be rendered" in page.get_data(as_text=True)


def test_a_resent_message_gets_a_fresh_series_of_attempts(app, smtp_sink, run_worker, monkeypatch):
    from backoffice.workflows.notifications import resend
    from tests.factories import create_staff

    app.config["DELIVERY_MAX_ATTEMPTS"] = 1
    smtp_sink.stop()
    notification = queue("invitation")
    run_worker()
    assert refreshed(notification).status is NotificationStatus.FAILED
    app.config["DELIVERY_MAX_ATTEMPTS"] = 3
    resend(refreshed(notification), create_staff("clerk"))
    db.session.commit()
    run_worker()
    again = refreshed(notification)
    assert again.status is NotificationStatus.RETRYING and again.attempts == 1
    smtp_sink.start()
    time_passes(monkeypatch, app, 2.2, outbox)
    run_worker()
    assert refreshed(notification).status is NotificationStatus.SENT and len(smtp_sink.messages) == 1


def test_the_sweep_survives_gc_notify_being_down_and_the_worker_still_starts(app, run_worker):
    from datetime import timedelta

    from backoffice.models.types import utcnow

    app.config["EMAIL_PROVIDER"] = "notify"  # and no emulator listens: GC Notify is down
    notification = queue("invitation")
    notification.status = NotificationStatus.SENDING
    notification.claimed_until = utcnow() - timedelta(seconds=1)
    db.session.commit()
    run_worker()  # asserts that the worker exits normally
    assert refreshed(notification).status is NotificationStatus.SENDING


class _ServerThatFailsQuit(socketserver.StreamRequestHandler):
    """Accepts every message, then answers QUIT with 421, as a busy relay may."""

    accepted: list[bytes] = []

    def handle(self):
        def reply(text: str) -> None:
            self.wfile.write(text.encode() + b"\r\n")
            self.wfile.flush()

        reply("220 relay ESMTP")
        while line := self.rfile.readline():
            command = line.decode().strip().upper()
            if command == "DATA":
                reply("354 go ahead")
                body = b"".join(iter(lambda: self.rfile.readline(), b".\r\n"))
                self.accepted.append(body)
                reply("250 2.0.0 queued")
            elif command == "QUIT":
                reply("421 4.4.2 closing")
                return
            else:
                reply("250 OK")


def test_a_failing_quit_after_the_server_took_the_message_still_counts_as_sent(app):
    from backoffice.workflows.notifications import deliver

    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _ServerThatFailsQuit)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    app.config["SMTP_PORT"] = server.server_address[1]
    try:
        notification = queue("invitation")
        assert deliver(notification.id) is NotificationStatus.SENT
        assert deliver(notification.id) is None
    finally:
        server.shutdown()
    assert len(_ServerThatFailsQuit.accepted) == 1


def test_the_invitation_goes_through_gc_notify_with_the_registration_form_attached(
    app, notify_emulator, run_worker
):
    import base64

    app.config["EMAIL_PROVIDER"] = "notify"
    counsel = create_counsel(preferred_language=Language.FRENCH)
    queue("invitation", counsel=counsel)
    run_worker()
    [sent] = notify_emulator.sent("email")
    attachment = sent["personalisation"]["attachment"]
    assert attachment["sending_method"] == "attach" and attachment["filename"].endswith(".pdf")
    assert base64.b64decode(attachment["file"]).startswith(b"%PDF-")


def test_a_code_that_could_not_be_sent_is_erased_and_not_sent_again(app, run_worker):
    from backoffice.workflows.notifications import resend
    from backoffice.workflows.refusals import Refused
    from tests.factories import create_staff

    app.config["DELIVERY_MAX_ATTEMPTS"] = 1  # nothing listens on the SMTP port: the only attempt fails
    notification = queue("invitation_code", values={"invitation_code": "K7QM-3XPR-9TWD"})
    run_worker()
    failed = refreshed(notification)
    assert failed.status is NotificationStatus.FAILED and failed.values["invitation_code"] == MASK
    with pytest.raises(Refused):
        resend(failed, create_staff("clerk"))
