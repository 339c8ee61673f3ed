"""ReserveStock, CommitReservation and ReleaseReservation through the real server."""

from __future__ import annotations

import grpc
import peewee
import pytest
from support import Admin, failure, row_counts

from pasar.product.v1 import product_pb2, product_service_pb2
from pasar.product.v1.product_service_pb2_grpc import ProductServiceStub

Line = product_pb2.StockLine


def reserve(products: ProductServiceStub, order_id: str, *lines: tuple[str, int]) -> product_pb2.Reservation:
    request = product_service_pb2.ReserveStockRequest(
        order_id=order_id,
        lines=[Line(package_id=package_id, quantity=quantity) for package_id, quantity in lines],
    )
    return products.ReserveStock(request, timeout=10).reservation


def commit(products: ProductServiceStub, order_id: str) -> product_pb2.Reservation:
    request = product_service_pb2.CommitReservationRequest(order_id=order_id)
    return products.CommitReservation(request, timeout=10).reservation


def release(products: ProductServiceStub, order_id: str) -> product_pb2.Reservation:
    request = product_service_pb2.ReleaseReservationRequest(order_id=order_id)
    return products.ReleaseReservation(request, timeout=10).reservation


def stock_of(products: ProductServiceStub, *package_ids: str) -> list[int]:
    request = product_service_pb2.BatchGetPackagesRequest(ids=list(package_ids))
    return [package.stock_available for package in products.BatchGetPackages(request, timeout=10).packages]


@pytest.fixture
def packages(admin: Admin) -> list[str]:
    """Two packages of one product, with 5 and 3 units."""
    admin.category("pulsa")
    return admin.product_with_packages("pulsa-nusantara", "pulsa", stocks=(5, 3))


def test_a_reservation_holds_every_line(products: ProductServiceStub, packages: list[str]) -> None:
    a, b = packages
    held = reserve(products, "ord_1", (b, 2), (a, 1))
    assert held.order_id == "ord_1"
    assert held.state == product_pb2.RESERVATION_STATE_RESERVED
    assert [(line.package_id, line.quantity) for line in held.lines] == [(b, 2), (a, 1)]
    assert held.create_time == held.update_time
    assert held.create_time.seconds > 0
    assert stock_of(products, a, b) == [4, 1]


def test_out_of_stock_names_the_package_and_holds_nothing(
    products: ProductServiceStub, packages: list[str], database: peewee.Database
) -> None:
    a, b = packages
    before = row_counts(database)
    refused = failure(lambda: reserve(products, "ord_1", (a, 5), (b, 4)))
    assert (refused.code, refused.reason, refused.metadata) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "OUT_OF_STOCK",
        {"package_id": b, "requested": "4", "available": "3"},
    )
    assert stock_of(products, a, b) == [5, 3]
    assert row_counts(database) == before


def test_an_unknown_package_is_not_found_and_holds_nothing(
    products: ProductServiceStub, packages: list[str], database: peewee.Database
) -> None:
    before = row_counts(database)
    refused = failure(lambda: reserve(products, "ord_1", (packages[0], 1), ("tidak-ada", 1)))
    assert (refused.code, refused.reason, refused.metadata) == (
        grpc.StatusCode.NOT_FOUND,
        "PACKAGE_NOT_FOUND",
        {"package_id": "tidak-ada"},
    )
    assert row_counts(database) == before


def test_packages_of_an_archived_product_cannot_be_reserved(
    products: ProductServiceStub, packages: list[str], admin: Admin
) -> None:
    admin.archive("pulsa-nusantara")
    refused = failure(lambda: reserve(products, "ord_1", (packages[0], 1)))
    assert (refused.code, refused.reason) == (grpc.StatusCode.NOT_FOUND, "PACKAGE_NOT_FOUND")


