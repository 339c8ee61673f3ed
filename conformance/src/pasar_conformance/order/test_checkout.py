"""CreateOrder: priced from the catalog, paid through one payment, idempotent on request_id,
and the catalog's and the payment service's refusals passed through unchanged."""

from __future__ import annotations

import re
from functools import partial
from typing import cast

import grpc
import pytest

from pasar.common.v1 import money_pb2
from pasar.order.v1 import order_pb2
from pasar.order.v1 import order_service_pb2 as order_pb
from pasar.order.v1.error_reason_pb2 import ErrorReason
from pasar.payment.v1 import payment_pb2
from pasar.payment.v1.error_reason_pb2 import ErrorReason as PaymentReason
from pasar.product.v1 import product_admin_service_pb2 as admin_pb2
from pasar.product.v1 import product_pb2
from pasar.product.v1.error_reason_pb2 import ErrorReason as ProductReason
from pasar_conformance.answers import code_of, expect_reason
from pasar_conformance.order.shop import PRICE, Shop
from pasar_conformance.product.seed import CURRENCY

ORDER_ID = re.compile(r"^ord_[0-9a-f]{32}$")
PAYMENT_ID = re.compile(r"^pay_[0-9a-f]{32}$")
PENDING = order_pb2.ORDER_STATE_PENDING_PAYMENT
# The largest amount pasar.common.v1.Money holds (an int64).
LARGEST_AMOUNT = 2**63 - 1


def instructions_of(kind: payment_pb2.PaymentChannelKind.ValueType) -> str:
    """The Payment.instructions field a channel kind sets: PAYMENT_CHANNEL_KIND_QRIS -> qris."""
    return payment_pb2.PaymentChannelKind.Name(kind).removeprefix("PAYMENT_CHANNEL_KIND_").lower()


def rupiah(amount: int) -> money_pb2.Money:
    return money_pb2.Money(currency_code=CURRENCY, amount=amount)


def test_an_order_is_priced_from_the_catalog_and_waits_for_its_payment(shop: Shop) -> None:
    cheap, dear = shop.packages((10, 10))
    request = shop.request((cheap.id, 2), (dear.id, 1), language_code="en")
    placed = shop.place(request)
    order, payment = placed.order, placed.payment

    assert ORDER_ID.match(order.id), order.id
    assert order.state == PENDING
    assert placed.access_token
    assert order.customer_email == request.customer_email
    assert order.payment_channel_code == request.payment_channel_code
    assert order.language_code == "en"
    lines = {line.package_id: line for line in order.lines}
    assert set(lines) == {cheap.id, dear.id}
    for package, quantity in ((cheap, 2), (dear, 1)):
        line = lines[package.id]
        assert (line.product_id, line.package_display_name) == (package.product_id, package.display_name)
        assert line.product_display_name == shop.product_of(package).display_name
        assert (line.unit_price, line.quantity) == (package.price, quantity)
        assert line.line_total == rupiah(package.price.amount * quantity)
    subtotal = cheap.price.amount * 2 + dear.price.amount
    assert order.subtotal == rupiah(subtotal)
    assert order.fee.currency_code == CURRENCY
    assert order.total == rupiah(subtotal + order.fee.amount)
    assert order.create_time.seconds
    assert order.update_time.seconds
    assert order.expire_time.ToDatetime() > order.create_time.ToDatetime()
    assert not order.HasField("paid_time")

    assert PAYMENT_ID.match(payment.id), payment.id
    assert order.payment_id == payment.id
    assert (payment.order_id, payment.channel_code) == (order.id, order.payment_channel_code)
    assert payment.state == payment_pb2.PAYMENT_STATE_PENDING
    assert (payment.amount, payment.fee, payment.total) == (order.subtotal, order.fee, order.total)
    assert payment.WhichOneof("instructions") == instructions_of(payment.channel_kind), payment
    assert payment == shop.payment_of(payment.id)  # the payment service has it so
    assert shop.stock(cheap.id, dear.id) == [8, 9]  # the stock is held


