"""ReserveStock, CommitReservation and ReleaseReservation through the real server."""

from __future__ import annotations

import grpc
import peewee
import pytest
from support import Admin, row_counts

from pasar.product.v1 import product_pb2, product_service_pb2
from pasar.product.v1.error_reason_pb2 import ErrorReason
from pasar.product.v1.product_service_pb2_grpc import ProductServiceStub
from pasar_testkit.assertions import error_metadata, reason_of, refused

Line = product_pb2.StockLine


def reserve(stub: ProductServiceStub, order_id: str, *lines: tuple[str, int]) -> product_pb2.Reservation:
    request = product_service_pb2.ReserveStockRequest(
        order_id=order_id,
        lines=[Line(package_id=package_id, quantity=quantity) for package_id, quantity in lines],
    )
    return stub.ReserveStock(request, timeout=10).reservation


def commit(stub: ProductServiceStub, order_id: str) -> product_pb2.Reservation:
    request = product_service_pb2.CommitReservationRequest(order_id=order_id)
    return stub.CommitReservation(request, timeout=10).reservation


def release(stub: ProductServiceStub, order_id: str) -> product_pb2.Reservation:
    request = product_service_pb2.ReleaseReservationRequest(order_id=order_id)
    return stub.ReleaseReservation(request, timeout=10).reservation


def stock_of(stub: ProductServiceStub, *package_ids: str) -> list[int]:
    request = product_service_pb2.BatchGetPackagesRequest(ids=list(package_ids))
    return [package.stock_available for package in stub.BatchGetPackages(request, timeout=10).packages]


@pytest.fixture
def packages(admin: Admin) -> list[str]:
    """Two packages of one product, with 5 and 3 units."""
    admin.category("pulsa")
    return admin.product_with_packages("pulsa-nusantara", "pulsa", stocks=(5, 3))


def test_a_reservation_holds_every_line(stub: ProductServiceStub, packages: list[str]) -> None:
    a, b = packages
    held = reserve(stub, "ord_1", (b, 2), (a, 1))
    assert held.order_id == "ord_1"
    assert held.state == product_pb2.RESERVATION_STATE_RESERVED
    assert [(line.package_id, line.quantity) for line in held.lines] == [(b, 2), (a, 1)]
    assert held.create_time == held.update_time
    assert held.create_time.seconds > 0
    assert stock_of(stub, a, b) == [4, 1]


def test_out_of_stock_names_the_package_and_holds_nothing(
    stub: ProductServiceStub, packages: list[str], database: peewee.Database
) -> None:
    a, b = packages
    before = row_counts(database)
    error = refused(lambda: reserve(stub, "ord_1", (a, 5), (b, 4)))
    assert (error.code(), reason_of(error), error_metadata(error)) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        ErrorReason.Name(ErrorReason.OUT_OF_STOCK),
        {"package_id": b, "requested": "4", "available": "3"},
    )
    assert stock_of(stub, a, b) == [5, 3]
    assert row_counts(database) == before


def test_an_unknown_package_is_not_found_and_holds_nothing(
    stub: ProductServiceStub, packages: list[str], database: peewee.Database
) -> None:
    before = row_counts(database)
    error = refused(lambda: reserve(stub, "ord_1", (packages[0], 1), ("tidak-ada", 1)))
    assert (error.code(), reason_of(error), error_metadata(error)) == (
        grpc.StatusCode.NOT_FOUND,
        ErrorReason.Name(ErrorReason.PACKAGE_NOT_FOUND),
        {"package_id": "tidak-ada"},
    )
    assert row_counts(database) == before


def test_packages_of_an_archived_product_cannot_be_reserved(
    stub: ProductServiceStub, packages: list[str], admin: Admin
) -> None:
    admin.archive("pulsa-nusantara")
    error = refused(lambda: reserve(stub, "ord_1", (packages[0], 1)))
    assert (error.code(), reason_of(error)) == (
        grpc.StatusCode.NOT_FOUND,
        ErrorReason.Name(ErrorReason.PACKAGE_NOT_FOUND),
    )


def test_a_retry_returns_the_same_reservation_and_holds_once(
    stub: ProductServiceStub, packages: list[str]
) -> None:
    a, b = packages
    first = reserve(stub, "ord_1", (a, 2), (b, 1))
    assert reserve(stub, "ord_1", (a, 2), (b, 1)) == first
    assert reserve(stub, "ord_1", (b, 1), (a, 2)) == first
    assert stock_of(stub, a, b) == [3, 2]


