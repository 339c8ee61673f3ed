"""The order e-mails: their content in both languages, the mail folder, SMTP, and the outbox."""

from __future__ import annotations

import dataclasses
import email
import email.policy
import io
import os
import random
import smtplib
import string
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, timedelta
from email.generator import BytesGenerator
from email.message import EmailMessage
from email.utils import format_datetime
from pathlib import Path

import pytest
from conftest import RunningService, StartService, create_request
from fakes import FakeCatalog, FakeFulfillment, FakePayments
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pasar.order.v1 import order_pb2, order_service_pb2
from pasar_kit.money import format_rupiah
from pasar_kit.timestamps import utc_now
from pasar_order import emails, mail_transport
from pasar_order.emails import ComposedEmail, Composer, local_time
from pasar_order.mail_outbox import MailDispatcher, queue_email
from pasar_order.mail_transport import MailFolder, Send
from pasar_order.models import Email, EmailKind, Order, OrderLine, OutboxState, lines_of
from pasar_order.work_queue import Backoff
from pasar_testkit.assertions import eventually
from pasar_testkit.certificates import ServerCertificates
from pasar_testkit.mail import MailCatcher, mails_in
from pasar_testkit.waiting import wait_for


def eml_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("*.eml")) if folder.exists() else []


def read(path: Path) -> EmailMessage:
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def parts(message: EmailMessage) -> tuple[str, str]:
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None
    assert html is not None
    return str(text.get_content()), str(html.get_content())


def place(service: RunningService, **kwargs: str) -> order_service_pb2.CreateOrderResponse:
    response: order_service_pb2.CreateOrderResponse = service.stub.CreateOrder(
        create_request(("pulsa-10k", 2), ("data-5gb", 1), **kwargs)
    )
    return response


def test_jakarta_time_is_written_as_the_storefront_writes_it() -> None:
    """Date, time and the label WIB, in the language's clock notation: the storefront's
    formatShopDateTime shape (with the month in full)."""
    moment = utc_now().replace(year=2025, month=11, day=27, hour=17, minute=5)
    assert local_time(moment, "id") == "28 November 2025, 00.05 WIB"
    assert local_time(moment, "en") == "28 November 2025, 00:05 WIB"


def shown_deadline(order: order_pb2.Order, language: str) -> str:
    return local_time(order.expire_time.ToDatetime(tzinfo=UTC), language)


def test_the_order_created_email_in_indonesian(service: RunningService) -> None:
    placed = place(service)
    eventually(lambda: len(eml_files(service.mail_dir)) == 1)
    [path] = eml_files(service.mail_dir)
    message = read(path)

    number = placed.order.order_number
    link = f"http://shop.test/orders/{placed.order.id}?token={placed.access_token}"
    assert message["To"] == "budi@example.co.id"
    assert message["From"] == "Pasar <no-reply@pasar.test>"
    assert message["Subject"] == f"Pesanan {number} menunggu pembayaran Rp 80.000"
    assert message["Content-Language"] == "id"
    text, html = parts(message)
    deadline = shown_deadline(placed.order, "id")
    for part in (text, html):
        assert link in part
        assert f"http://shop.test/orders?number={number}" in part  # "Cek pesanan", the number filled in
        assert "8808123456789012" in part  # the virtual account number
        assert "Virtual Account BCA" in part
        assert "Rp 21.000" in part  # 2 x Rp 10.500
        assert "Rp 55.000" in part
        assert "Rp 4.000" in part  # the channel's fee
        assert "Rp 80.000" in part
        assert "Paket pulsa-10k" in part
        assert deadline in part  # the order's expire_time, the one deadline
    assert f"Nomor pesanan: {number}\n" in text
    assert "Metode pembayaran: Virtual Account BCA\n" in text
    assert "Biaya admin: Rp 4.000\n" in text
    assert "Total bayar: Rp 80.000\n" in text
    assert f"Bayar sebelum: {deadline}\n" in text
    assert "CARA MEMBAYAR" in text
    assert "Cara membayar" in html
    assert "Detail transaksi" in html
    assert f'href="{link}"' in html
    assert f'href="http://shop.test/orders?number={number}"' in html