def test_every_kind_of_channel_gives_the_instructions_of_its_kind(shop: Shop) -> None:
    """One order through a channel of each kind the shop offers (that takes PRICE)."""
    by_kind: dict[payment_pb2.PaymentChannelKind.ValueType, payment_pb2.PaymentChannel] = {}
    for channel in shop.channels():
        if channel.min_amount.amount <= PRICE <= channel.max_amount.amount:
            by_kind.setdefault(channel.kind, channel)
    assert by_kind, "no channel of the shop takes an order of one package"
    packages = shop.packages([1] * len(by_kind))
    for package, (kind, channel) in zip(packages, sorted(by_kind.items()), strict=True):
        payment = shop.place(shop.request_through(channel, (package.id, 1))).payment
        assert (payment.channel_code, payment.channel_kind) == (channel.code, kind)
        assert payment.WhichOneof("instructions") == instructions_of(kind), payment


def test_the_language_of_an_order_is_indonesian_unless_told(shop: Shop) -> None:
    [package] = shop.packages()
    placed = shop.place(shop.request((package.id, 1), language_code=""))
    assert placed.order.language_code == "id"


def test_a_retry_with_the_same_request_id_returns_the_same_order_token_and_payment(shop: Shop) -> None:
    [package] = shop.packages((10,))
    request = shop.request((package.id, 3))
    first = shop.place(request)
    again = shop.place(request)
    assert again.order == first.order
    assert again.access_token == first.access_token
    assert again.payment == first.payment
    assert shop.stock(package.id) == [7]  # held once


def test_the_same_request_id_with_other_content_is_refused(shop: Shop) -> None:
    first_package, other_package = shop.packages((10, 10))
    request = shop.request((first_package.id, 1))
    shop.place(request)
    other_quantity, other_package_request, other_email = (
        order_pb.CreateOrderRequest(),
        order_pb.CreateOrderRequest(),
        order_pb.CreateOrderRequest(),
    )
    for other in (other_quantity, other_package_request, other_email):
        other.CopyFrom(request)
    other_quantity.lines[0].quantity = 2
    other_package_request.lines[0].package_id = other_package.id
    other_email.customer_email = f"other-{request.customer_email}"
    for other in (other_quantity, other_package_request, other_email):
        expect_reason(partial(shop.create, other), ErrorReason.Name(ErrorReason.REQUEST_ID_REUSED))
    assert shop.stock(first_package.id, other_package.id) == [9, 10]


def test_request_ids_differing_only_in_case_are_other_requests(shop: Shop) -> None:
    """The contract's request ids are case-sensitive (``^[A-Za-z0-9._:-]*$``): another case
    with other content is a new order, not REQUEST_ID_REUSED, and with the same content too."""
    [package] = shop.packages((10,))
    request = shop.request((package.id, 1))
    other_content, same_content = order_pb.CreateOrderRequest(), order_pb.CreateOrderRequest()
    for other in (other_content, same_content):
        other.CopyFrom(request)
    other_content.request_id = request.request_id.upper()
    other_content.lines[0].quantity = 2
    same_content.request_id = request.request_id.title()
    requests = (request, other_content, same_content)
    orders = [shop.place(each).order.id for each in requests]
    assert len(set(orders)) == 3, f"{[each.request_id for each in requests]} share orders {orders}"
    assert shop.stock(package.id) == [6]


def test_without_a_request_id_every_call_is_a_new_order(shop: Shop) -> None:
    [package] = shop.packages((10,))
    request = shop.request((package.id, 1), request_id="")
    first, second = shop.create(request), shop.create(request)
    assert first.order.id != second.order.id
    assert first.payment.id != second.payment.id
    assert shop.stock(package.id) == [8]


def test_more_units_than_the_catalog_has_are_out_of_stock_and_nothing_is_held(shop: Shop) -> None:
    plenty, scarce = shop.packages((10, 2))
    request = shop.request((plenty.id, 1), (scarce.id, 3))
    expect_reason(
        lambda: shop.create(request),
        ProductReason.Name(ProductReason.OUT_OF_STOCK),
        metadata={"package_id": scarce.id, "requested": "3", "available": "2"},
    )
    assert shop.stock(plenty.id, scarce.id) == [10, 2]


