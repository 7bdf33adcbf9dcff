"""Email and SMS through GC Notify, with its Python client (it speaks the GOV.UK Notify API).

Our texts are rendered here, from the repository's templates; GC Notify is given one generic email
template ((subject)) / ((body)) and one SMS template ((body)), named by configuration.
"""

import base64
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from notifications_python_client.errors import APIError
from notifications_python_client.notifications import NotificationsAPIClient

from backoffice.integrations.delivery import (
    DeliveryFailure,
    OutgoingEmail,
    OutgoingSms,
    PermanentFailure,
    TemporaryFailure,
)
from backoffice.observability.metrics import errors_counted


def _client(settings: dict) -> NotificationsAPIClient:
    return NotificationsAPIClient(
        settings["NOTIFY_API_KEY"], base_url=settings["NOTIFY_BASE_URL"], timeout=15
    )


@errors_counted("notify", DeliveryFailure)
def find_by_reference(settings: dict, reference: str) -> str | None:
    """The id GC Notify gave a message sent with this reference, if it already has one."""
    with _failures_translated():
        found = _client(settings).get_all_notifications(reference=reference)
    notifications = found.get("notifications", [])
    return notifications[0]["id"] if notifications else None


@errors_counted("notify", DeliveryFailure)
def send_email(settings: dict, email: OutgoingEmail) -> str:
    send = NotificationsAPIClient.send_email_notification
    return _send(
        settings,
        send,
        "NOTIFY_EMAIL_TEMPLATE_ID",
        _personalisation(email),
        email.reference,
        email_address=email.to,
    )


def _personalisation(email: OutgoingEmail) -> dict:
    """GC Notify attaches a file given in the personalisation (the template names it ((attachment)))."""
    values: dict = {"subject": email.subject, "body": email.text}
    for filename, content in email.attachments[:1]:
        values["attachment"] = {
            "file": base64.b64encode(content).decode(),
            "filename": filename,
            "sending_method": "attach",
        }
    return values


@errors_counted("notify", DeliveryFailure)
def send_sms(settings: dict, sms: OutgoingSms) -> str:
    send = NotificationsAPIClient.send_sms_notification
    return _send(
        settings, send, "NOTIFY_SMS_TEMPLATE_ID", {"body": sms.text}, sms.reference, phone_number=sms.to
    )


def _send(
    settings: dict,
    send: Callable[..., dict],
    template_setting: str,
    personalisation: dict,
    reference: str,
    **recipient: str,
) -> str:
    """One message through the client's `send` method, with the generic template that `template_setting` names;
    the id GC Notify gave it."""
    with _failures_translated():
        sent = send(
            _client(settings),
            **recipient,
            template_id=settings[template_setting],
            personalisation=personalisation,
            reference=reference,
        )
    return sent["id"]


@contextmanager
def _failures_translated() -> Iterator[None]:
    """The client's APIError raised as our DeliveryFailure, without the client's traceback."""
    try:
        yield
    except APIError as error:
        raise _failure(error) from None


def _failure(error: APIError) -> Exception:
    status = error.status_code
    reason = f"GC Notify {status}: {_message(error)}"[:300]
    # 401/403 is our key or clock: a configuration problem to fix, after which messages must go out.
    if status in (401, 403, 429) or status >= 500:
        retry_after = None
        if error.response is not None and error.response.headers.get("Retry-After", "").isdigit():
            retry_after = float(error.response.headers["Retry-After"])
        return TemporaryFailure(reason, retry_after=retry_after)
    return PermanentFailure(reason)


def _message(error: APIError) -> str:
    message = error.message
    if isinstance(message, list):
        return "; ".join(str(item.get("message", item)) for item in message)
    return str(message)
