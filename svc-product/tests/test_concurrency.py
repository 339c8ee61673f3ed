"""Stock under concurrency, through the real server, on SQLite and MariaDB: never below zero,
never sold twice, never released twice."""

from __future__ import annotations

import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from typing import TypeVar

import grpc
import peewee
import pytest
from support import Admin

from pasar.product.v1 import product_pb2, product_service_pb2
from pasar.product.v1.error_reason_pb2 import ErrorReason
from pasar.product.v1.product_service_pb2_grpc import ProductServiceStub
from pasar_product.models import (
    Package,
    Product,
    Reservation,
    ReservationLine,
    ReservationState,
)
from pasar_product.search import product_search_text
from pasar_testkit.assertions import reason_of

T = TypeVar("T")


def outcome(call: Callable[[], object]) -> str:
    """ "OK", or the failed call's ErrorInfo reason (or its status code when it has none)."""
    try:
        call()
    except grpc.RpcError as error:
        return reason_of(error) or error.code().name
    return "OK"


def all_at_once(calls: list[Callable[[], T]]) -> tuple[list[T], float]:
    """Runs every call on its own thread, released together; returns the results and the seconds taken."""
    start = threading.Barrier(len(calls))

    def run(call: Callable[[], T]) -> T:
        start.wait()
        return call()

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        results = list(pool.map(run, calls))
    return results, time.perf_counter() - started


def reserve_call(
    stub: ProductServiceStub, order_id: str, package_id: str, quantity: int
) -> Callable[[], object]:
    request = product_service_pb2.ReserveStockRequest(
        order_id=order_id, lines=[product_pb2.StockLine(package_id=package_id, quantity=quantity)]
    )
    return lambda: stub.ReserveStock(request, timeout=60)


def commit_call(stub: ProductServiceStub, order_id: str) -> Callable[[], object]:
    request = product_service_pb2.CommitReservationRequest(order_id=order_id)
    return lambda: stub.CommitReservation(request, timeout=60)


def release_call(stub: ProductServiceStub, order_id: str) -> Callable[[], object]:
    request = product_service_pb2.ReleaseReservationRequest(order_id=order_id)
    return lambda: stub.ReleaseReservation(request, timeout=60)


def stock_now(database: peewee.Database, package_id: str) -> int:
    with database.connection_context():
        units: int = Package.get_by_id(package_id).stock_available
        return units


def held_units(database: peewee.Database, package_id: str) -> int:
    """Units of package_id in reservations that still hold them (reserved or sold)."""
    with database.connection_context():
        total = (
            ReservationLine.select(peewee.fn.COALESCE(peewee.fn.SUM(ReservationLine.quantity), 0))
            .join(Reservation)
            .where(
                (ReservationLine.package == package_id)
                & Reservation.state.in_([ReservationState.RESERVED, ReservationState.COMMITTED])
            )
            .scalar()
        )
        return int(total)


@pytest.fixture
def package_id(admin: Admin) -> str:
    admin.category("pulsa")
    return admin.product_with_packages("pulsa-nusantara", "pulsa", stocks=(10,))[0]


def test_fifty_parallel_reservations_of_ten_units_sell_exactly_ten(
    stub: ProductServiceStub, database: peewee.Database, package_id: str, database_kind: str
) -> None:
    calls = [reserve_call(stub, f"ord_{number:02d}", package_id, 1) for number in range(50)]
    results, seconds = all_at_once([lambda call=call: outcome(call) for call in calls])  # type: ignore[misc]
    counts = Counter(results)
    out_of_stock = ErrorReason.Name(ErrorReason.OUT_OF_STOCK)
    final_stock = stock_now(database, package_id)
    print(
        f"\n[figures] {database_kind}: 50 parallel ReserveStock (quantity 1, stock 10): "
        f"{counts['OK']} reserved, {counts[out_of_stock]} out of stock, final stock {final_stock}, "
        f"{seconds:.2f} s"
    )
    assert counts == {"OK": 10, out_of_stock: 40}
    assert final_stock == 0
    with database.connection_context():
        assert Reservation.select().count() == 10
        assert ReservationLine.select().count() == 10
    assert held_units(database, package_id) == 10


def test_a_mix_of_reservations_and_releases_never_drives_stock_below_zero(
    stub: ProductServiceStub, database: peewee.Database, admin: Admin, database_kind: str
) -> None:
    initial = 20
    admin.category("pulsa")
    package_id = admin.product_with_packages("pulsa-samudra", "pulsa", stocks=(initial,))[0]
    stop = threading.Event()
    lowest = [initial]

    def watch() -> None:
        # A reader that pauses between reads, as a real one does: one that never pauses
        # holds the GIL the server's threads need to finish their transactions.
        while not stop.wait(0.001):
            lowest[0] = min(lowest[0], stock_now(database, package_id))

    def shopper(number: int) -> Counter[str]:
        chance = random.Random(number)
        seen: Counter[str] = Counter()
        for attempt in range(12):
            order_id = f"ord_{number}_{attempt}"
            result = outcome(reserve_call(stub, order_id, package_id, chance.randint(1, 3)))
            seen[f"reserve {result}"] += 1
            if result != "OK":
                continue
            roll = chance.random()
            if roll < 0.85:
                seen[f"release {outcome(release_call(stub, order_id))}"] += 1
            elif roll < 0.93:
                seen[f"commit {outcome(commit_call(stub, order_id))}"] += 1
        return seen

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        results, seconds = all_at_once([lambda number=number: shopper(number) for number in range(12)])  # type: ignore[misc]
    finally:
        stop.set()
        watcher.join()
    totals: Counter[str] = sum(results, Counter())
    final_stock = stock_now(database, package_id)
    print(
        f"\n[figures] {database_kind}: 12 shoppers x 12 reserve/release/commit rounds on stock {initial}: "
        f"{dict(sorted(totals.items()))}, lowest stock seen {lowest[0]}, final stock {final_stock}, "
        f"{seconds:.2f} s"
    )
    assert set(totals) <= {"reserve OK", "reserve OUT_OF_STOCK", "release OK", "commit OK"}
    assert totals["reserve OK"] > 0
    assert totals["reserve OUT_OF_STOCK"] > 0
    assert totals["release OK"] > 0
    assert lowest[0] >= 0
    assert final_stock >= 0
    assert final_stock + held_units(database, package_id) == initial, "every unit is either in stock or held"


