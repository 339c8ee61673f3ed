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
from email.message import EmailMessage
from pathlib import Path
from typing import Protocol

from pasar_order.config import MailSettings, SmtpTarget

log = logging.getLogger(__name__)

# Sends one e-mail: its outbox row's id and kind (for file names and logs), and the message.
Send = Callable[[int, str, EmailMessage], None]


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

    def path_for(self, email_id: int, kind: str) -> Path:
        return self.directory / f"email-{email_id:08d}-{kind}.eml"

    @contextmanager
    def session(self) -> Iterator[Send]:
        yield self.write

    def write(self, email_id: int, kind: str, message: EmailMessage) -> None:
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
    """Sends e-mails through an SMTP server, one connection per batch."""

    def __init__(self, target: SmtpTarget, timeout: float) -> None:
        self.target = target
        self.timeout = timeout

    def _connect(self) -> smtplib.SMTP:
        target = self.target
        try:
            connection: smtplib.SMTP
            if target.use_tls:
                connection = smtplib.SMTP_SSL(
                    target.host, target.port, timeout=self.timeout, context=ssl.create_default_context()
                )
            else:
                connection = smtplib.SMTP(target.host, target.port, timeout=self.timeout)
            if target.username:
                connection.login(target.username, target.password or "")
        except (OSError, smtplib.SMTPException) as error:
            raise MailServerUnavailable(f"cannot reach {target.host}:{target.port}: {error!r}") from error
        return connection

    @contextmanager
    def session(self) -> Iterator[Send]:
        connection: smtplib.SMTP | None = None

        def send(email_id: int, kind: str, message: EmailMessage) -> None:
            nonlocal connection
            if connection is None:
                connection = self._connect()
            try:
                connection.send_message(message)
            except smtplib.SMTPRecipientsRefused as error:
                codes = [code for code, _ in error.recipients.values()]
                if codes and all(code >= 500 for code in codes):
                    raise RecipientRefused(f"recipients refused: {error.recipients!r}") from error
                raise
            except (OSError, smtplib.SMTPServerDisconnected) as error:
                connection = None
                raise MailServerUnavailable(f"the connection to the mail server broke: {error!r}") from error
            log.info("e-mail sent", extra={"email_id": email_id, "kind": kind})

        try:
            yield send
        finally:
            if connection is not None:
                try:
                    connection.quit()
                except (OSError, smtplib.SMTPException):
                    connection.close()


def transport_for(settings: MailSettings) -> MailTransport:
    """SMTP when SMTP_URL is set, otherwise the mail folder."""
    if settings.smtp is not None:
        return SmtpRelay(settings.smtp, settings.smtp_timeout_seconds)
    return MailFolder(settings.mail_dir)
