"""The stock domain on each database: all-or-nothing holds, idempotent retries, one release."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

import peewee
import pytest

from pasar.product.v1.error_reason_pb2 import ErrorReason
from pasar_kit.errors import AlreadyExists, FailedPrecondition, NotFound, ServiceError
from pasar_kit.timestamps import utc_now
from pasar_product.models import (
    Category,
    Package,
    Product,
    ProductState,
    Reservation,
    ReservationLine,
    ReservationState,
)
from pasar_product.stock import HeldStock, Stock, StockLine


@pytest.fixture
def stock(connected: peewee.Database) -> Stock:
    """Stock on a catalog of two products: pulsa (a: 5, b: 3 units) and an archived one (z: 9)."""
    now = utc_now()
    Category.create(
        id="pulsa",
        display_name="Pulsa",
        display_name_en="",
        search_text="pulsa",
        sort_order=0,
        create_time=now,
        update_time=now,
    )
    for product_id, state in (
        ("pulsa-nusantara", ProductState.ACTIVE),
        ("pulsa-lama", ProductState.ARCHIVED),
    ):
        Product.create(
            id=product_id,
            category="pulsa",
            display_name=product_id,
            display_name_en="",
            search_keywords="[]",
            search_text=product_id,
            description="",
            description_en="",
            image_url="",
            destination_fields="[]",
            state=state,
            create_time=now,
            update_time=now,
        )
    for package_id, product_id, units in (
        ("a", "pulsa-nusantara", 5),
        ("b", "pulsa-nusantara", 3),
        ("z", "pulsa-lama", 9),
    ):
        Package.create(
            id=package_id,
            product=product_id,
            display_name=package_id,
            display_name_en="",
            description="",
            description_en="",
            price=10_000,
            stock_available=units,
            sort_order=0,
            create_time=now,
            update_time=now,
        )
    return Stock(connected)


def units() -> dict[str, int]:
    return {package.id: package.stock_available for package in Package.select()}


def raised(call: object) -> ServiceError:
    assert callable(call)
    with pytest.raises(ServiceError) as caught:
        call()
    return caught.value


def test_a_reservation_takes_the_units_of_every_line(stock: Stock) -> None:
    held = stock.reserve("ord-1", [StockLine("b", 2), StockLine("a", 1)])
    assert (held.order_id, held.state) == ("ord-1", ReservationState.RESERVED)
    assert held.lines == (StockLine("b", 2), StockLine("a", 1))  # the request's order
    assert units() == {"a": 4, "b": 1, "z": 9}


def test_one_short_line_reserves_nothing(stock: Stock) -> None:
    error = raised(lambda: stock.reserve("ord-1", [StockLine("a", 5), StockLine("b", 4)]))
    assert isinstance(error, FailedPrecondition)
    assert (error.reason, error.metadata) == (
        ErrorReason.Name(ErrorReason.OUT_OF_STOCK),
        {"package_id": "b", "requested": "4", "available": "3"},
    )
    assert units() == {"a": 5, "b": 3, "z": 9}
    assert Reservation.select().count() == ReservationLine.select().count() == 0


def test_the_last_units_can_be_reserved_and_then_none(stock: Stock) -> None:
    stock.reserve("ord-1", [StockLine("b", 3)])
    error = raised(lambda: stock.reserve("ord-2", [StockLine("b", 1)]))
    assert error.metadata == {"package_id": "b", "requested": "1", "available": "0"}
    assert units()["b"] == 0


@pytest.mark.parametrize("package_id", ["missing", "z"])
def test_unknown_packages_and_those_of_archived_products_are_not_found(stock: Stock, package_id: str) -> None:
    error = raised(lambda: stock.reserve("ord-1", [StockLine("a", 1), StockLine(package_id, 1)]))
    assert isinstance(error, NotFound)
    assert (error.reason, error.metadata) == (
        ErrorReason.Name(ErrorReason.PACKAGE_NOT_FOUND),
        {"package_id": package_id},
    )
    assert units() == {"a": 5, "b": 3, "z": 9}
    assert Reservation.select().count() == 0


def test_a_retry_returns_the_reservation_unchanged(stock: Stock) -> None:
    first = stock.reserve("ord-1", [StockLine("a", 2), StockLine("b", 1)])
    again = stock.reserve("ord-1", [StockLine("b", 1), StockLine("a", 2)])
    assert again == first
    assert units() == {"a": 3, "b": 2, "z": 9}


def test_a_retry_after_the_stock_ran_out_still_returns_the_reservation(stock: Stock) -> None:
    first = stock.reserve("ord-1", [StockLine("b", 3)])
    assert stock.reserve("ord-1", [StockLine("b", 3)]) == first


@pytest.mark.parametrize(
    "lines",
    [[StockLine("a", 3)], [StockLine("a", 2)], [StockLine("a", 2), StockLine("b", 2)], [StockLine("b", 2)]],
)
def test_the_same_order_with_other_lines_is_a_conflict(stock: Stock, lines: list[StockLine]) -> None:
    stock.reserve("ord-1", [StockLine("a", 2), StockLine("b", 1)])
    error = raised(lambda: stock.reserve("ord-1", lines))
    assert isinstance(error, AlreadyExists)
    assert (error.reason, error.metadata) == (
        ErrorReason.Name(ErrorReason.RESERVATION_CONFLICT),
        {"order_id": "ord-1"},
    )
    assert units() == {"a": 3, "b": 2, "z": 9}


def test_release_returns_the_units_once(stock: Stock) -> None:
    stock.reserve("ord-1", [StockLine("a", 2), StockLine("b", 3)])
    released = stock.release("ord-1")
    assert released.state == ReservationState.RELEASED
    assert units() == {"a": 5, "b": 3, "z": 9}
    assert stock.release("ord-1") == released
    assert units() == {"a": 5, "b": 3, "z": 9}


def test_commit_keeps_the_units_out_of_stock_and_is_idempotent(stock: Stock) -> None:
    stock.reserve("ord-1", [StockLine("a", 2)])
    committed = stock.commit("ord-1")
    assert committed.state == ReservationState.COMMITTED
    assert committed.update_time >= committed.create_time
    assert stock.commit("ord-1") == committed
    assert units()["a"] == 3


def test_a_committed_reservation_cannot_be_released(stock: Stock) -> None:
    stock.reserve("ord-1", [StockLine("a", 2)])
    stock.commit("ord-1")
    error = raised(lambda: stock.release("ord-1"))
    assert isinstance(error, FailedPrecondition)
    assert (error.reason, error.metadata) == (
        ErrorReason.Name(ErrorReason.RESERVATION_COMMITTED),
        {"order_id": "ord-1"},
    )
    assert units()["a"] == 3


def test_a_released_reservation_cannot_be_committed(stock: Stock) -> None:
    stock.reserve("ord-1", [StockLine("a", 2)])
    stock.release("ord-1")
    error = raised(lambda: stock.commit("ord-1"))
    assert isinstance(error, FailedPrecondition)
    assert (error.reason, error.metadata) == (
        ErrorReason.Name(ErrorReason.RESERVATION_RELEASED),
        {"order_id": "ord-1"},
    )


def test_commit_and_release_of_an_order_that_reserved_nothing_are_not_found(stock: Stock) -> None:
    for call in (stock.commit, stock.release):
        error = raised(lambda call=call: call("ord-none"))
        assert isinstance(error, NotFound)
        assert (error.reason, error.metadata) == (
            ErrorReason.Name(ErrorReason.RESERVATION_NOT_FOUND),
            {"order_id": "ord-none"},
        )


def test_a_released_order_id_is_not_reserved_again(stock: Stock) -> None:
    stock.reserve("ord-1", [StockLine("a", 2)])
    stock.release("ord-1")
    again = stock.reserve("ord-1", [StockLine("a", 2)])
    assert again.state == ReservationState.RELEASED
    assert units()["a"] == 5


def test_the_database_refuses_negative_stock(stock: Stock, connected: peewee.Database) -> None:
    # SQLite reports a broken CHECK as an integrity error, MariaDB as error 4025.
    with pytest.raises((peewee.IntegrityError, peewee.OperationalError)), connected.atomic():
        Package.update(stock_available=-1).where(Package.id == "a").execute()
    assert units()["a"] == 5


def test_held_stock_compares_lines_in_any_order() -> None:
    now = utc_now()
    held = HeldStock("o", ReservationState.RESERVED, (StockLine("a", 1), StockLine("b", 2)), now, now)
    assert held.holds([StockLine("b", 2), StockLine("a", 1)])
    assert not held.holds([StockLine("a", 1)])
    assert not held.holds([StockLine("a", 1), StockLine("b", 3)])


def test_a_reservation_nobody_ends_is_released_at_its_expiry_and_once(stock: Stock) -> None:
    now = utc_now()
    held = stock.reserve("ord-1", [StockLine("a", 2), StockLine("b", 3)], now + timedelta(minutes=10))
    assert held.expire_time == now + timedelta(minutes=10)
    assert stock.release_expired(now + timedelta(minutes=9)) == 0
    assert units() == {"a": 3, "b": 0, "z": 9}
    assert stock.release_expired(now + timedelta(minutes=10)) == 1
    assert units() == {"a": 5, "b": 3, "z": 9}
    assert stock.release_expired(now + timedelta(hours=5)) == 0
    assert units() == {"a": 5, "b": 3, "z": 9}
    error = raised(lambda: stock.commit("ord-1"))
    assert (error.reason, error.metadata) == (
        ErrorReason.Name(ErrorReason.RESERVATION_RELEASED),
        {"order_id": "ord-1"},
    )


def test_committed_and_released_reservations_never_expire(stock: Stock) -> None:
    soon = utc_now() + timedelta(minutes=1)
    stock.reserve("ord-sold", [StockLine("a", 2)], soon)
    stock.commit("ord-sold")
    stock.reserve("ord-cancelled", [StockLine("b", 1)], soon)
    stock.release("ord-cancelled")
    assert stock.release_expired(soon + timedelta(days=30)) == 0
    assert units() == {"a": 3, "b": 3, "z": 9}


def test_without_an_expire_time_the_default_lifetime_applies_and_none_exceeds_the_maximum(
    connected: peewee.Database, stock: Stock
) -> None:
    bounded = Stock(connected, default_ttl=timedelta(hours=1), max_ttl=timedelta(hours=3))
    default = bounded.reserve("ord-1", [StockLine("a", 1)])
    assert default.expire_time == default.create_time + timedelta(hours=1)
    capped = bounded.reserve("ord-2", [StockLine("a", 1)], utc_now() + timedelta(days=2))
    assert capped.expire_time == capped.create_time + timedelta(hours=3)
    assert stock.reserve("ord-2", [StockLine("a", 1)]).expire_time == capped.expire_time  # a retry


def test_sweeps_of_several_instances_return_each_expired_reservation_once(
    stock: Stock, database: peewee.Database
) -> None:
    soon = utc_now() + timedelta(seconds=1)
    for number in range(5):
        stock.reserve(f"ord-{number}", [StockLine("a", 1)], soon)
    assert units()["a"] == 0
    sweeps = 4
    start = threading.Barrier(sweeps)

    def sweep() -> int:
        start.wait()
        with database.connection_context():
            return Stock(database).release_expired(soon + timedelta(minutes=1))

    with ThreadPoolExecutor(sweeps) as pool:
        released = [future.result() for future in [pool.submit(sweep) for _ in range(sweeps)]]
    assert sum(released) == 5
    assert units()["a"] == 5


def test_a_commit_racing_the_expiry_sweep_either_sells_or_is_refused_never_both(
    stock: Stock, database: peewee.Database
) -> None:
    soon = utc_now() + timedelta(seconds=1)
    for number in range(5):
        stock.reserve(f"ord-{number}", [StockLine("a", 1)], soon)
    start = threading.Barrier(2)

    def sweep() -> int:
        start.wait()
        with database.connection_context():
            return Stock(database).release_expired(soon + timedelta(minutes=1))

    def commit_all() -> list[str]:
        start.wait()
        outcomes: list[str] = []
        with database.connection_context():
            for number in range(5):
                try:
                    outcomes.append(Stock(database).commit(f"ord-{number}").state)
                except FailedPrecondition as error:
                    outcomes.append(error.reason)
        return outcomes

    with ThreadPoolExecutor(2) as pool:
        swept, committed = pool.submit(sweep), pool.submit(commit_all)
        released, outcomes = swept.result(), committed.result()
    sold = outcomes.count(ReservationState.COMMITTED)
    assert sold + outcomes.count(ErrorReason.Name(ErrorReason.RESERVATION_RELEASED)) == 5
    assert released == 5 - sold
    assert units()["a"] == 5 - sold
