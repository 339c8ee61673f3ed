"""Retries change nothing: the same CreateOrder, the same PAID notification."""

from __future__ import annotations

import uuid

import grpc
import pytest
from conftest import StartShop

from pasar.order.v1 import order_pb2
from pasar.order.v1.error_reason_pb2 import ErrorReason as OrderErrorReason
from pasar.payment.v1 import payment_pb2
from pasar_testkit.assertions import reason_of
from pasar_testkit.orders import create_order_request
from pasar_testkit.waiting import wait_for


def test_a_retried_create_order_returns_the_same_order_payment_and_token(start_shop: StartShop) -> None:
    shop = start_shop()
    package_id = shop.add_package(price=25_000, stock=10)
    request = create_order_request((package_id, 2), request_id=f"checkout-{uuid.uuid4()}", channel="qris")

    first = shop.place(request)
    second = shop.place(request)

    assert second.order == first.order
    assert second.payment.id == first.payment.id
    assert second.payment.qris.qr_string == first.payment.qris.qr_string
    assert second.access_token == first.access_token
    assert shop.stock(package_id) == 8
    assert shop.rows("order", "SELECT COUNT(*) FROM orders") == [(1,)]
    assert shop.rows("payment", "SELECT COUNT(*) FROM payment") == [(1,)]
    assert shop.rows("product", "SELECT COUNT(*) FROM reservation") == [(1,)]

    # The same request id with other content is refused, and changes nothing.
    with pytest.raises(grpc.RpcError) as caught:
        shop.place(create_order_request((package_id, 3), request_id=request.request_id, channel="qris"))
    assert caught.value.code() == grpc.StatusCode.ALREADY_EXISTS
    assert reason_of(caught.value) == OrderErrorReason.Name(OrderErrorReason.REQUEST_ID_REUSED)
    assert shop.stock(package_id) == 8


def test_a_duplicate_paid_notification_changes_nothing(start_shop: StartShop) -> None:
    shop = start_shop()
    package_id = shop.add_package(price=50_000, stock=4)
    placed = shop.place(create_order_request((package_id, 1), channel="mandiri_va"))
    payment = shop.payment(placed.payment.id)

    notification_id = f"sbxn_{uuid.uuid4().hex[:24]}"
    first = shop.notify_paid(payment, notification_id)
    assert first.payment.state == payment_pb2.PAYMENT_STATE_PAID
    assert not first.duplicate
    order = shop.wait_for_order_state(placed.order.id, placed.access_token, order_pb2.ORDER_STATE_FULFILLED)
    wait_for(lambda: len(shop.mails(order.id)) == 3, what="the three e-mails are written")
    wait_for(
        lambda: (
            shop.rows("product", "SELECT state FROM reservation WHERE order_id = ?", (order.id,))
            == [("COMMITTED",)]
        ),
        what="the reservation is committed",
    )
    paid_events = "SELECT COUNT(*) FROM payment_event WHERE type = 'PAID'"
    assert shop.rows("payment", paid_events) == [(1,)]
    counts = shop.table_counts()

    # The provider posts the same notification again, then the sandbox settles it again.
    again = shop.notify_paid(payment, notification_id)
    assert again.duplicate
    assert again.payment == first.payment
    assert shop.simulate(payment.id) == first.payment

    assert shop.order(order.id, placed.access_token) == order
    assert shop.rows("payment", paid_events) == [(1,)]
    assert shop.table_counts() == counts
    assert len(shop.mails(order.id)) == 3
    assert shop.stock(package_id) == 3
