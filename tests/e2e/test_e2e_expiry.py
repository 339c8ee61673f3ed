"""Unpaid orders expire with their payment, and cancelled ones end: the stock goes back."""

from __future__ import annotations

import grpc
import pytest
from conftest import StartShop
from e2e_shop import DEADLINE

from pasar.order.v1 import order_pb2, order_service_pb2, order_service_pb2_grpc
from pasar.order.v1.error_reason_pb2 import ErrorReason as OrderErrorReason
from pasar.payment.v1 import payment_pb2
from pasar_kit.channels import open_channel
from pasar_kit.idempotency import repeatable_methods
from pasar_testkit.assertions import reason_of
from pasar_testkit.orders import create_order_request
from pasar_testkit.waiting import wait_for


def test_an_unpaid_order_expires_with_its_payment(start_shop: StartShop) -> None:
    """One deadline: the order's expire_time is its payment's (the channel's window, capped
    at 2 s here by svc-payment's PASAR_PAYMENT_TTL_MAX_SECONDS); at that instant the order
    expires, its payment ends, its stock goes back and the "expired" e-mail goes out."""
    shop = start_shop(payment_env={"PASAR_PAYMENT_TTL_MAX_SECONDS": "2"})
    package_id = shop.add_package(price=20_000, stock=3)
    placed = shop.place(create_order_request((package_id, 3), channel="bri_va"))
    assert shop.stock(package_id) == 0
    assert placed.order.expire_time == placed.payment.expire_time
    created_at, expires_at = (
        placed.payment.create_time.ToNanoseconds(),
        placed.payment.expire_time.ToNanoseconds(),
    )
    assert expires_at - created_at == 2 * 10**9

    order = shop.wait_for_order_state(placed.order.id, placed.access_token, order_pb2.ORDER_STATE_EXPIRED)

    assert order.update_time.ToNanoseconds() >= expires_at  # never before the deadline
    # Whichever service reached the deadline first ended the payment: svc-order cancelling
    # it, or svc-payment expiring it.
    assert shop.payment(placed.payment.id).state in (
        payment_pb2.PAYMENT_STATE_CANCELLED,
        payment_pb2.PAYMENT_STATE_EXPIRED,
    )
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
    wait_for(
        lambda: [m["X-Pasar-Email-Kind"] for m in shop.mails(order.id)] == ["order_created", "expired"],
        what='the "expired" e-mail after "order created"',
    )


def test_a_cancelled_order_gives_its_stock_back(start_shop: StartShop) -> None:
    shop = start_shop()
    package_id = shop.add_package(price=20_000, stock=3)
    placed = shop.place(create_order_request((package_id, 2), channel="alfamart"))

    # Called as the gateway calls it: CancelOrder is IDEMPOTENT, so a conflict with the
    # CANCELLED event its own payment cancellation causes (ABORTED, "retry it"; MariaDB may
    # report it as a deadlock) is retried, as the contract allows every caller to.
    channel = open_channel(
        shop.stack.address("order"),
        default_timeout=DEADLINE,
        idempotent_methods=repeatable_methods(order_service_pb2.DESCRIPTOR.services_by_name["OrderService"]),
    )
    with channel:
        response: order_service_pb2.CancelOrderResponse = order_service_pb2_grpc.OrderServiceStub(
            channel
        ).CancelOrder(order_service_pb2.CancelOrderRequest(id=placed.order.id, token=placed.access_token))

    assert response.order.state == order_pb2.ORDER_STATE_CANCELLED
    assert shop.payment(placed.payment.id).state == payment_pb2.PAYMENT_STATE_CANCELLED
    wait_for(lambda: shop.stock(package_id) == 3, what="the stock is released")
