"""Email through SMTP with the standard library."""

import smtplib
from email.message import EmailMessage
from email.utils import formatdate

from backoffice.integrations.delivery import (
    DeliveryFailure,
    OutgoingEmail,
    PermanentFailure,
    TemporaryFailure,
)
from backoffice.observability.metrics import errors_counted

# Replies that say "not now" rather than "never": greylisting, busy, and authentication, which is
# a configuration problem to fix, after which the messages must still go out.
TEMPORARY_CODES = {530, 535}


@errors_counted("smtp", DeliveryFailure)
def send_email(settings: dict, email: OutgoingEmail) -> str:
    """Send one email; returns its Message-ID, which carries the message's own reference."""
    message = _message(settings, email)
    smtp = _connect(settings)
    try:
        smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        code, reply = next(iter(error.recipients.values()))
        raise _failure(code, reply) from None
    except smtplib.SMTPResponseException as error:
        raise _failure(error.smtp_code, error.smtp_error) from None
    except (OSError, smtplib.SMTPException) as error:
        raise TemporaryFailure(f"SMTP connection lost while sending ({type(error).__name__})") from None
    finally:
        _close(smtp)
    return message["Message-ID"]


def _message(settings: dict, email: OutgoingEmail) -> EmailMessage:
    message = EmailMessage()
    message["From"] = settings["MAIL_FROM"]
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = f"<{email.reference}@{settings['MAIL_FROM'].rpartition('@')[2].rstrip('>')}>"
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    for filename, content in email.attachments:
        message.add_attachment(content, maintype="application", subtype="pdf", filename=filename)
    return message


def _connect(settings: dict) -> smtplib.SMTP:
    try:
        smtp = smtplib.SMTP(settings["SMTP_HOST"], int(settings["SMTP_PORT"]), timeout=15)
        if settings.get("SMTP_STARTTLS"):
            smtp.starttls()
        if settings.get("SMTP_USER"):
            smtp.login(settings["SMTP_USER"], settings["SMTP_PASSWORD"])
        return smtp
    except smtplib.SMTPResponseException as error:
        raise _failure(error.smtp_code, error.smtp_error) from None
    except (OSError, smtplib.SMTPException) as error:
        raise TemporaryFailure(f"SMTP server unreachable ({type(error).__name__})") from None


def _close(smtp: smtplib.SMTP) -> None:
    """Once the server has taken the message, a failing QUIT changes nothing: it was sent."""
    try:
        smtp.quit()
    except (OSError, smtplib.SMTPException):
        smtp.close()


def _failure(code: int, reply: bytes | str) -> Exception:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    reason = f"SMTP {code}: {text[:200]}"
    return (
        PermanentFailure(reason) if code >= 500 and code not in TEMPORARY_CODES else TemporaryFailure(reason)
    )
