"""CreateOrder and destinations: each line's destination is checked against its product's
destination fields before anything is held (INVALID_DESTINATION naming the value's path),
kept on the order's line, and part of what a request id stands for; a product that declares
no delivery kind is not sold (PACKAGE_NOT_DELIVERABLE, nothing held)."""

from __future__ import annotations

from functools import partial

import pytest

from pasar.common.v1.error_reason_pb2 import ErrorReason as CommonReason
from pasar.order.v1 import order_service_pb2 as order_pb
from pasar.order.v1.error_reason_pb2 import ErrorReason
from pasar.product.v1 import product_pb2
from pasar_conformance.answers import expect_reason, refused, violated_fields
from pasar_conformance.destination_fields import PHONE_EXAMPLE
from pasar_conformance.order.shop import Shop

INVALID_DESTINATION = CommonReason.Name(CommonReason.INVALID_DESTINATION)
PHONE = PHONE_EXAMPLE


def phone_package(shop: Shop, stock: int = 10) -> product_pb2.Package:
    """A package of a new product that asks for a phone number of one operator."""
    return shop.phone_package(stock)


def with_destination(
    request: order_pb.CreateOrderRequest, index: int, **values: str
) -> order_pb.CreateOrderRequest:
    request.lines[index].destination.update(values)
    return request


@pytest.mark.parametrize(
    ("values", "field"),
    [
        pytest.param({}, "phone_number", id="missing"),
        pytest.param({"phone_number": PHONE, "zone_id": "1234"}, "zone_id", id="unknown-key"),
        pytest.param({"phone_number": "08123"}, "phone_number", id="too-short"),
        pytest.param({"phone_number": "08123456789012"}, "phone_number", id="too-long"),
        pytest.param({"phone_number": "081734567890"}, "phone_number", id="prefix"),
        pytest.param({"phone_number": "0812 3456789"}, "phone_number", id="pattern"),
    ],
)
def test_a_destination_that_breaks_its_products_fields_is_refused_and_nothing_is_held(
    shop: Shop, values: dict[str, str], field: str
) -> None:
    [plain] = shop.packages((10,))
    phone = phone_package(shop)
    request = with_destination(shop.request((plain.id, 1), (phone.id, 1)), 1, **values)

    error = refused(partial(shop.create, request))
    expect_reason(error, INVALID_DESTINATION, metadata={"product_id": phone.product_id, "field": field})
    assert violated_fields(error) == [f'lines[1].destination["{field}"]']
    assert shop.stock(plain.id, phone.id) == [10, 10]


def test_a_product_without_a_delivery_kind_is_refused_and_nothing_is_held(shop: Shop) -> None:
    [plain] = shop.packages((10,))
    catalog = shop.catalog
    product = catalog.product(catalog.shared_category(), delivery_kind=product_pb2.DELIVERY_KIND_UNSPECIFIED)
    undeliverable = catalog.package(product.id, stock=10)

    expect_reason(
        partial(shop.create, shop.request((plain.id, 1), (undeliverable.id, 1))),
        ErrorReason.Name(ErrorReason.PACKAGE_NOT_DELIVERABLE),
        metadata={"package_id": undeliverable.id, "product_id": product.id},
    )
    assert shop.stock(plain.id, undeliverable.id) == [10, 10]


def test_a_product_without_destination_fields_takes_no_destination(shop: Shop) -> None:
    [plain] = shop.packages((10,))
    request = with_destination(shop.request((plain.id, 1)), 0, user_id="12345")
    expect_reason(
        partial(shop.create, request),
        INVALID_DESTINATION,
        metadata={"product_id": plain.product_id, "field": "user_id"},
    )
    assert shop.stock(plain.id) == [10]


def test_the_order_keeps_each_lines_destination(shop: Shop) -> None:
    [plain] = shop.packages((10,))
    phone = phone_package(shop)
    placed = shop.place(with_destination(shop.request((phone.id, 1), (plain.id, 1)), 0, phone_number=PHONE))

    lines = {line.package_id: dict(line.destination) for line in placed.order.lines}
    assert lines == {phone.id: {"phone_number": PHONE}, plain.id: {}}
    read = shop.get(placed.order.id, placed.access_token)
    assert {line.package_id: dict(line.destination) for line in read.lines} == lines
    assert shop.stock(phone.id) == [9]


def test_a_request_id_stands_for_its_destinations_too(shop: Shop) -> None:
    phone = phone_package(shop)
    request = with_destination(shop.request((phone.id, 1)), 0, phone_number=PHONE)
    first = shop.place(request)
    assert shop.place(request).order.id == first.order.id

    other = order_pb.CreateOrderRequest()
    other.CopyFrom(request)
    other.lines[0].destination["phone_number"] = "081299999999"
    expect_reason(partial(shop.create, other), ErrorReason.Name(ErrorReason.REQUEST_ID_REUSED))
    assert shop.stock(phone.id) == [9]
