"""Email through SMTP with the standard library."""

import smtplib
from email.message import EmailMessage
from email.utils import formatdate

from backoffice.integrations.delivery import OutgoingEmail, PermanentFailure, TemporaryFailure


def send_email(settings: dict, email: OutgoingEmail) -> str:
    """Send one email; returns its Message-ID, which carries the message's own reference."""
    message = EmailMessage()
    message["From"] = settings["MAIL_FROM"]
    message["To"] = email.to
    message["Subject"] = email.subject
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = f"<{email.reference}@{settings['MAIL_FROM'].rpartition('@')[2].rstrip('>')}>"
    message.set_content(email.text)
    message.add_alternative(email.html, subtype="html")
    try:
        with smtplib.SMTP(settings["SMTP_HOST"], int(settings["SMTP_PORT"]), timeout=15) as smtp:
            if settings.get("SMTP_STARTTLS"):
                smtp.starttls()
            if settings.get("SMTP_USER"):
                smtp.login(settings["SMTP_USER"], settings["SMTP_PASSWORD"])
            smtp.send_message(message)
    except smtplib.SMTPRecipientsRefused as error:
        code, reply = next(iter(error.recipients.values()))
        raise _failure(code, reply) from None
    except smtplib.SMTPResponseException as error:
        raise _failure(error.smtp_code, error.smtp_error) from None
    except (OSError, smtplib.SMTPException) as error:
        raise TemporaryFailure(f"SMTP server unreachable ({type(error).__name__})") from None
    return message["Message-ID"]


def _failure(code: int, reply: bytes | str) -> Exception:
    text = reply.decode(errors="replace") if isinstance(reply, bytes) else str(reply)
    reason = f"SMTP {code}: {text[:200]}"
    return PermanentFailure(reason) if code >= 500 else TemporaryFailure(reason)
