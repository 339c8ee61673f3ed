"""The shop's internal methods answer the order service alone.

An attacker who reaches the product or payment service's port could hold stock for a
made-up order (for ever) or open payments for orders that do not exist. Here those calls
are refused and leave nothing behind, while a real checkout, whose order service calls
the same methods with its own credential, goes through; its reservation is set to outlive
the order by the margin the order service gives (and, at most, the checkout's lease: the
stock is reserved before the payment, whose expiry is the order's, is created).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import grpc
from conftest import StartShop

from pasar.common.v1.error_reason_pb2 import ErrorReason
from pasar.payment.v1 import payment_service_pb2, payment_service_pb2_grpc
from pasar.product.v1 import product_pb2, product_service_pb2, product_service_pb2_grpc
from pasar_kit.fields import UtcDateTimeField
from pasar_kit.money import rupiah
from pasar_kit.timestamps import as_utc
from pasar_order.checkout import RESERVATION_MARGIN
from pasar_testkit.assertions import reason_of, refused
from pasar_testkit.orders import create_order_request

# svc-order's PASAR_CHECKOUT_LEASE_SECONDS when not set, as in this shop.
DEFAULT_CHECKOUT_LEASE = timedelta(seconds=30)


def refusal(call: Callable[[], object]) -> tuple[grpc.StatusCode, str]:
    """The status code and reason of a call that must fail."""
    error = refused(call)
    code: grpc.StatusCode = error.code()
    return code, reason_of(error)


def test_forged_internal_calls_are_refused_and_the_real_checkout_works(start_shop: StartShop) -> None:
    shop = start_shop()
    package_id = shop.add_package(price=11_500, stock=5)
    forged_products = product_service_pb2_grpc.ProductServiceStub(shop.channels["product"])
    forged_payments = payment_service_pb2_grpc.PaymentServiceStub(shop.channels["payment"])
    hold = product_service_pb2.ReserveStockRequest(
        order_id="ord-made-up", lines=[product_pb2.StockLine(package_id=package_id, quantity=5)]
    )
    pay = payment_service_pb2.CreatePaymentRequest(
        order_id="ord-made-up",
        channel_code="bca_va",
        amount=rupiah(57_500),
        description="nothing",
        customer_email="mallory@example.com",
    )
    assert refusal(lambda: forged_products.ReserveStock(hold, timeout=10)) == (
        grpc.StatusCode.UNAUTHENTICATED,
        ErrorReason.Name(ErrorReason.CALLER_CREDENTIAL_MISSING),
    )
    assert refusal(lambda: forged_payments.CreatePayment(pay, timeout=10)) == (
        grpc.StatusCode.UNAUTHENTICATED,
        ErrorReason.Name(ErrorReason.CALLER_CREDENTIAL_MISSING),
    )
    assert shop.rows("product", "SELECT COUNT(*) FROM reservation") == [(0,)]
    assert shop.rows("payment", "SELECT COUNT(*) FROM payment") == [(0,)]
    assert shop.stock(package_id) == 5

    placed = shop.place(create_order_request((package_id, 2)))
    assert shop.stock(package_id) == 3
    [(expire_time,)] = shop.rows(
        "product", "SELECT expire_time FROM reservation WHERE order_id = ?", (placed.order.id,)
    )
    held_until: datetime = UtcDateTimeField().python_value(expire_time)  # text on SQLite
    margin = held_until - as_utc(placed.order.expire_time.ToDatetime())
    assert RESERVATION_MARGIN <= margin <= RESERVATION_MARGIN + DEFAULT_CHECKOUT_LEASE
