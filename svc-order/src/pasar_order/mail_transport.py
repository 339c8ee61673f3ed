"""Where e-mails go: an SMTP server (``SMTP_URL``), or ``.eml`` files in a folder.

The folder is the embedded mode's mailbox: each e-mail becomes one file, written under a
temporary name and renamed into place, so that a reader never sees half a message. The
file is named after the outbox row, so an e-mail sent twice (a crash between writing it
and marking it sent) replaces its own file instead of making a second one.
"""

from __future__ import annotations

import logging
import os
import smtplib
import ssl
import tempfile
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import Protocol

from pasar_kit.config import ConfigError
from pasar_order.config import MailSettings, SmtpTarget
from pasar_order.emails import SMTP_LINESEP, ComposedEmail
from pasar_order.tracing import client_span

log = logging.getLogger(__name__)

# Sends one e-mail: its outbox row's id and kind (for file names and logs), and the message.
Send = Callable[[int, str, ComposedEmail], None]


class MailServerUnavailable(Exception):
    """The mail server cannot be reached or dropped the connection: every e-mail waits."""


class RecipientRefused(Exception):
    """The mail server refuses this e-mail's recipient for good (a 5xx answer)."""


class MailTransport(Protocol):
    """Opens a session that sends e-mails until it is closed."""

    def session(self) -> AbstractContextManager[Send]: ...


