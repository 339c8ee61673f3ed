"""A real SMTP server for tests (aiosmtpd), on a loopback port that survives stop/start."""

from __future__ import annotations

import asyncio
import email
import email.policy
import ssl
import threading
from email.message import EmailMessage

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session
from certificates import ServerCertificates

from pasar_testkit.ports import free_port


class MailCatcher:
    """Accepts every e-mail (optionally only after AUTH) and keeps it, parsed.

    tls: offer STARTTLS with this certificate; AUTH is then offered only after STARTTLS.
    stall_first_message: never answer the first DATA (a mail server that hangs), and keep
    nothing of it; ``stalled`` is set once a client waits there.
    """

    def __init__(
        self,
        credentials: tuple[str, str] | None = None,
        *,
        tls: ServerCertificates | None = None,
        stall_first_message: bool = False,
    ) -> None:
        self.port = free_port()
        self.credentials = credentials
        self.tls = tls
        self.messages: list[EmailMessage] = []
        self.messages_over_tls: list[bool] = []
        self.logins: list[tuple[str, bool]] = []  # every AUTH attempt: the user, and whether over TLS
        self.stall_first_message = stall_first_message
        self.stalled = threading.Event()
        self.lock = threading.Lock()
        self.controller: Controller | None = None

    @property
    def url(self) -> str:
        user = f"{self.credentials[0]}:{self.credentials[1]}@" if self.credentials else ""
        return f"smtp://{user}127.0.0.1:{self.port}"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.stall_first_message and not self.stalled.is_set():
            self.stalled.set()
            await asyncio.sleep(3600)  # cancelled when the catcher stops
        content = envelope.original_content or b""
        message = email.message_from_bytes(content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self.lock:
            self.messages.append(message)
            self.messages_over_tls.append(session.ssl is not None)
        return "250 Message accepted for delivery"

    def _authenticate(
        self, server: SMTP, session: Session, envelope: Envelope, mechanism: str, auth_data: object
    ) -> AuthResult:
        if isinstance(auth_data, LoginPassword):
            with self.lock:
                self.logins.append((auth_data.login.decode(), session.ssl is not None))
        accepted = (
            isinstance(auth_data, LoginPassword)
            and self.credentials is not None
            and (auth_data.login.decode(), auth_data.password.decode()) == self.credentials
        )
        return AuthResult(success=accepted, handled=False)

    def start(self) -> None:
        options: dict[str, object] = {}
        if self.credentials:
            # Without TLS the test server takes AUTH in clear text: whether the client sends
            # it is what the tests look at. With TLS it takes AUTH only after STARTTLS.
            options = {
                "authenticator": self._authenticate,
                "auth_required": True,
                "auth_require_tls": self.tls is not None,
            }
        if self.tls is not None:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.tls.cert_file, self.tls.key_file)
            options["tls_context"] = context
        self.controller = Controller(self, hostname="127.0.0.1", port=self.port, **options)  # type: ignore[arg-type]
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def received(self, kind: str | None = None) -> list[EmailMessage]:
        with self.lock:
            return [m for m in self.messages if kind is None or m["X-Pasar-Email-Kind"] == kind]
