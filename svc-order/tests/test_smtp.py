"""SMTP security: STARTTLS whenever the server offers it, a verified certificate, and a
login never sent in clear text unless PASAR_SMTP_ALLOW_PLAINTEXT_LOGIN says so."""

from __future__ import annotations

import logging

import pytest
from conftest import RunningService, StartService, create_request

from pasar_order.models import Email, OutboxState
from pasar_testkit.assertions import eventually
from pasar_testkit.certificates import ServerCertificates
from pasar_testkit.mail import MailCatcher

# aiosmtpd warns that a test server takes AUTH without TLS; that is what these tests want.
pytestmark = pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS:UserWarning")

CREDENTIALS = ("pasar", "s3cret")


def queued_email(service: RunningService) -> Email:
    with service.database.connection_context():
        email: Email = Email.get()
        return email


@pytest.mark.parametrize("credentials", [CREDENTIALS, None], ids=["login", "no-login"])
def test_starttls_is_used_when_the_server_offers_it(
    start_service: StartService,
    server_certificates: ServerCertificates,
    credentials: tuple[str, str] | None,
) -> None:
    catcher = MailCatcher(credentials, tls=server_certificates)
    catcher.start()
    try:
        service = start_service(SMTP_URL=catcher.url, PASAR_SMTP_CA_FILE=str(server_certificates.ca_file))
        service.stub.CreateOrder(create_request())
        eventually(lambda: len(catcher.received()) == 1)
        assert catcher.messages_over_tls == [True]
        assert catcher.logins == ([("pasar", True)] if credentials else [])
    finally:
        catcher.stop()


def test_the_certificate_is_verified_against_the_system_trust_store_by_default(
    start_service: StartService, server_certificates: ServerCertificates
) -> None:
    catcher = MailCatcher(CREDENTIALS, tls=server_certificates)
    catcher.start()
    try:
        service = start_service(SMTP_URL=catcher.url)  # no PASAR_SMTP_CA_FILE: the test CA is unknown
        service.stub.CreateOrder(create_request())
        eventually(lambda: "CERTIFICATE_VERIFY_FAILED" in (queued_email(service).last_error or ""))
        assert queued_email(service).state == OutboxState.QUEUED
        assert catcher.received() == []
        assert catcher.logins == []
    finally:
        catcher.stop()


def test_a_login_is_not_sent_in_clear_text_and_the_email_waits_until_it_may_be(
    start_service: StartService, caplog: pytest.LogCaptureFixture
) -> None:
    catcher = MailCatcher(CREDENTIALS)  # no STARTTLS; takes AUTH in clear text
    catcher.start()
    try:
        service = start_service(SMTP_URL=catcher.url)
        service.stub.CreateOrder(create_request())
        eventually(lambda: queued_email(service).attempts >= 2, message="the e-mail is retried")
        row = queued_email(service)
        assert row.state == OutboxState.QUEUED
        assert "offers no STARTTLS" in (row.last_error or "")
        assert catcher.logins == []
        assert catcher.received() == []
        refusals = [
            r for r in caplog.records if r.levelno == logging.ERROR and "SMTP login refused" in r.message
        ]
        assert refusals
        assert all(
            "\n" not in r.getMessage() and "PASAR_SMTP_ALLOW_PLAINTEXT_LOGIN" in r.message for r in refusals
        )

        # Restarted with the explicit setting, the queued e-mail goes out, login in clear text.
        service.stop()
        service = start_service(SMTP_URL=catcher.url, PASAR_SMTP_ALLOW_PLAINTEXT_LOGIN="true")
        eventually(lambda: len(catcher.received()) == 1)
        eventually(lambda: queued_email(service).state == OutboxState.DONE)
        assert catcher.logins == [("pasar", False)]
        assert catcher.messages_over_tls == [False]
    finally:
        catcher.stop()