def test_the_emails_in_english_after_payment(service: RunningService, fake_payments: FakePayments) -> None:
    placed = place(service, language="en", channel="gopay")
    fake_payments.pay(placed.payment.id)
    eventually(lambda: len(eml_files(service.mail_dir)) == 2)
    created, received = (read(path) for path in eml_files(service.mail_dir))

    number = placed.order.order_number
    assert created["X-Pasar-Email-Kind"] == "order_created"
    assert created["Subject"].startswith(f"Order {number} is waiting for your payment")
    text, html = parts(created)
    assert "Pay with GoPay: open this link on your phone" in text
    assert "https://sandbox.pasar.test/gopay/checkout" in text
    assert f"Order number: {number}\n" in text
    assert "Payment method: GoPay\n" in text
    assert "Admin fee: " in text
    assert f"Total: {format_rupiah(placed.order.total.amount)}\n" in text
    assert f"Pay before: {shown_deadline(placed.order, 'en')}\n" in text
    assert "Transaction details" in html
    assert "Check order" in html

    assert received["X-Pasar-Email-Kind"] == "payment_received"
    assert received["Subject"] == f"Payment received for order {number}"
    assert received["Content-Language"] == "en"
    text, html = parts(received)
    total = format_rupiah(placed.order.total.amount)
    assert f"We have received your payment of {total}" in text
    link = f"http://shop.test/orders/{placed.order.id}?token={placed.access_token}"
    assert link in text
    assert link in html
    assert created["Message-ID"] != received["Message-ID"]


def test_names_from_the_catalog_are_escaped_in_html(
    service: RunningService, fake_catalog: FakeCatalog
) -> None:
    fake_catalog.add_package("voucher-x", price=20_000, stock=5).display_name = "Voucher <b>Hemat</b> & Co"
    service.stub.CreateOrder(create_request(("voucher-x", 1)))
    eventually(lambda: len(eml_files(service.mail_dir)) == 1)
    text, html = parts(read(eml_files(service.mail_dir)[0]))
    assert "Voucher <b>Hemat</b> & Co" in text
    assert "Voucher &lt;b&gt;Hemat&lt;/b&gt; &amp; Co" in html
    assert "<b>Hemat</b>" not in html


def test_a_resent_email_is_the_same_message_in_the_same_file(service: RunningService) -> None:
    place(service)
    eventually(lambda: len(eml_files(service.mail_dir)) == 1)
    [path] = eml_files(service.mail_dir)
    first = read(path)
    with service.database.connection_context():
        # A crash between writing and marking it sent: the e-mail is due again.
        Email.update(state=OutboxState.QUEUED, next_attempt_time=utc_now()).execute()
    eventually(lambda: _state_of_all(service) == {OutboxState.DONE})

    [again] = eml_files(service.mail_dir)
    assert again == path
    assert read(again)["Message-ID"] == first["Message-ID"]
    assert read(again)["Date"] == first["Date"]
    assert [p.name for p in service.mail_dir.iterdir() if not p.name.endswith(".eml")] == []


def _state_of_all(service: RunningService) -> set[str]:
    with service.database.connection_context():
        return {row.state for row in Email.select()}


def test_emails_go_over_smtp_once_each(start_service: StartService, fake_payments: FakePayments) -> None:
    catcher = MailCatcher()
    catcher.start()
    try:
        service = start_service(SMTP_URL=catcher.url)
        placed = place(service)
        fake_payments.pay(placed.payment.id)
        eventually(lambda: len(catcher.received()) == 2)
        eventually(lambda: _state_of_all(service) == {OutboxState.DONE})
        [created] = catcher.received("order_created")
        [received] = catcher.received("payment_received")
        assert created["To"] == received["To"] == "budi@example.co.id"
        text, _ = parts(created)
        assert f"http://shop.test/orders/{placed.order.id}?token={placed.access_token}" in text
        assert not eml_files(service.mail_dir)
        # A relay without STARTTLS and an URL without a user: plain SMTP, no login.
        assert catcher.messages_over_tls == [False, False]
        assert catcher.logins == []
    finally:
        catcher.stop()


def test_emails_wait_for_an_smtp_server_that_is_down(
    start_service: StartService, fake_payments: FakePayments, server_certificates: ServerCertificates
) -> None:
    catcher = MailCatcher(credentials=("pasar", "s3cret"), tls=server_certificates)
    service = start_service(SMTP_URL=catcher.url, PASAR_SMTP_CA_FILE=str(server_certificates.ca_file))
    placed = place(service)
    fake_payments.pay(placed.payment.id)

    def attempts() -> dict[str, int]:
        with service.database.connection_context():
            return {row.kind: row.attempts for row in Email.select().where(Email.state == OutboxState.QUEUED)}

    eventually(lambda: attempts().get("order_created", 0) >= 2, message="the first e-mail is retried")
    # The second waits behind the first (an order's e-mails keep their order).
    assert attempts()["payment_received"] == 0
    with service.database.connection_context():
        assert "cannot reach" in (Email.get(Email.kind == EmailKind.ORDER_CREATED).last_error or "")

    catcher.start()
    try:
        eventually(lambda: len(catcher.received()) == 2, timeout=15)
        eventually(lambda: _state_of_all(service) == {OutboxState.DONE})
        assert sorted(m["X-Pasar-Email-Kind"] for m in catcher.received()) == [
            "order_created",
            "payment_received",
        ]
    finally:
        catcher.stop()


