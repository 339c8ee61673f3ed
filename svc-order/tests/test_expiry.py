"""Unpaid orders expire: the payment is cancelled first, then the stock is released."""

from __future__ import annotations

import time

import pytest
from conftest import StartService, create_request
from fakes import FakeCatalog, FakePayments

from pasar.order.v1 import order_pb2, order_service_pb2
from pasar.payment.v1 import payment_pb2
from pasar.product.v1 import product_pb2
from pasar_order import sweeper
from pasar_order.models import Email, Order, OrderState
from pasar_testkit.assertions import eventually
from pasar_testkit.fake_server import FakeGrpcServer


def test_an_unpaid_order_expires_and_gives_its_stock_back(
    start_service: StartService, fake_catalog: FakeCatalog, fake_payments: FakePayments
) -> None:
    service = start_service(PASAR_ORDER_TTL_SECONDS="1")
    placed: order_service_pb2.CreateOrderResponse = service.stub.CreateOrder(create_request(("data-5gb", 3)))
    # The TTL counts from when the order is stored, a moment after its checkout began.
    ttl = (placed.order.expire_time.ToNanoseconds() - placed.order.create_time.ToNanoseconds()) / 1e9
    assert ttl == pytest.approx(1.0, abs=0.5)
    assert fake_catalog.stock("data-5gb") == 0

    def expired() -> bool:
        with service.database.connection_context():
            return bool(Order.get_by_id(placed.order.id).state == OrderState.EXPIRED)

    eventually(expired, message="the order expires")
    assert fake_payments.payments[placed.payment.id].state == payment_pb2.PAYMENT_STATE_CANCELLED
    eventually(lambda: fake_catalog.stock("data-5gb") == 3, message="the reservation is released")
    assert fake_catalog.reservation_state(placed.order.id) == product_pb2.RESERVATION_STATE_RELEASED
    with service.database.connection_context():
        assert [email.kind for email in Email.select()] == ["order_created"]
    # The payment's CANCELLED event, arriving after, leaves it EXPIRED.
    eventually(lambda: fake_payments.events[-1].type == payment_pb2.PAYMENT_EVENT_TYPE_CANCELLED)
    response = service.stub.GetOrder(
        order_service_pb2.GetOrderRequest(id=placed.order.id, token=placed.access_token)
    )
    assert response.order.state == order_pb2.ORDER_STATE_EXPIRED


def test_the_catalog_holds_the_stock_an_hour_past_the_orders_expiry_should_nobody_release_it(
    start_service: StartService, fake_catalog: FakeCatalog
) -> None:
    service = start_service(PASAR_ORDER_TTL_SECONDS="600")
    placed: order_service_pb2.CreateOrderResponse = service.stub.CreateOrder(create_request(("data-5gb", 1)))
    held_until = fake_catalog.reservation_expiry[placed.order.id].ToNanoseconds()
    margin = (held_until - placed.order.expire_time.ToNanoseconds()) / 1e9
    assert margin == pytest.approx(3600, abs=5)


def test_an_order_paid_at_the_last_second_is_paid_not_expired(
    start_service: StartService, fake_catalog: FakeCatalog, fake_payments: FakePayments
) -> None:
    service = start_service(PASAR_ORDER_TTL_SECONDS="1")
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
    service = start_service(PASAR_ORDER_TTL_SECONDS="1")
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
    service = start_service(PASAR_ORDER_TTL_SECONDS="1")
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
