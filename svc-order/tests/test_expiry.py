"""One deadline: an order expires when its payment does (the channel's payment window);
the payment is cancelled first, then the stock is released and the "expired" e-mail queued."""

from __future__ import annotations

import time
from datetime import UTC, timedelta

import pytest
from conftest import RunningService, StartService, create_request
from fakes import FakeCatalog, FakePayments, window

from pasar.order.v1 import order_pb2, order_service_pb2
from pasar.payment.v1 import payment_pb2
from pasar.product.v1 import product_pb2
from pasar_order import sweeper
from pasar_order.checkout import RESERVATION_MARGIN
from pasar_order.models import Email, Order, OrderState
from pasar_testkit.assertions import eventually
from pasar_testkit.fake_server import FakeGrpcServer

# The checkout lease of the tests (conftest.TEST_ENV): the stock is held up to this much
# longer than the payment's window plus the margin (the checkout's own time).
LEASE = timedelta(seconds=3)


def payment_window(fake_payments: FakePayments, channel_code: str, seconds: float) -> None:
    """Shortens a channel's payment window (before the order service first reads the channels)."""
    fake_payments.channels[channel_code].payment_ttl.CopyFrom(window(seconds))


def stored_state(service: RunningService, order_id: str) -> str:
    with service.database.connection_context():
        state: str = Order.get_by_id(order_id).state
        return state


def email_kinds(service: RunningService, order_id: str) -> list[str]:
    with service.database.connection_context():
        return [email.kind for email in Email.select().where(Email.order == order_id).order_by(Email.id)]


@pytest.mark.parametrize(
    ("channel", "window_seconds"),
    [pytest.param("bca_va", 24 * 3600, id="virtual-account"), pytest.param("qris", 15 * 60, id="qris")],
)
def test_the_order_expires_when_its_payment_does(
    service: RunningService, fake_catalog: FakeCatalog, channel: str, window_seconds: int
) -> None:
    placed: order_service_pb2.CreateOrderResponse = service.stub.CreateOrder(
        create_request(("pulsa-10k", 1), channel=channel)
    )
    assert placed.order.expire_time == placed.payment.expire_time
    payment_window = placed.payment.expire_time.ToDatetime() - placed.payment.create_time.ToDatetime()
    assert payment_window == timedelta(seconds=window_seconds)
    got = service.stub.GetOrder(
        order_service_pb2.GetOrderRequest(id=placed.order.id, token=placed.access_token)
    )
    assert got.order.expire_time == placed.payment.expire_time
    # The stock is held past the deadline by the margin (and at most the checkout's lease more).
    held_until = fake_catalog.reservation_expiry[placed.order.id].ToDatetime()
    assert (
        RESERVATION_MARGIN <= held_until - placed.order.expire_time.ToDatetime() <= RESERVATION_MARGIN + LEASE
    )


def test_the_sweeper_expires_the_order_at_its_payments_expiry(
    start_service: StartService, fake_catalog: FakeCatalog, fake_payments: FakePayments
) -> None:
    payment_window(fake_payments, "bca_va", 1)
    service = start_service()
    placed: order_service_pb2.CreateOrderResponse = service.stub.CreateOrder(create_request(("data-5gb", 3)))
    assert placed.order.expire_time == placed.payment.expire_time
    assert fake_catalog.stock("data-5gb") == 0

    eventually(
        lambda: stored_state(service, placed.order.id) == OrderState.EXPIRED, message="the order expires"
    )
    with service.database.connection_context():
        expired_at = Order.get_by_id(placed.order.id).update_time
    deadline = placed.order.expire_time.ToDatetime(tzinfo=UTC)
    # Never before the deadline (how soon after depends on the machine's load: not asserted).
    assert deadline <= expired_at
    assert fake_payments.payments[placed.payment.id].state == payment_pb2.PAYMENT_STATE_CANCELLED
    eventually(lambda: fake_catalog.stock("data-5gb") == 3, message="the reservation is released")
    assert fake_catalog.reservation_state(placed.order.id) == product_pb2.RESERVATION_STATE_RELEASED
    # The "expired" e-mail is queued with the change, after "order created".
    assert email_kinds(service, placed.order.id) == ["order_created", "expired"]
    # The payment's CANCELLED event, arriving after, leaves it EXPIRED.
    eventually(lambda: fake_payments.events[-1].type == payment_pb2.PAYMENT_EVENT_TYPE_CANCELLED)
    response = service.stub.GetOrder(
        order_service_pb2.GetOrderRequest(id=placed.order.id, token=placed.access_token)
    )
    assert response.order.state == order_pb2.ORDER_STATE_EXPIRED