def test_a_rejected_login_keeps_the_emails_queued(
    start_service: StartService, server_certificates: ServerCertificates
) -> None:
    catcher = MailCatcher(credentials=("pasar", "s3cret"), tls=server_certificates)
    catcher.start()
    try:
        service = start_service(
            SMTP_URL=catcher.url.replace("s3cret", "wrong"),
            PASAR_SMTP_CA_FILE=str(server_certificates.ca_file),
        )
        place(service)

        def last_error() -> str:
            with service.database.connection_context():
                row = Email.get()
                return str(row.last_error or "")

        eventually(lambda: "refused the login" in last_error())
        assert catcher.received() == []
        assert _state_of_all(service) == {OutboxState.QUEUED}
    finally:
        catcher.stop()


def test_dispatchers_of_several_instances_never_send_one_email_twice(
    start_service: StartService, fake_catalog: FakeCatalog, tmp_path: Path
) -> None:
    # The service's own dispatcher sleeps unless rung: the racers below have the rows to themselves.
    service = start_service(PASAR_OUTBOX_POLL_SECONDS="600")
    fake_catalog.add_package("voucher-game", price=15_000, stock=100)
    for _ in range(12):
        service.stub.CreateOrder(create_request(("voucher-game", 1)))
    eventually(lambda: _state_of_all(service) == {OutboxState.DONE})
    with service.database.connection_context():
        now = utc_now()
        for order in Order.select():
            queue_email(order.id, EmailKind.PAYMENT_RECEIVED, now)
        queued = sorted(row.id for row in Email.select().where(Email.state == OutboxState.QUEUED))
    assert len(queued) == 12

    sent: list[int] = []
    lock = threading.Lock()

    class CountingFolder(MailFolder):
        @contextmanager
        def session(self) -> Iterator[Send]:
            def send(email_id: int, kind: str, message: ComposedEmail) -> None:
                with lock:
                    sent.append(email_id)
                self.write(email_id, kind, message)

            yield send

    composer = Composer(
        sender="Pasar <no-reply@pasar.test>", storefront_url="http://shop.test", token_secret="s"
    )
    start = threading.Barrier(4)

    def race() -> None:
        dispatcher = MailDispatcher(composer, CountingFolder(tmp_path / "race"), Backoff(0.01, 0.01))
        start.wait()
        with service.database.connection_context():
            while dispatcher.run_due() or dispatcher.queue.claim_due(0):
                pass

    threads = [threading.Thread(target=race) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(sent) == queued
    assert _state_of_all(service) == {OutboxState.DONE}
    assert len(eml_files(tmp_path / "race")) == 12


# Per language: the greeting, the shop's words every "order created" and "payment received"
# e-mail has, and the words it used before (and the other language's greeting), never again.
WORDS = {
    "id": ("Halo,", ("Nomor pesanan", "Metode pembayaran", "Biaya admin", "Total bayar", "Cek pesanan")),
    "en": ("Hello,", ("Order number", "Payment method", "Admin fee", "Total", "Check order")),
}
RETIRED_WORDS = ("Biaya layanan", "Service fee", "Total pembayaran", "Total to pay", "pukul", "UTC+7")


@pytest.mark.parametrize("language", sorted(WORDS))
def test_every_template_renders_in_the_shops_words(
    service: RunningService, fake_payments: FakePayments, language: str
) -> None:
    greeting, words = WORDS[language]
    other_greeting = next(g for lang, (g, _) in WORDS.items() if lang != language)
    for channel in ("bca_va", "qris", "gopay"):
        placed = place(service, language=language, channel=channel)
        fake_payments.pay(placed.payment.id)
    eventually(lambda: len(eml_files(service.mail_dir)) == 6)
    for path in eml_files(service.mail_dir):
        message = read(path)
        assert message["Content-Language"] == language
        text, html = parts(message)
        assert "http://shop.test/orders/ord_" in text
        assert html.lstrip().startswith("<!DOCTYPE html>")
        assert text.startswith(f"{greeting}\n")
        assert f"<p>{greeting}</p>" in html
        for part in (text, html):
            assert other_greeting not in part
            for word in words:
                assert word in part, (message["Subject"], word)
            for word in RETIRED_WORDS:
                assert word not in part, (message["Subject"], word)
        assert "WIB" in text


def test_the_indonesian_refund_email_is_indonesian_from_its_greeting(
    service: RunningService, fake_payments: FakePayments, fake_fulfillment: FakeFulfillment
) -> None:
    """It greeted "Hello," in Indonesian, and named the fee "Biaya layanan"."""
    placed = service.stub.CreateOrder(create_request(("voucher-game-25k", 1)))
    fake_payments.pay(placed.payment.id)
    eventually(lambda: len(fake_fulfillment.lines_of(placed.order.id)) == 1)
    fake_fulfillment.fail(placed.order.id, "voucher-game-25k")
    [message] = wait_for(lambda: mails_in(service.mail_dir, "refunded", placed.order.id), what="the refund")
    text, html = parts(message)
    assert message["Subject"].endswith(f"untuk pesanan {placed.order.order_number}")
    assert text.startswith("Halo,\n")
    assert "<p>Halo,</p>" in html
    fee = format_rupiah(placed.order.fee.amount)
    assert f"- Biaya admin: {fee}\n" in text  # nothing was delivered: the fee went back too
    for part in (text, html):
        assert "Hello" not in part
        assert "Biaya admin" in part


def test_english_emails_name_the_products_in_english_or_else_in_indonesian(
    service: RunningService, fake_catalog: FakeCatalog
) -> None:
    untranslated = fake_catalog.add_package(
        "voucher-lokal", price=15_000, stock=5, product_id="voucher-lokal"
    )
    untranslated.display_name_en = ""
    untranslated.product_display_name_en = ""
    english = create_request(("pulsa-10k", 1), ("voucher-lokal", 1), language="en")
    indonesian = create_request(("pulsa-10k", 1), language="id")
    english_order = service.stub.CreateOrder(english).order
    indonesian_order = service.stub.CreateOrder(indonesian).order
    eventually(lambda: len(eml_files(service.mail_dir)) == 2)

    [in_english] = mails_in(service.mail_dir, "order_created", english_order.id)
    text, html = parts(in_english)
    assert "- Product pulsa-nusantara – Package pulsa-10k: 1 x Rp 10.500 = Rp 10.500\n" in text
    assert "- Produk voucher-lokal – Paket voucher-lokal: 1 x Rp 15.000 = Rp 15.000\n" in text
    assert "Package pulsa-10k" in html
    assert "Paket pulsa-10k" not in text + html
    [in_indonesian] = mails_in(service.mail_dir, "order_created", indonesian_order.id)
    text, html = parts(in_indonesian)
    assert "- Produk pulsa-nusantara – Paket pulsa-10k: 1 x Rp 10.500 = Rp 10.500\n" in text
    assert "Package" not in text + html


@pytest.mark.parametrize(
    ("language", "instruction"),
    [
        pytest.param(
            "id",
            "Permintaan pembayaran OVO sudah dikirim ke nomor 0812****7890. Buka aplikasi OVO di HP "
            "tersebut dan setujui pembayarannya.",
            id="id",
        ),
        pytest.param(
            "en",
            "The OVO payment request has been sent to 0812****7890. Open the OVO app on that phone and "
            "approve the payment.",
            id="en",
        ),
    ],
)
def test_a_wallet_that_pushes_to_a_phone_says_where_the_request_went(
    service: RunningService, language: str, instruction: str
) -> None:
    request = create_request(channel="ovo", language=language)
    request.payer_phone_number = "081234567890"
    placed = service.stub.CreateOrder(request)
    [message] = wait_for(lambda: mails_in(service.mail_dir, "order_created", placed.order.id))
    text, html = parts(message)
    assert instruction in text
    assert "0812****7890" in html
    for part in (text, html):
        assert "081234567890" not in part  # the whole number is never written out
        assert "sandbox.pasar.test" not in part  # nor a link to a wallet that is not there


def test_an_orders_emails_go_out_in_the_order_they_were_queued(
    start_service: StartService, fake_payments: FakePayments
) -> None:
    catcher = MailCatcher()  # not started: the mail server is down
    service = start_service(SMTP_URL=catcher.url)
    placed = place(service)
    fake_payments.pay(placed.payment.id)

    def queued_kinds() -> list[str]:
        with service.database.connection_context():
            return sorted(row.kind for row in Email.select().where(Email.state == OutboxState.QUEUED))

    eventually(lambda: queued_kinds() == ["order_created", "payment_received"])

    def postpone_order_created() -> bool:
        """Puts "order created" 1.5 s further out than "payment received" (when not in flight)."""
        now = utc_now()
        with service.database.connection_context():
            return bool(
                Email.update(next_attempt_time=now + timedelta(seconds=1.5), attempts=9)
                .where(
                    (Email.kind == EmailKind.ORDER_CREATED)
                    & (Email.lease_until.is_null() | (Email.lease_until < now))
                )
                .execute()
            )

    eventually(postpone_order_created)
    catcher.start()
    try:
        time.sleep(1.0)
        assert catcher.received() == []  # "payment received" is due, but waits for its elder
        eventually(lambda: len(catcher.received()) == 2)
        assert [m["X-Pasar-Email-Kind"] for m in catcher.received()] == ["order_created", "payment_received"]
    finally:
        catcher.stop()


def first_email_of_the_order(service: RunningService) -> tuple[Email, Order, list[OrderLine]]:
    """The one order's first e-mail row, with the order and lines a composer is given."""
    with service.database.connection_context():
        row: Email = Email.get()
        order: Order = Order.get_by_id(row.order_id)
        return row, order, lines_of(order)


def a_composer() -> Composer:
    return Composer(sender="Pasar <no-reply@pasar.test>", storefront_url="http://shop.test", token_secret="s")


def smtp_bytes(message: EmailMessage, *, utf8: bool) -> bytes:
    """The bytes smtplib's send_message sends (its own flattening: CRLF, UTF-8 when asked)."""
    buffer = io.BytesIO()
    policy = emails.MESSAGE_POLICY.clone(utf8=True) if utf8 else None
    BytesGenerator(buffer, policy=policy).flatten(message, linesep="\r\n")
    return buffer.getvalue()


def standard_message(composed: ComposedEmail) -> EmailMessage:
    """The e-mail as the standard library makes it, the way the composer made it before it
    wrote e-mails itself: each header set, then the text, the HTML alternative and the
    language; with the composed e-mail's boundary."""
    message = EmailMessage(policy=email.policy.default.clone(max_line_length=998))
    for name, value in composed.headers:
        message[name] = value
    message.set_content(composed.text)
    message.add_alternative(composed.html, subtype="html")
    message["Content-Language"] = composed.language
    message.set_boundary(composed.boundary)
    return message


class RecordingSmtp(smtplib.SMTP):
    """An SMTP client that connects nowhere and records what it would send."""

    def __init__(self) -> None:
        super().__init__()
        self.sent: list[tuple[str, list[str], bytes, tuple[str, ...]]] = []

    def ehlo_or_helo_if_needed(self) -> None:
        pass

    def sendmail(  # type: ignore[override]
        self,
        from_addr: str,
        to_addrs: list[str],
        msg: bytes,
        mail_options: Sequence[str] = (),
        rcpt_options: Sequence[str] = (),
    ) -> dict[str, tuple[int, bytes]]:
        self.sent.append((from_addr, list(to_addrs), msg, tuple(mail_options)))
        return {}


def assert_written_as_the_standard_library_writes(composed: ComposedEmail) -> None:
    """The composed e-mail's bytes, for the mail folder and for an SMTP server, are the
    standard library's, and so is what an SMTP server is sent with them."""
    standard = standard_message(composed)
    assert composed.as_bytes() == standard.as_bytes()
    assert composed.as_bytes(emails.SMTP_LINESEP) == smtp_bytes(standard, utf8=False)
    assert composed.message().as_bytes() == standard.as_bytes()
    ours, theirs = RecordingSmtp(), RecordingSmtp()
    try:
        theirs.send_message(standard)
    except smtplib.SMTPNotSupportedError:  # an address that is not ASCII, to a server without SMTPUTF8
        with pytest.raises(smtplib.SMTPNotSupportedError):
            mail_transport.send_with(ours, composed)
        return
    mail_transport.send_with(ours, composed)
    assert ours.sent == theirs.sent


@pytest.mark.parametrize("language", ["id", "en"])
def test_an_email_is_byte_for_byte_what_the_standard_library_makes(
    service: RunningService, fake_payments: FakePayments, language: str
) -> None:
    """The composer writes its e-mails' bytes itself (emails.ComposedEmail), and they are
    the very ones the standard library makes of the same e-mail, as the mail folder writes
    it and as an SMTP server is sent it: each kind in each language."""
    placed = place(service, language=language)
    fake_payments.pay(placed.payment.id)
    eventually(lambda: len(eml_files(service.mail_dir)) == 2)
    composer = a_composer()
    with service.database.connection_context():
        rows = list(Email.select().order_by(Email.id))
        order = Order.get_by_id(placed.order.id)
        lines = lines_of(order)
    for kind in EmailKind:
        row = Email(**{**rows[0].__data__, "kind": kind})
        assert_written_as_the_standard_library_writes(composer.compose(row, order, lines))


HEADER_TEXT = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=40) | st.lists(
    st.sampled_from([*string.ascii_letters, " ", "=?", "?=", "<", ">", "@", ".", '"', "(", ")", "\t"]),
    max_size=40,
).map("".join)
BODY = st.text(st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=300).map(
    lambda text: text.replace("\x00", "")
) | st.builds(lambda word, n: f"{word} " * n, st.sampled_from(["a", "é", "bc"]), st.integers(0, 700))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    subject=HEADER_TEXT | st.text(string.printable, max_size=1100),
    to=st.emails() | HEADER_TEXT,
    date=st.datetimes(timezones=st.just(UTC)).map(format_datetime) | HEADER_TEXT,
    order_id=HEADER_TEXT,
    kind=st.sampled_from(list(EmailKind)) | HEADER_TEXT,
    language=st.sampled_from(["id", "en"]) | HEADER_TEXT,
    text=BODY,
    html=BODY,
    boundary=st.just("the-same-boundary") | st.integers(0, 10**19 - 1).map(lambda n: f"{'=' * 15}{n:019d}=="),
)
def test_any_email_is_written_as_the_standard_library_writes_it(
    *,
    subject: str,
    to: str,
    date: str,
    order_id: str,
    kind: str,
    language: str,
    text: str,
    html: str,
    boundary: str,
) -> None:
    """Whatever the headers and bodies (non-ASCII, encoded words, too long for one line,
    an address that needs quoting, lines too long for 8bit), the bytes are the standard
    library's: written directly where the standard library leaves them as they are, by it
    where not. A header value with a line break is refused, as the standard library does."""
    headers = (
        ("Subject", subject),
        ("From", "Pasar <no-reply@pasar.test>"),
        ("To", to),
        ("Date", date),
        ("Message-ID", f"<order-created.1.{order_id}@pasar.test>"),
        ("X-Pasar-Order-Id", order_id),
        ("X-Pasar-Email-Kind", kind),
    )
    composed = ComposedEmail(headers, language, text, html, boundary)
    try:
        standard_message(composed).as_bytes()
    except Exception as error:  # the standard library refuses it: so does the composed e-mail
        with pytest.raises(type(error)):
            composed.as_bytes()
        return
    assert_written_as_the_standard_library_writes(composed)


