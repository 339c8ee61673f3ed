"""The e-mails the order service sends, as tests read them.

- :class:`MailCatcher`: a real SMTP server (aiosmtpd) on a loopback port that survives
  stop/start (``stop()`` is an SMTP outage); it keeps every e-mail, parsed. It can ask
  for AUTH, offer STARTTLS, or hang on the first message, for the tests of SMTP itself.
- :func:`mails_in`: the e-mails written as .eml files to ``PASAR_MAIL_DIR`` (the order
  service's mail folder when no ``SMTP_URL`` is set).
"""

from __future__ import annotations

import asyncio
import email
import email.policy
import ssl
import threading
from email.message import EmailMessage
from pathlib import Path

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP, AuthResult, Envelope, LoginPassword, Session

from pasar_testkit.certificates import ServerCertificates
from pasar_testkit.ports import free_port

ORDER_ID_HEADER = "X-Pasar-Order-Id"
KIND_HEADER = "X-Pasar-Email-Kind"


def parse_mail(content: bytes) -> EmailMessage:
    message = email.message_from_bytes(content, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def is_mail_of(message: EmailMessage, kind: str | None = None, order_id: str | None = None) -> bool:
    """Whether message is of that kind ("order_created", ...) and that order (None: any)."""
    return (kind is None or message[KIND_HEADER] == kind) and (
        order_id is None or message[ORDER_ID_HEADER] == order_id
    )


def mail_files(folder: Path) -> list[Path]:
    """The .eml files in a mail folder, oldest first (the names are numbered)."""
    return sorted(folder.glob("*.eml")) if folder.exists() else []


def mails_in(folder: Path, kind: str | None = None, order_id: str | None = None) -> list[EmailMessage]:
    """The e-mails written to a mail folder, oldest first, of that kind and order (None: any)."""
    messages = (parse_mail(path.read_bytes()) for path in mail_files(folder))
    return [message for message in messages if is_mail_of(message, kind, order_id)]


def body_text(message: EmailMessage) -> tuple[str, str]:
    """The plain-text and HTML parts of an e-mail."""
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None, "the e-mail has no text part"
    assert html is not None, "the e-mail has no HTML part"
    return str(text.get_content()), str(html.get_content())


class MailCatcher:
    """Accepts every e-mail (optionally only after AUTH) and keeps it, parsed.

    credentials: (user, password) that AUTH must give; without, no AUTH is asked for.
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
        """The SMTP_URL that reaches this server (with the credentials, if any)."""
        user = f"{self.credentials[0]}:{self.credentials[1]}@" if self.credentials else ""
        return f"smtp://{user}127.0.0.1:{self.port}"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        if self.stall_first_message and not self.stalled.is_set():
            self.stalled.set()
            await asyncio.sleep(3600)  # cancelled when the catcher stops
        message = parse_mail(envelope.original_content or b"")
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

    def received(self, kind: str | None = None, order_id: str | None = None) -> list[EmailMessage]:
        """The e-mails received so far, oldest first, of that kind and order (None: any)."""
        with self.lock:
            return [message for message in self.messages if is_mail_of(message, kind, order_id)]