def test_parallel_retries_of_one_reservation_hold_the_units_once(
    stub: ProductServiceStub, database: peewee.Database, package_id: str
) -> None:
    request = product_service_pb2.ReserveStockRequest(
        order_id="ord_retried", lines=[product_pb2.StockLine(package_id=package_id, quantity=3)]
    )
    results, _ = all_at_once([lambda: stub.ReserveStock(request, timeout=60).reservation for _ in range(20)])
    assert all(result == results[0] for result in results)
    assert results[0].state == product_pb2.RESERVATION_STATE_RESERVED
    assert stock_now(database, package_id) == 7
    with database.connection_context():
        assert Reservation.select().count() == 1


def test_parallel_releases_return_the_units_once(
    stub: ProductServiceStub, database: peewee.Database, package_id: str
) -> None:
    reserve_call(stub, "ord_released", package_id, 4)()
    request = product_service_pb2.ReleaseReservationRequest(order_id="ord_released")
    results, _ = all_at_once(
        [lambda: stub.ReleaseReservation(request, timeout=60).reservation for _ in range(20)]
    )
    assert {result.state for result in results} == {product_pb2.RESERVATION_STATE_RELEASED}
    assert stock_now(database, package_id) == 10


def test_a_commit_racing_a_release_ends_in_one_consistent_state(
    stub: ProductServiceStub, database: peewee.Database, package_id: str
) -> None:
    for round_number in range(5):
        order_id = f"ord_race_{round_number}"
        reserve_call(stub, order_id, package_id, 2)()
        commit, release = commit_call(stub, order_id), release_call(stub, order_id)
        calls: list[Callable[[], str]] = [partial(outcome, commit), partial(outcome, release)] * 3
        results, _ = all_at_once(calls)
        commits, releases = results[0::2], results[1::2]
        if "OK" in commits:
            assert set(commits) == {"OK"}
            assert set(releases) == {ErrorReason.Name(ErrorReason.RESERVATION_COMMITTED)}
        else:
            assert set(commits) == {ErrorReason.Name(ErrorReason.RESERVATION_RELEASED)}
            assert set(releases) == {"OK"}
    assert stock_now(database, package_id) + held_units(database, package_id) == 10


def test_racing_creations_of_one_id_make_one_row_and_already_exists_answers(
    admin: Admin, database: peewee.Database, package_id: str
) -> None:
    products_made, _ = all_at_once(
        [lambda: outcome(lambda: admin.product("pulsa-kembar", "pulsa")) for _ in range(10)]
    )
    packages_made, _ = all_at_once(
        [lambda: outcome(lambda: admin.package("pulsa-kembar", "pulsa-kembar-10k")) for _ in range(10)]
    )
    assert Counter(products_made) == {"OK": 1, ErrorReason.Name(ErrorReason.PRODUCT_EXISTS): 9}
    assert Counter(packages_made) == {"OK": 1, ErrorReason.Name(ErrorReason.PACKAGE_EXISTS): 9}
    with database.connection_context():
        assert Package.select().where(Package.product == "pulsa-kembar").count() == 1


def test_racing_updates_of_a_products_names_and_keywords_leave_its_search_text_whole(
    admin: Admin, stub: ProductServiceStub, database: peewee.Database, package_id: str
) -> None:
    """The search text is made of the name, the English name and the keywords; updates of
    each racing one another (each reads the others) queue on the product's row, so the text
    ends made of the values that are stored, and every one of them is found."""
    calls: list[Callable[[], str]] = []
    for round_ in range(6):
        changes = (
            (product_pb2.Product(id="pulsa-nusantara", display_name=f"Pulsa Nama{round_}"), "display_name"),
            (
                product_pb2.Product(id="pulsa-nusantara", display_name_en=f"Credit English{round_}"),
                "display_name_en",
            ),
            (product_pb2.Product(id="pulsa-nusantara", search_keywords=[f"kata{round_}"]), "search_keywords"),
        )
        calls += [partial(outcome, partial(admin.update_product, change, path)) for change, path in changes]
    random.Random(15).shuffle(calls)
    outcomes, _ = all_at_once(calls)
    assert set(outcomes) == {"OK"}
    product = stub.GetProduct(product_service_pb2.GetProductRequest(id="pulsa-nusantara"), timeout=10).product
    with database.connection_context():
        stored = Product.select(Product.search_text).where(Product.id == "pulsa-nusantara").scalar()
    assert stored == product_search_text(
        product.display_name, product.display_name_en, product.search_keywords
    )
    for word in (
        product.display_name.split()[-1],
        product.display_name_en.split()[-1],
        product.search_keywords[0],
    ):
        found = stub.ListProducts(product_service_pb2.ListProductsRequest(query=word), timeout=10).products
        assert [listed.id for listed in found] == ["pulsa-nusantara"], word