def test_the_same_order_with_other_lines_is_already_exists(
    stub: ProductServiceStub, packages: list[str]
) -> None:
    a, b = packages
    reserve(stub, "ord_1", (a, 2))
    error = refused(lambda: reserve(stub, "ord_1", (a, 3)))
    assert (error.code(), reason_of(error), error_metadata(error)) == (
        grpc.StatusCode.ALREADY_EXISTS,
        ErrorReason.Name(ErrorReason.RESERVATION_CONFLICT),
        {"order_id": "ord_1"},
    )
    error = refused(lambda: reserve(stub, "ord_1", (a, 2), (b, 1)))
    assert reason_of(error) == ErrorReason.Name(ErrorReason.RESERVATION_CONFLICT)
    assert stock_of(stub, a, b) == [3, 3]


def test_order_ids_differing_only_in_case_are_other_orders(
    stub: ProductServiceStub, packages: list[str]
) -> None:
    """Order ids are case-sensitive (the contract's pattern allows both cases): on MariaDB,
    whose default collation ignores case, order_id is compared byte for byte."""
    a, b = packages
    lower = reserve(stub, "ORD-abc", (a, 1))
    upper = reserve(stub, "ord-ABC", (a, 2), (b, 1))
    assert (lower.order_id, upper.order_id) == ("ORD-abc", "ord-ABC")
    assert [(line.package_id, line.quantity) for line in upper.lines] == [(a, 2), (b, 1)]
    assert stock_of(stub, a, b) == [2, 2]
    assert commit(stub, "ord-ABC").state == product_pb2.RESERVATION_STATE_COMMITTED
    assert release(stub, "ORD-abc").state == product_pb2.RESERVATION_STATE_RELEASED
    assert stock_of(stub, a, b) == [3, 2]
    assert reserve(stub, "ord-ABC", (a, 2), (b, 1)).state == product_pb2.RESERVATION_STATE_COMMITTED


def test_commit_sells_the_units_and_can_be_repeated(stub: ProductServiceStub, packages: list[str]) -> None:
    a, _ = packages
    reserve(stub, "ord_1", (a, 2))
    committed = commit(stub, "ord_1")
    assert committed.state == product_pb2.RESERVATION_STATE_COMMITTED
    assert committed.update_time.ToDatetime() >= committed.create_time.ToDatetime()
    assert commit(stub, "ord_1") == committed
    assert stock_of(stub, a) == [3]
    error = refused(lambda: release(stub, "ord_1"))
    assert (error.code(), reason_of(error), error_metadata(error)) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        ErrorReason.Name(ErrorReason.RESERVATION_COMMITTED),
        {"order_id": "ord_1"},
    )
    assert stock_of(stub, a) == [3]


def test_release_returns_the_units_once_and_can_be_repeated(
    stub: ProductServiceStub, packages: list[str]
) -> None:
    a, b = packages
    reserve(stub, "ord_1", (a, 2), (b, 3))
    released = release(stub, "ord_1")
    assert released.state == product_pb2.RESERVATION_STATE_RELEASED
    assert stock_of(stub, a, b) == [5, 3]
    assert release(stub, "ord_1") == released
    assert stock_of(stub, a, b) == [5, 3]
    error = refused(lambda: commit(stub, "ord_1"))
    assert (error.code(), reason_of(error), error_metadata(error)) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        ErrorReason.Name(ErrorReason.RESERVATION_RELEASED),
        {"order_id": "ord_1"},
    )


def test_an_order_that_reserved_nothing_has_nothing_to_commit_or_release(
    stub: ProductServiceStub, packages: list[str]
) -> None:
    for call in (commit, release):
        error = refused(lambda call=call: call(stub, "ord_none"))  # type: ignore[misc]
        assert (error.code(), reason_of(error), error_metadata(error)) == (
            grpc.StatusCode.NOT_FOUND,
            ErrorReason.Name(ErrorReason.RESERVATION_NOT_FOUND),
            {"order_id": "ord_none"},
        )


def test_units_released_can_be_reserved_by_another_order(
    stub: ProductServiceStub, packages: list[str]
) -> None:
    _, b = packages
    reserve(stub, "ord_1", (b, 3))
    assert reason_of(refused(lambda: reserve(stub, "ord_2", (b, 1)))) == ErrorReason.Name(
        ErrorReason.OUT_OF_STOCK
    )
    release(stub, "ord_1")
    assert reserve(stub, "ord_2", (b, 3)).state == product_pb2.RESERVATION_STATE_RESERVED
    assert stock_of(stub, b) == [0]


def test_restocking_adds_to_what_reservations_left(
    stub: ProductServiceStub, packages: list[str], admin: Admin
) -> None:
    a, _ = packages
    reserve(stub, "ord_1", (a, 4))
    package = stub.BatchGetPackages(
        product_service_pb2.BatchGetPackagesRequest(ids=[a]), timeout=10
    ).packages[0]
    package.stock_available = 10
    admin.update_package(package, "stock_available")
    release(stub, "ord_1")
    assert stock_of(stub, a) == [14]
