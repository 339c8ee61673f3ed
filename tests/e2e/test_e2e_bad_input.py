"""Bad input gets the right status and leaves no row behind in any of the three databases."""

from __future__ import annotations

from collections.abc import Callable

import grpc
from conftest import StartShop

from pasar.order.v1 import order_service_pb2
from pasar.order.v1.error_reason_pb2 import ErrorReason as OrderErrorReason
from pasar.payment.v1.error_reason_pb2 import ErrorReason as PaymentErrorReason
from pasar.product.v1.error_reason_pb2 import ErrorReason as ProductErrorReason
from pasar_kit.errors import error_info
from pasar_testkit.assertions import reason_of, refused, violated_fields
from pasar_testkit.orders import create_order_request

INVALID = grpc.StatusCode.INVALID_ARGUMENT


def test_bad_orders_are_refused_and_leave_nothing_behind(start_shop: StartShop) -> None:
    shop = start_shop()
    package_id = shop.add_package(price=5_000, stock=10)
    other_id = shop.add_package(price=12_000, stock=10)
    good = create_order_request((other_id, 1))
    before = shop.table_counts()

    def create(**changes: object) -> order_service_pb2.CreateOrderRequest:
        request = order_service_pb2.CreateOrderRequest()
        request.CopyFrom(good)
        for name, value in changes.items():
            if name == "lines":
                del request.lines[:]
                request.lines.extend(
                    order_service_pb2.CreateOrderLine(package_id=p, quantity=q)
                    for p, q in value  # type: ignore[attr-defined]
                )
            else:
                setattr(request, name, value)
        return request

    cases: list[tuple[str, order_service_pb2.CreateOrderRequest, grpc.StatusCode, str, str]] = [
        # (what, request, code, reason, field)
        (
            "unknown package",
            create(lines=[("paket-tidak-ada", 1)]),
            grpc.StatusCode.NOT_FOUND,
            ProductErrorReason.Name(ProductErrorReason.PACKAGE_NOT_FOUND),
            "",
        ),
        ("malformed package id", create(lines=[("Paket_Besar", 1)]), INVALID, "", "lines[0].package_id"),
        ("zero quantity", create(lines=[(other_id, 0)]), INVALID, "", "lines[0].quantity"),
        ("negative quantity", create(lines=[(other_id, -3)]), INVALID, "", "lines[0].quantity"),
        ("huge quantity", create(lines=[(other_id, 2_147_483_647)]), INVALID, "", "lines[0].quantity"),
        (
            "more than there is",
            create(lines=[(other_id, 11)]),
            grpc.StatusCode.FAILED_PRECONDITION,
            ProductErrorReason.Name(ProductErrorReason.OUT_OF_STOCK),
            "",
        ),
        ("no lines", create(lines=[]), INVALID, "", "lines"),
        ("21 lines", create(lines=[(f"paket-{i}", 1) for i in range(21)]), INVALID, "", "lines"),
        ("duplicate lines", create(lines=[(other_id, 1), (other_id, 2)]), INVALID, "", "CreateOrderRequest"),
        ("malformed e-mail", create(customer_email="budi@@example"), INVALID, "", "customer_email"),
        ("no e-mail", create(customer_email=""), INVALID, "", "customer_email"),
        (
            "oversized e-mail",
            create(customer_email="b" * 250 + "@example.co.id"),
            INVALID,
            "",
            "customer_email",
        ),
        (
            "unknown channel",
            create(payment_channel_code="cod"),
            grpc.StatusCode.NOT_FOUND,
            PaymentErrorReason.Name(PaymentErrorReason.CHANNEL_NOT_FOUND),
            "",
        ),
        ("malformed channel", create(payment_channel_code="BCA-VA"), INVALID, "", "payment_channel_code"),
        ("oversized channel", create(payment_channel_code="va" * 20), INVALID, "", "payment_channel_code"),
        ("oversized request id", create(request_id="r" * 129), INVALID, "", "request_id"),
        ("malformed request id", create(request_id="two words"), INVALID, "", "request_id"),
        ("unknown language", create(language_code="fr"), INVALID, "", "language_code"),
        ("oversized package id", create(lines=[("p" * 64, 1)]), INVALID, "", "lines[0].package_id"),
        (
            "below the channel's minimum",
            create(lines=[(package_id, 1)]),  # Rp 5.000; virtual accounts take Rp 10.000 and up
            grpc.StatusCode.FAILED_PRECONDITION,
            PaymentErrorReason.Name(PaymentErrorReason.AMOUNT_OUT_OF_RANGE),
            "",
        ),
    ]
    for what, request, code, expected_reason, field in cases:
        error = refused(lambda request=request: shop.place(request))  # type: ignore[misc]
        assert error.code() == code, what
        assert reason_of(error) == expected_reason, what
        if field:
            assert field in violated_fields(error), (what, violated_fields(error))
        assert shop.table_counts() == before, what

    assert shop.stock(package_id) == 10
    assert shop.stock(other_id) == 10
    assert shop.mails() == []
    # The same request, well-formed, goes through: the refusals were about the input.
    assert shop.place(good).order.lines[0].package_id == other_id


def test_wrong_ids_and_tokens_read_nothing(start_shop: StartShop) -> None:
    shop = start_shop()
    package_id = shop.add_package(price=15_000, stock=2)
    placed = shop.place(create_order_request((package_id, 1)))
    before = shop.table_counts()

    def get(order_id: str, token: str) -> Callable[[], object]:
        return lambda: shop.orders.GetOrder(order_service_pb2.GetOrderRequest(id=order_id, token=token))

    def cancel(order_id: str, token: str) -> Callable[[], object]:
        return lambda: shop.orders.CancelOrder(order_service_pb2.CancelOrderRequest(id=order_id, token=token))

    for call in (get, cancel):
        for order_id, token, code in [
            ("ord_" + "f" * 32, placed.access_token, grpc.StatusCode.NOT_FOUND),
            (placed.order.id, "not-the-token", grpc.StatusCode.NOT_FOUND),
            (placed.order.id, placed.access_token[:-1], grpc.StatusCode.NOT_FOUND),
            ("order-1", placed.access_token, INVALID),
            (placed.order.id, "", INVALID),
            (placed.order.id, "t" * 129, INVALID),
        ]:
            error = refused(call(order_id, token))
            assert error.code() == code
            if code == grpc.StatusCode.NOT_FOUND:
                assert reason_of(error) == OrderErrorReason.Name(OrderErrorReason.ORDER_NOT_FOUND)
                info = error_info(error)
                assert info is not None
                assert dict(info.metadata) == {}
    assert shop.table_counts() == before
    assert shop.order(placed.order.id, placed.access_token) == placed.order
