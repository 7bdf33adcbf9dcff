"""What every message provider adapter takes and how it reports a failure."""

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


class DeliveryFailure(Exception):
    """A provider refused or could not be reached. `reason` is safe to show staff (no message text)."""

    temporary = True

    def __init__(self, reason: str, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.retry_after = retry_after


class TemporaryFailure(DeliveryFailure):
    """Worth trying again later: connection refused, timeout, 5xx, 429."""


class PermanentFailure(DeliveryFailure):
    """Trying again will not help: invalid address, 400, refused recipient."""

    temporary = False
