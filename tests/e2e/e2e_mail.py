"""A real SMTP server (aiosmtpd) for the end-to-end tests, on a port that survives stop/start."""

from __future__ import annotations

import email
import email.policy
import threading
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, Envelope, Session

from pasar_testkit.ports import free_port


class MailCatcher:
    """Accepts every e-mail and keeps it, parsed; stop() is an SMTP outage."""

    def __init__(self) -> None:
        self.port = free_port()
        self.messages: list[EmailMessage] = []
        self.lock = threading.Lock()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        message = email.message_from_bytes(envelope.original_content or b"", policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.messages.append(message)
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def received(self, order_id: str | None = None, kind: str | None = None) -> list[EmailMessage]:
        with self.lock:
            return [
                message
                for message in self.messages
                if (order_id is None or message["X-Pasar-Order-Id"] == order_id)
                and (kind is None or message["X-Pasar-Email-Kind"] == kind)
            ]
