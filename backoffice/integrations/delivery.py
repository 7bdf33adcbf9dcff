"""What every message provider adapter takes, and how every provider adapter reports a failure."""

from dataclasses import dataclass


@dataclass(frozen=True)
class OutgoingEmail:
    to: str
    subject: str
    text: str
    html: str
    reference: str
    attachments: tuple[tuple[str, bytes], ...] = ()  # (file name, PDF bytes)


@dataclass(frozen=True)
class OutgoingSms:
    to: str
    text: str
    reference: str


class ProviderFailure(Exception):
    """An outside provider (GC Notify, an SMTP server, Webex) refused or could not be reached.

    `reason` is safe to log and show staff: it never quotes what the provider was sent or echoed back (a
    message's text, an invitee's address). `temporary` says whether trying again later may help, after
    `retry_after` seconds when the provider said so; `status` is the HTTP status it answered, if it answered.
    """

    temporary = True

    def __init__(self, reason: str, retry_after: float | None = None, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after
        self.status = status


class DeliveryFailure(ProviderFailure):
    """A message provider (GC Notify, an SMTP server) refused or could not be reached."""


class TemporaryFailure(DeliveryFailure):
    """Worth trying again later: connection refused, timeout, 5xx, 429."""


class PermanentFailure(DeliveryFailure):
    """Trying again will not help: invalid address, 400, refused recipient."""

    temporary = False
