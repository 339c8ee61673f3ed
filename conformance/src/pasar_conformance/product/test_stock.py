"""Stock reservations: all lines or none, retries, commit and release, and stock under concurrency."""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from functools import partial

import grpc
import pytest

from pasar.product.v1 import product_pb2
from pasar.product.v1 import product_service_pb2 as catalog_pb2
from pasar.product.v1 import product_service_pb2_grpc as catalog_grpc
from pasar.product.v1.error_reason_pb2 import ErrorReason
from pasar_conformance.answers import code_of, error_info, expect_reason, retrying
from pasar_conformance.product.seed import Catalog
from pasar_conformance.target import CALL_TIMEOUT_SECONDS, Target

OUT_OF_STOCK = ErrorReason.Name(ErrorReason.OUT_OF_STOCK)
# The race: this many reservations of one unit each, at once, on a stock of RACE_STOCK.
RACE_CALLS = 50
RACE_STOCK = 10


class Stock:
    """ProductService's stock methods, called as the order service (the caller token)."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.stub = catalog_grpc.ProductServiceStub(target.channel)
        self.metadata = target.caller_metadata

    def order(self) -> str:
        return self.target.run.new("order")

    def reserve(self, order_id: str, *lines: tuple[str, int]) -> product_pb2.Reservation:
        request = catalog_pb2.ReserveStockRequest(
            order_id=order_id, lines=[product_pb2.StockLine(package_id=p, quantity=q) for p, q in lines]
        )
        return self.stub.ReserveStock(
            request, metadata=self.metadata, timeout=CALL_TIMEOUT_SECONDS
        ).reservation

    def commit(self, order_id: str) -> product_pb2.Reservation:
        request = catalog_pb2.CommitReservationRequest(order_id=order_id)
        return self.stub.CommitReservation(
            request, metadata=self.metadata, timeout=CALL_TIMEOUT_SECONDS
        ).reservation

    def release(self, order_id: str) -> product_pb2.Reservation:
        request = catalog_pb2.ReleaseReservationRequest(order_id=order_id)
        answer = self.stub.ReleaseReservation(request, metadata=self.metadata, timeout=CALL_TIMEOUT_SECONDS)
        return answer.reservation

    def available(self, *package_ids: str) -> list[int]:
        answer = self.stub.BatchGetPackages(
            catalog_pb2.BatchGetPackagesRequest(ids=list(package_ids)),
            metadata=self.metadata,
            timeout=CALL_TIMEOUT_SECONDS,
        )
        return [p.stock_available for p in answer.packages]


@pytest.fixture(scope="module")
def stock(target: Target) -> Stock:
    return Stock(target)


def ids(packages: Sequence[product_pb2.Package]) -> list[str]:
    return [p.id for p in packages]


def test_a_reservation_holds_every_line(shop: Catalog, stock: Stock) -> None:
    first, second = shop.packages((5, 8))
    order = stock.order()
    reservation = stock.reserve(order, (first.id, 2), (second.id, 3))
    assert reservation.order_id == order
    assert reservation.state == product_pb2.RESERVATION_STATE_RESERVED
    assert sorted((line.package_id, line.quantity) for line in reservation.lines) == sorted(
        [(first.id, 2), (second.id, 3)]
    )
    assert reservation.HasField("create_time")
    assert reservation.expire_time.ToDatetime(UTC) > datetime.now(UTC)
    assert stock.available(first.id, second.id) == [3, 5]


def test_out_of_stock_names_the_package_and_holds_nothing(shop: Catalog, stock: Stock) -> None:
    plenty, short = shop.packages((5, 2))
    order = stock.order()
    expect_reason(
        lambda: stock.reserve(order, (plenty.id, 1), (short.id, 3)),
        OUT_OF_STOCK,
        metadata={"package_id": short.id, "requested": "3", "available": "2"},
    )
    assert stock.available(plenty.id, short.id) == [5, 2]
    expect_reason(lambda: stock.commit(order), ErrorReason.Name(ErrorReason.RESERVATION_NOT_FOUND))


def test_an_unknown_package_or_one_of_an_archived_product_is_not_found(
    shop: Catalog, stock: Stock, target: Target
) -> None:
    unknown = target.run.new("pkg")
    expect_reason(
        lambda: stock.reserve(stock.order(), (unknown, 1)),
        ErrorReason.Name(ErrorReason.PACKAGE_NOT_FOUND),
        metadata={"package_id": unknown},
    )
    [archived] = shop.packages()
    shop.archive(archived.product_id)
    expect_reason(
        lambda: stock.reserve(stock.order(), (archived.id, 1)),
        ErrorReason.Name(ErrorReason.PACKAGE_NOT_FOUND),
        metadata={"package_id": archived.id},
    )


def test_a_retry_returns_the_same_reservation_and_holds_once(shop: Catalog, stock: Stock) -> None:
    [package] = shop.packages((5,))
    order = stock.order()
    first = stock.reserve(order, (package.id, 2))
    assert stock.reserve(order, (package.id, 2)) == first
    assert stock.available(package.id) == [3]


def test_the_same_order_with_other_lines_is_a_conflict(shop: Catalog, stock: Stock) -> None:
    first, second = shop.packages((5, 5))
    order = stock.order()
    stock.reserve(order, (first.id, 1))
    for lines in ([(first.id, 2)], [(second.id, 1)], [(first.id, 1), (second.id, 1)]):
        expect_reason(
            partial(stock.reserve, order, *lines),
            ErrorReason.Name(ErrorReason.RESERVATION_CONFLICT),
            metadata={"order_id": order},
        )
    assert stock.available(first.id, second.id) == [4, 5]


def test_order_ids_differing_only_in_case_are_other_reservations(shop: Catalog, stock: Stock) -> None:
    """The contract's order ids are case-sensitive (``^[A-Za-z0-9_-]+$``)."""
    first, second = shop.packages((5, 5))
    lower = stock.order()
    upper = lower.upper()
    held = stock.reserve(lower, (first.id, 1))
    other = stock.reserve(upper, (first.id, 2), (second.id, 1))
    assert (held.order_id, other.order_id) == (lower, upper), f"{lower} and {upper} share a reservation"
    assert stock.available(first.id, second.id) == [2, 4]
    assert stock.commit(upper).state == product_pb2.RESERVATION_STATE_COMMITTED
    assert stock.release(lower).state == product_pb2.RESERVATION_STATE_RELEASED
    assert stock.available(first.id, second.id) == [3, 4]