def test_a_boundary_is_never_a_line_of_the_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    """As the standard library does, a boundary that is a line of a part is drawn again
    with .0, .1, ... after it."""
    monkeypatch.setattr(random, "randrange", lambda _: 7)
    drawn = "=" * 15 + "0000000000000000007" + "=="
    assert emails.new_boundary("a", "b") == drawn
    assert emails.new_boundary(f"a\n--{drawn}\nb", "c") == f"{drawn}.0"
    assert emails.new_boundary(f"a\n--{drawn}--", f"--{drawn}.0\r\n") == f"{drawn}.1"
    assert emails.new_boundary(f"a --{drawn}", "b") == drawn


def test_templates_are_loaded_once_not_looked_at_again_for_each_email(
    service: RunningService, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The templates are package files, unchanged while the service runs: once loaded, a
    composer does not stat them again (jinja2's auto_reload did, 15 files an e-mail)."""
    place(service)
    row, order, lines = first_email_of_the_order(service)
    composer = a_composer()
    first = composer.compose(row, order, lines)
    looked_at: list[str] = []
    real_getmtime = os.path.getmtime

    def getmtime(path: str) -> float:
        looked_at.append(path)
        return real_getmtime(path)

    monkeypatch.setattr(os.path, "getmtime", getmtime)
    again = composer.compose(row, order, lines)
    assert looked_at == []
    assert dataclasses.replace(again, boundary=first.boundary).as_bytes() == first.as_bytes()
