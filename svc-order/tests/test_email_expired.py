"""The "expired" e-mail: an order not paid by its deadline says so, once, in its language,
after its "order created" e-mail; a cancelled order gets none.

It is queued in the transaction that makes the order EXPIRED (pasar_order.orders.mark_closed
calls pasar_order.mail_outbox.queue_expired_mail), whichever way the expiry comes: the
payment's EXPIRED event, or the sweeper closing an order past its expire_time.
"""

from __future__ import annotations

from datetime import UTC, timedelta
from email.message import EmailMessage

import pytest
from conftest import RunningService, StartService, create_request
from fakes import FakePayments

from pasar.order.v1 import order_pb2, order_service_pb2
from pasar.payment.v1 import payment_pb2
from pasar_kit.money import format_rupiah
from pasar_kit.timestamps import utc_now
from pasar_order.emails import local_time
from pasar_order.models import Email, EmailKind, EventCursor, Order
from pasar_order.payment_events import CURSOR_NAME as PAYMENT_EVENTS
from pasar_testkit.assertions import eventually
from pasar_testkit.mail import MailCatcher, body_text
from pasar_testkit.waiting import wait_for

EXPIRED = EmailKind.EXPIRED


@pytest.fixture
def smtp_service(start_service: StartService, mail_catcher: MailCatcher) -> RunningService:
    """The order service sending its e-mails to the catcher (a real SMTP server)."""
    return start_service(SMTP_URL=mail_catcher.url)


def place(service: RunningService, language: str = "") -> order_service_pb2.CreateOrderResponse:
    response: order_service_pb2.CreateOrderResponse = service.stub.CreateOrder(
        create_request(("pulsa-10k", 2), ("data-5gb", 1), language=language)
    )
    return response


def kinds_sent(mail_catcher: MailCatcher, placed: order_service_pb2.CreateOrderResponse) -> list[str]:
    return [str(message["X-Pasar-Email-Kind"]) for message in mail_catcher.received(order_id=placed.order.id)]


def expired_mail(mail_catcher: MailCatcher, placed: order_service_pb2.CreateOrderResponse) -> EmailMessage:
    [message] = wait_for(
        lambda: mail_catcher.received(EXPIRED, order_id=placed.order.id), what="the expired e-mail"
    )
    return message


def state_of(service: RunningService, placed: order_service_pb2.CreateOrderResponse) -> int:
    request = order_service_pb2.GetOrderRequest(id=placed.order.id, token=placed.access_token)
    state: int = service.stub.GetOrder(request).order.state
    return state


# Per language: the subject, and words the body has.
EXPECTED = {
    "id": (
        "Pesanan {number} kedaluwarsa: belum dibayar sampai batas waktunya",
        ("dibatalkan otomatis", "Tidak ada yang ditagih", "Nomor pesanan", "Bayar sebelum", "Biaya admin"),
    ),
    "en": (
        "Order {number} has expired: it was not paid in time",
        ("cancelled automatically", "Nothing was charged", "Order number", "Pay before", "Admin fee"),
    ),
}


@pytest.mark.parametrize("language", sorted(EXPECTED))
def test_an_order_whose_payment_expires_gets_the_expired_email_after_order_created(
    smtp_service: RunningService, mail_catcher: MailCatcher, fake_payments: FakePayments, language: str
) -> None:
    subject, words = EXPECTED[language]
    placed = place(smtp_service, language)
    fake_payments.expire(placed.payment.id)
    message = expired_mail(mail_catcher, placed)

    number = placed.order.order_number
    assert message["Subject"] == subject.format(number=number)
    assert message["To"] == "budi@example.co.id"
    assert message["Content-Language"] == language
    deadline = local_time(placed.order.expire_time.ToDatetime(tzinfo=UTC), language)
    for part in body_text(message):
        assert number in part
        assert deadline in part
        assert format_rupiah(placed.order.total.amount) in part
        assert "http://shop.test/" in part  # to order again
        assert f"http://shop.test/orders/{placed.order.id}?token={placed.access_token}" in part
        for word in words:
            assert word in part
    assert kinds_sent(mail_catcher, placed) == ["order_created", "expired"]
    assert state_of(smtp_service, placed) == order_pb2.ORDER_STATE_EXPIRED


def queued_kinds(service: RunningService, placed: order_service_pb2.CreateOrderResponse) -> list[str]:
    """The kinds of the order's e-mails in the outbox, sent or not, in queue order."""
    with service.database.connection_context():
        rows = Email.select().where(Email.order == placed.order.id).order_by(Email.id)
        return [str(row.kind) for row in rows]


def events_handled(service: RunningService, fake_payments: FakePayments) -> bool:
    """Whether the service has applied every payment event so far (its cursor is at the last)."""
    with service.database.connection_context():
        cursor = EventCursor.get_or_none(EventCursor.name == PAYMENT_EVENTS)
        return cursor is not None and cursor.sequence == len(fake_payments.events)


def test_an_order_the_sweeper_expires_gets_the_expired_email_once(
    smtp_service: RunningService, mail_catcher: MailCatcher, fake_payments: FakePayments
) -> None:
    placed = place(smtp_service)
    with smtp_service.database.connection_context():
        # Its deadline has passed: the sweeper cancels the payment and expires the order.
        Order.update(expire_time=utc_now() - timedelta(seconds=1)).where(
            Order.id == placed.order.id
        ).execute()
    expired_mail(mail_catcher, placed)
    assert fake_payments.payments[placed.payment.id].state == payment_pb2.PAYMENT_STATE_CANCELLED
    # The payment's CANCELLED event, and a repeat of it, change nothing: still one e-mail.
    fake_payments.replay_event(len(fake_payments.events))
    eventually(lambda: events_handled(smtp_service, fake_payments))
    assert queued_kinds(smtp_service, placed) == ["order_created", "expired"]
    assert kinds_sent(mail_catcher, placed) == ["order_created", "expired"]


def test_a_replayed_expired_event_queues_no_second_email(
    smtp_service: RunningService, mail_catcher: MailCatcher, fake_payments: FakePayments
) -> None:
    placed = place(smtp_service)
    fake_payments.expire(placed.payment.id)
    expired_mail(mail_catcher, placed)
    fake_payments.replay_event(len(fake_payments.events))
    eventually(lambda: events_handled(smtp_service, fake_payments))
    assert queued_kinds(smtp_service, placed) == ["order_created", "expired"]
    assert kinds_sent(mail_catcher, placed) == ["order_created", "expired"]


def test_a_cancelled_order_gets_no_expired_email(
    smtp_service: RunningService, fake_payments: FakePayments
) -> None:
    placed = place(smtp_service)
    request = order_service_pb2.CancelOrderRequest(id=placed.order.id, token=placed.access_token)
    assert smtp_service.stub.CancelOrder(request).order.state == order_pb2.ORDER_STATE_CANCELLED
    eventually(lambda: fake_payments.events[-1].type == payment_pb2.PAYMENT_EVENT_TYPE_CANCELLED)
    eventually(lambda: events_handled(smtp_service, fake_payments))
    assert queued_kinds(smtp_service, placed) == ["order_created"]