def test_an_unknown_package_is_not_found_naming_it(shop: Shop) -> None:
    [package] = shop.packages((10,))
    unknown = shop.order.run.new("no-such-pkg")
    expect_reason(
        lambda: shop.create(shop.request((package.id, 1), (unknown, 1))),
        ProductReason.Name(ProductReason.PACKAGE_NOT_FOUND),
        metadata={"package_id": unknown},
    )
    assert shop.stock(package.id) == [10]


def test_an_archived_package_is_not_found(shop: Shop) -> None:
    [package] = shop.packages((10,))
    shop.catalog.archive(package.product_id)
    expect_reason(
        lambda: shop.create(shop.request((package.id, 1))),
        ProductReason.Name(ProductReason.PACKAGE_NOT_FOUND),
        metadata={"package_id": package.id},
    )


def test_an_unknown_channel_is_not_found_naming_it(shop: Shop) -> None:
    [package] = shop.packages((10,))
    unknown = "no_such_channel_" + shop.order.run.prefix
    expect_reason(
        lambda: shop.create(shop.request((package.id, 1), channel=unknown)),
        PaymentReason.Name(PaymentReason.CHANNEL_NOT_FOUND),
        metadata={"channel_code": unknown},
    )
    assert shop.stock(package.id) == [10]


def test_an_amount_the_channel_does_not_take_is_out_of_range_naming_its_limits(shop: Shop) -> None:
    channel = max(shop.channels(), key=lambda c: c.min_amount.amount)
    if channel.min_amount.amount < 2:
        pytest.skip("no channel of the shop has a minimum amount above 1")
    product = shop.deliverable_product()
    package = shop.catalog.package(product.id, price=channel.min_amount.amount - 1)
    expect_reason(
        lambda: shop.create(shop.request_through(channel, (package.id, 1))),
        PaymentReason.Name(PaymentReason.AMOUNT_OUT_OF_RANGE),
        metadata={
            "channel_code": channel.code,
            "min_amount": str(channel.min_amount.amount),
            "max_amount": str(channel.max_amount.amount),
        },
    )
    assert shop.stock(package.id) == [10]


def test_a_subtotal_past_the_largest_amount_is_out_of_range_too(shop: Shop) -> None:
    """Two units of the largest price a Money holds: a subtotal no int64 carries."""
    channel = shop.channel_for(PRICE)
    product = shop.deliverable_product()
    try:
        package = shop.catalog.package(product.id, price=LARGEST_AMOUNT)
    except grpc.RpcError as error:
        if code_of(error) != grpc.StatusCode.INVALID_ARGUMENT:
            raise
        pytest.skip(f"the catalog refuses a price of {LARGEST_AMOUNT}")
    expect_reason(
        lambda: shop.create(shop.request((package.id, 2), channel=channel.code)),
        PaymentReason.Name(PaymentReason.AMOUNT_OUT_OF_RANGE),
        metadata={"channel_code": channel.code, "max_amount": str(channel.max_amount.amount)},
    )
    assert shop.stock(package.id) == [10]


def test_packages_priced_in_two_currencies_are_ordered_separately(shop: Shop) -> None:
    """MIXED_CURRENCIES, when the catalog takes a price in a second currency at all."""
    [rupiah_package] = shop.packages((10,))
    other = admin_pb2.CreatePackageRequest(
        product_id=rupiah_package.product_id,
        package=product_pb2.Package(
            id=shop.order.run.new("pkg"),
            display_name="Priced in dollars",
            price=money_pb2.Money(currency_code="USD", amount=PRICE),
            stock_available=10,
        ),
    )
    try:
        shop.catalog.admin.CreatePackage(other, metadata=shop.product.admin_metadata, timeout=10)
    except grpc.RpcError as error:
        if code_of(error) != grpc.StatusCode.INVALID_ARGUMENT:
            raise
        pytest.skip(f"the catalog sells in one currency only: {cast(grpc.Call, error).details()}")
    expect_reason(
        lambda: shop.create(shop.request((rupiah_package.id, 1), (other.package.id, 1))),
        ErrorReason.Name(ErrorReason.MIXED_CURRENCIES),
    )