class MailFolder:
    """Writes each e-mail as an ``.eml`` file into a folder."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def check_writable(self) -> None:
        """Creates the folder and writes a file into it; ConfigError naming PASAR_MAIL_DIR if not."""
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            with tempfile.TemporaryFile(dir=self.directory, prefix=".write-check-"):
                pass
        except OSError as error:
            reason = error.strerror or repr(error)
            message = f"PASAR_MAIL_DIR {str(self.directory)!r} cannot be used for e-mails: {reason}"
            raise ConfigError(message) from None

    def path_for(self, email_id: int, kind: str) -> Path:
        return self.directory / f"email-{email_id:08d}-{kind}.eml"

    @contextmanager
    def session(self) -> Iterator[Send]:
        yield self.write

    def write(self, email_id: int, kind: str, message: ComposedEmail) -> None:
        self.directory.mkdir(parents=True, exist_ok=True)
        final = self.path_for(email_id, kind)
        descriptor, temporary = tempfile.mkstemp(dir=self.directory, prefix=".", suffix=".eml.tmp")
        try:
            with os.fdopen(descriptor, "wb") as file:
                file.write(message.as_bytes())
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, final)
        except BaseException:
            Path(temporary).unlink(missing_ok=True)
            raise
        log.info("e-mail written", extra={"email_id": email_id, "path": str(final)})


class SmtpRelay:
    """Sends e-mails through an SMTP server, one connection per batch.

    ``smtps://`` speaks TLS from the start; ``smtp://`` switches to TLS with STARTTLS
    whenever the server offers it, and the certificate is verified either way. A login is
    sent only over TLS, unless ``allow_plaintext_login`` says otherwise: against a server
    without STARTTLS the connection is given up, and the e-mails stay queued for a retry.
    A server without STARTTLS and an URL without a user (a local relay) is plain SMTP.
    """

    def __init__(
        self,
        target: SmtpTarget,
        timeout: float,
        tls_context: ssl.SSLContext,
        allow_plaintext_login: bool = False,
    ) -> None:
        self.target = target
        self.timeout = timeout
        self.tls_context = tls_context
        self.allow_plaintext_login = allow_plaintext_login
        # The "smtp send" span's (OpenTelemetry's network conventions).
        self._span_attributes: dict[str, str | int] = {
            "server.address": target.host,
            "server.port": target.port,
            "network.protocol.name": "smtp",
        }

    def _connect(self) -> smtplib.SMTP:
        target = self.target
        where = f"{target.host}:{target.port}"
        connection: smtplib.SMTP | None = None
        try:
            if target.use_tls:
                connection = smtplib.SMTP_SSL(
                    target.host, target.port, timeout=self.timeout, context=self.tls_context
                )
                encrypted = True
            else:
                connection = smtplib.SMTP(target.host, target.port, timeout=self.timeout)
                connection.ehlo_or_helo_if_needed()
                encrypted = connection.has_extn("starttls")
                if encrypted:
                    connection.starttls(context=self.tls_context)
                    connection.ehlo()
            if target.username:
                if not encrypted and not self.allow_plaintext_login:
                    log.error(
                        "SMTP login refused: the mail server offers no STARTTLS and the password "
                        "would cross the network in clear text; e-mails stay queued (use smtps://, "
                        "enable STARTTLS on the server, or set PASAR_SMTP_ALLOW_PLAINTEXT_LOGIN=true)",
                        extra={"smtp_server": where},
                    )
                    raise MailServerUnavailable(f"{where} offers no STARTTLS: login in clear text refused")
                connection.login(target.username, target.password or "")
        except MailServerUnavailable:
            _close(connection)
            raise
        except smtplib.SMTPAuthenticationError as error:
            _close(connection)
            refusal = f"{where} refused the login: {error.smtp_code} {error.smtp_error!r}"
            raise MailServerUnavailable(refusal) from error
        except ssl.SSLError as error:
            _close(connection)
            raise MailServerUnavailable(f"TLS with {where} failed: {error!r}") from error
        except (OSError, smtplib.SMTPException) as error:
            _close(connection)
            raise MailServerUnavailable(f"cannot reach {where}: {error!r}") from error
        return connection

    @contextmanager
    def session(self) -> Iterator[Send]:
        connection: smtplib.SMTP | None = None

        def send(email_id: int, kind: str, message: ComposedEmail) -> None:
            nonlocal connection
            with client_span("smtp send", self._span_attributes):
                if connection is None:
                    connection = self._connect()
                try:
                    send_with(connection, message)
                except smtplib.SMTPRecipientsRefused as error:
                    codes = [code for code, _ in error.recipients.values()]
                    if codes and all(code >= 500 for code in codes):
                        raise RecipientRefused(f"recipients refused: {error.recipients!r}") from error
                    raise
                except (OSError, smtplib.SMTPServerDisconnected) as error:
                    connection = None
                    raise MailServerUnavailable(
                        f"the connection to the mail server broke: {error!r}"
                    ) from error
            log.info("e-mail sent", extra={"email_id": email_id, "kind": kind})

        try:
            yield send
        finally:
            if connection is not None:
                try:
                    connection.quit()
                except (OSError, smtplib.SMTPException):
                    connection.close()


def send_with(connection: smtplib.SMTP, message: ComposedEmail) -> None:
    """What smtplib's send_message does with the standard library's message: the envelope
    from its From and To, and its bytes with CRLF line ends, written without making it;
    an address that is not ASCII (SMTPUTF8) goes through send_message itself."""
    sender, recipients = message.envelope()
    if "".join([sender, *recipients]).isascii():
        connection.sendmail(sender, recipients, message.as_bytes(SMTP_LINESEP))
    else:
        connection.send_message(message.message())


def _close(connection: smtplib.SMTP | None) -> None:
    if connection is not None:
        connection.close()


def transport_for(settings: MailSettings) -> MailTransport:
    """SMTP when SMTP_URL is set, otherwise the mail folder, checked usable now.

    Raises ConfigError (naming the variable) for a CA file that cannot be read or a mail
    folder that cannot be created or written, so that the service does not start.
    """
    if settings.smtp is not None:
        return SmtpRelay(
            settings.smtp,
            settings.smtp_timeout_seconds,
            settings.tls_context(),
            allow_plaintext_login=settings.smtp_allow_plaintext_login,
        )
    folder = MailFolder(settings.mail_dir)
    folder.check_writable()
    return folder
