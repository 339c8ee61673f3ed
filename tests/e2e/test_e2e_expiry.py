"""Unpaid orders expire: the payment is cancelled and the stock goes back."""

from __future__ import annotations

import grpc
import pytest
from conftest import StartShop

from pasar.order.v1 import order_pb2, order_service_pb2
from pasar.order.v1.error_reason_pb2 import ErrorReason as OrderErrorReason
from pasar.payment.v1 import payment_pb2
from pasar_testkit.assertions import reason_of
from pasar_testkit.orders import create_order_request
from pasar_testkit.waiting import wait_for


def test_an_unpaid_order_expires(start_shop: StartShop) -> None:
    shop = start_shop(order_env={"PASAR_ORDER_TTL_SECONDS": "2"})
    package_id = shop.add_package(price=20_000, stock=3)
    placed = shop.place(create_order_request((package_id, 3), channel="bri_va"))
    assert shop.stock(package_id) == 0
    # The TTL counts from the moment the order was placed (its checkout done, its last update),
    # not from the start of its checkout (create_time), which may be any time earlier.
    placed_at, expires_at = placed.order.update_time.ToNanoseconds(), placed.order.expire_time.ToNanoseconds()
    assert expires_at - placed_at == 2 * 10**9

    order = shop.wait_for_order_state(placed.order.id, placed.access_token, order_pb2.ORDER_STATE_EXPIRED)

    assert shop.payment(placed.payment.id).state == payment_pb2.PAYMENT_STATE_CANCELLED
    wait_for(lambda: shop.stock(package_id) == 3, what="the stock is released")
    assert shop.rows("product", "SELECT state FROM reservation WHERE order_id = ?", (order.id,)) == [
        ("RELEASED",)
    ]
    # Too late to pay, or to cancel.
    with pytest.raises(grpc.RpcError) as caught:
        shop.simulate(placed.payment.id)
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    with pytest.raises(grpc.RpcError) as caught:
        shop.orders.CancelOrder(order_service_pb2.CancelOrderRequest(id=order.id, token=placed.access_token))
    assert caught.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert reason_of(caught.value) == OrderErrorReason.Name(OrderErrorReason.ORDER_NOT_CANCELLABLE)
    assert [m["X-Pasar-Email-Kind"] for m in shop.mails(order.id)] == ["order_created"]


def test_a_cancelled_order_gives_its_stock_back(start_shop: StartShop) -> None:
    shop = start_shop()
    package_id = shop.add_package(price=20_000, stock=3)
    placed = shop.place(create_order_request((package_id, 2), channel="alfamart"))

    response: order_service_pb2.CancelOrderResponse = shop.orders.CancelOrder(
        order_service_pb2.CancelOrderRequest(id=placed.order.id, token=placed.access_token)
    )

    assert response.order.state == order_pb2.ORDER_STATE_CANCELLED
    assert shop.payment(placed.payment.id).state == payment_pb2.PAYMENT_STATE_CANCELLED
    wait_for(lambda: shop.stock(package_id) == 3, what="the stock is released")
