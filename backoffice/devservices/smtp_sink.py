"""A local SMTP sink (aiosmtpd) on 127.0.0.1: keeps every message it accepts, refuses addresses
at the domain `invalid.example` with 550 (to show a permanent failure), and can be stopped and
started again on the same port (to show a provider that is down). Port 0 takes any free port; `port`
then says which."""

import threading
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller

REFUSED_DOMAIN = "invalid.example"


class SinkHandler:
    def __init__(self, save_to: Path | None = None) -> None:
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()
        self.save_to = save_to

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):  # noqa: N802 (aiosmtpd's name)
        if address.lower().endswith("@" + REFUSED_DOMAIN):
            return "550 5.1.1 Recipient address rejected: no such mailbox"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):  # noqa: N802
        message = message_from_bytes(envelope.content, policy=policy.default)
        with self.lock:
            self.messages.append(message)
        if self.save_to is not None:
            self.save_to.mkdir(parents=True, exist_ok=True)
            name = (message["Message-ID"] or "message").strip("<>").replace("/", "_")
            (self.save_to / f"{name}.eml").write_bytes(envelope.content)
        return "250 Message accepted for delivery"


class _Controller(Controller):
    """aiosmtpd's controller, which also listens when asked for port 0: it learns the port it was given before
    it makes its first connection to itself."""

    def _trigger_server(self) -> None:
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class SmtpSink:
    def __init__(self, port: int = 0, save_to: Path | None = None) -> None:
        self.port = port
        self.handler = SinkHandler(save_to)
        self.controller: Controller | None = None

    def start(self) -> "SmtpSink":
        """Listen; on the port it had before when started again, so that senders find it where it was."""
        self.controller = _Controller(self.handler, hostname="127.0.0.1", port=self.port)
        self.controller.start()
        self.port = self.controller.port
        return self

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        with self.handler.lock:
            return list(self.handler.messages)