def test_commit_sells_the_units_and_a_repeat_answers_the_same(shop: Catalog, stock: Stock) -> None:
    [package] = shop.packages((5,))
    order = stock.order()
    stock.reserve(order, (package.id, 2))
    committed = stock.commit(order)
    assert committed.state == product_pb2.RESERVATION_STATE_COMMITTED
    assert stock.commit(order) == committed
    assert stock.available(package.id) == [3]
    expect_reason(
        lambda: stock.release(order),
        ErrorReason.Name(ErrorReason.RESERVATION_COMMITTED),
        metadata={"order_id": order},
    )
    assert stock.available(package.id) == [3]


def test_release_returns_the_units_once_and_a_repeat_answers_the_same(shop: Catalog, stock: Stock) -> None:
    [package] = shop.packages((5,))
    order = stock.order()
    stock.reserve(order, (package.id, 2))
    released = stock.release(order)
    assert released.state == product_pb2.RESERVATION_STATE_RELEASED
    assert stock.release(order) == released
    assert stock.available(package.id) == [5]
    expect_reason(
        lambda: stock.commit(order),
        ErrorReason.Name(ErrorReason.RESERVATION_RELEASED),
        metadata={"order_id": order},
    )
    assert stock.available(package.id) == [5]


def test_an_order_that_reserved_nothing_has_nothing_to_commit_or_release(stock: Stock) -> None:
    order = stock.order()
    for call in (stock.commit, stock.release):
        expect_reason(
            partial(call, order),
            ErrorReason.Name(ErrorReason.RESERVATION_NOT_FOUND),
            metadata={"order_id": order},
        )


def test_fifty_parallel_reservations_of_ten_units_sell_exactly_ten_and_stock_never_goes_below_zero(
    shop: Catalog, stock: Stock
) -> None:
    [package] = shop.packages((RACE_STOCK,))
    orders = [stock.order() for _ in range(RACE_CALLS)]
    seen_stock: list[int] = []
    racing = threading.Event()

    def watch() -> None:
        while racing.is_set():
            seen_stock.extend(retrying(lambda: stock.available(package.id)))

    def reserve(order: str) -> str:
        try:
            retrying(lambda: stock.reserve(order, (package.id, 1)))
        except grpc.RpcError as error:
            info = error_info(error)
            return f"{code_of(error).name} {info.reason if info else ''}"
        return "OK"

    racing.set()
    watcher = threading.Thread(target=watch, name="watching-stock")
    watcher.start()
    try:
        with ThreadPoolExecutor(RACE_CALLS) as pool:
            outcomes = list(pool.map(reserve, orders))
    finally:
        racing.clear()
        watcher.join()

    assert Counter(outcomes) == {
        "OK": RACE_STOCK,
        f"FAILED_PRECONDITION {OUT_OF_STOCK}": RACE_CALLS - RACE_STOCK,
    }
    assert stock.available(package.id) == [0]
    assert min(seen_stock, default=0) >= 0, f"stock was seen at {min(seen_stock)}"

    # Every winner's release, each sent three times at once, returns its unit once.
    winners = [order for order, outcome in zip(orders, outcomes, strict=True) if outcome == "OK"]
    with ThreadPoolExecutor(RACE_STOCK) as pool:
        released = list(pool.map(lambda order: retrying(lambda: stock.release(order)), winners * 3))
    assert {r.state for r in released} == {product_pb2.RESERVATION_STATE_RELEASED}
    assert stock.available(package.id) == [RACE_STOCK]


def test_parallel_commits_of_one_reservation_all_answer_it_committed(shop: Catalog, stock: Stock) -> None:
    [package] = shop.packages((5,))
    order = stock.order()
    stock.reserve(order, (package.id, 2))
    with ThreadPoolExecutor(8) as pool:
        answers = list(pool.map(lambda _n: retrying(lambda: stock.commit(order)), range(8)))
    assert {a.state for a in answers} == {product_pb2.RESERVATION_STATE_COMMITTED}
    assert stock.available(package.id) == [3]