def test_a_payment_that_outlives_the_reservation_is_cancelled_when_the_stock_would_go(
    start_service: StartService, fake_catalog: FakeCatalog, fake_payments: FakePayments
) -> None:
    """The catalog holds stock for less than was asked (its maximum): the order expires the
    margin before the reservation ends, earlier than its payment, which is cancelled then."""
    fake_catalog.max_hold = RESERVATION_MARGIN + timedelta(seconds=1)
    service = start_service()
    placed: order_service_pb2.CreateOrderResponse = service.stub.CreateOrder(create_request(("pulsa-25k", 1)))
    held_until = fake_catalog.reservation_expiry[placed.order.id].ToDatetime()
    assert placed.order.expire_time.ToDatetime() == held_until - RESERVATION_MARGIN
    assert placed.order.expire_time.ToNanoseconds() < placed.payment.expire_time.ToNanoseconds()

    eventually(
        lambda: stored_state(service, placed.order.id) == OrderState.EXPIRED, message="the order expires"
    )
    assert fake_payments.payments[placed.payment.id].state == payment_pb2.PAYMENT_STATE_CANCELLED
    assert email_kinds(service, placed.order.id) == ["order_created", "expired"]


def test_an_order_paid_at_the_last_second_is_paid_not_expired(
    start_service: StartService, fake_catalog: FakeCatalog, fake_payments: FakePayments
) -> None:
    payment_window(fake_payments, "bca_va", 1)
    service = start_service()
    placed: order_service_pb2.CreateOrderResponse = service.stub.CreateOrder(create_request(("pulsa-10k", 2)))

    def paid_just_before() -> None:
        """The payment service hears of the money just before the expiry; no event yet."""
        fake_payments.payments[placed.payment.id].state = payment_pb2.PAYMENT_STATE_PAID

    fake_payments.hooks.before["CancelPayment"] = paid_just_before

    def paid() -> bool:
        with service.database.connection_context():
            return bool(Order.get_by_id(placed.order.id).state == OrderState.PAID)

    eventually(paid, message="the order is paid")
    eventually(
        lambda: fake_catalog.reservation_state(placed.order.id) == product_pb2.RESERVATION_STATE_COMMITTED
    )
    assert fake_catalog.stock("pulsa-10k") == 8
    with service.database.connection_context():
        assert sorted(email.kind for email in Email.select()) == ["order_created", "payment_received"]


def test_expiry_waits_for_the_payment_service(
    start_service: StartService,
    fake_catalog: FakeCatalog,
    fake_payments: FakePayments,
    payments_server: FakeGrpcServer,
) -> None:
    payment_window(fake_payments, "bca_va", 1)
    service = start_service()
    placed: order_service_pb2.CreateOrderResponse = service.stub.CreateOrder(create_request(("pulsa-25k", 4)))
    payments_server.stop()

    def state() -> str:
        with service.database.connection_context():
            value: str = Order.get_by_id(placed.order.id).state
            return value

    time.sleep(1.5)  # past the expiry: the payment cannot be cancelled, so the order stays pending
    assert state() == OrderState.PENDING_PAYMENT
    assert fake_catalog.stock("pulsa-25k") == 6

    payments_server.start()

    eventually(lambda: state() == OrderState.EXPIRED, timeout=15)
    eventually(lambda: fake_catalog.stock("pulsa-25k") == 10)
    assert fake_payments.payments[placed.payment.id].state == payment_pb2.PAYMENT_STATE_CANCELLED


def test_orders_that_cannot_expire_do_not_hold_back_the_ones_after_them(
    start_service: StartService, fake_payments: FakePayments, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sweeper, "BATCH", 2)  # a page of the sweeper's round holds two orders
    payment_window(fake_payments, "bca_va", 1)
    service = start_service()
    placed = [service.stub.CreateOrder(create_request(("pulsa-10k", 1))) for _ in range(5)]
    # The payment service has lost the first three payments: CancelPayment answers
    # PAYMENT_NOT_FOUND every time, so those orders cannot be expired.
    for stuck in placed[:3]:
        del fake_payments.payments[stuck.payment.id]

    def states() -> list[str]:
        with service.database.connection_context():
            return [Order.get_by_id(order.order.id).state for order in placed]

    eventually(
        lambda: states()[3:] == [OrderState.EXPIRED, OrderState.EXPIRED],
        message="the orders after the stuck ones expire",
    )
    assert states()[:3] == [OrderState.PENDING_PAYMENT] * 3