def test_a_retry_returns_the_same_reservation_and_holds_once(
    products: ProductServiceStub, packages: list[str]
) -> None:
    a, b = packages
    first = reserve(products, "ord_1", (a, 2), (b, 1))
    assert reserve(products, "ord_1", (a, 2), (b, 1)) == first
    assert reserve(products, "ord_1", (b, 1), (a, 2)) == first
    assert stock_of(products, a, b) == [3, 2]


def test_the_same_order_with_other_lines_is_already_exists(
    products: ProductServiceStub, packages: list[str]
) -> None:
    a, b = packages
    reserve(products, "ord_1", (a, 2))
    refused = failure(lambda: reserve(products, "ord_1", (a, 3)))
    assert (refused.code, refused.reason, refused.metadata) == (
        grpc.StatusCode.ALREADY_EXISTS,
        "RESERVATION_CONFLICT",
        {"order_id": "ord_1"},
    )
    refused = failure(lambda: reserve(products, "ord_1", (a, 2), (b, 1)))
    assert refused.reason == "RESERVATION_CONFLICT"
    assert stock_of(products, a, b) == [3, 3]


def test_commit_sells_the_units_and_can_be_repeated(
    products: ProductServiceStub, packages: list[str]
) -> None:
    a, _ = packages
    reserve(products, "ord_1", (a, 2))
    committed = commit(products, "ord_1")
    assert committed.state == product_pb2.RESERVATION_STATE_COMMITTED
    assert committed.update_time.ToDatetime() >= committed.create_time.ToDatetime()
    assert commit(products, "ord_1") == committed
    assert stock_of(products, a) == [3]
    refused = failure(lambda: release(products, "ord_1"))
    assert (refused.code, refused.reason, refused.metadata) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "RESERVATION_COMMITTED",
        {"order_id": "ord_1"},
    )
    assert stock_of(products, a) == [3]


def test_release_returns_the_units_once_and_can_be_repeated(
    products: ProductServiceStub, packages: list[str]
) -> None:
    a, b = packages
    reserve(products, "ord_1", (a, 2), (b, 3))
    released = release(products, "ord_1")
    assert released.state == product_pb2.RESERVATION_STATE_RELEASED
    assert stock_of(products, a, b) == [5, 3]
    assert release(products, "ord_1") == released
    assert stock_of(products, a, b) == [5, 3]
    refused = failure(lambda: commit(products, "ord_1"))
    assert (refused.code, refused.reason, refused.metadata) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        "RESERVATION_RELEASED",
        {"order_id": "ord_1"},
    )


def test_an_order_that_reserved_nothing_has_nothing_to_commit_or_release(
    products: ProductServiceStub, packages: list[str]
) -> None:
    for call in (commit, release):
        refused = failure(lambda call=call: call(products, "ord_none"))  # type: ignore[misc]
        assert (refused.code, refused.reason, refused.metadata) == (
            grpc.StatusCode.NOT_FOUND,
            "RESERVATION_NOT_FOUND",
            {"order_id": "ord_none"},
        )


def test_units_released_can_be_reserved_by_another_order(
    products: ProductServiceStub, packages: list[str]
) -> None:
    _, b = packages
    reserve(products, "ord_1", (b, 3))
    assert failure(lambda: reserve(products, "ord_2", (b, 1))).reason == "OUT_OF_STOCK"
    release(products, "ord_1")
    assert reserve(products, "ord_2", (b, 3)).state == product_pb2.RESERVATION_STATE_RESERVED
    assert stock_of(products, b) == [0]


def test_restocking_adds_to_what_reservations_left(
    products: ProductServiceStub, packages: list[str], admin: Admin
) -> None:
    a, _ = packages
    reserve(products, "ord_1", (a, 4))
    package = products.BatchGetPackages(
        product_service_pb2.BatchGetPackagesRequest(ids=[a]), timeout=10
    ).packages[0]
    package.stock_available = 10
    admin.update_package(package, "stock_available")
    release(products, "ord_1")
    assert stock_of(products, a) == [14]
