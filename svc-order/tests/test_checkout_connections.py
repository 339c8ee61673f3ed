"""On SQLite a checkout holds no database connection while it waits on the catalog or the
payment service, so that the pool, and SQLite's memory for each connection, does not grow
with the checkouts in flight (issue 17's memory target; pasar_kit.database
.released_while_waiting). On MySQL each checkout keeps its connection: taking one again
pings the server."""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import RunningService, create_request
from fakes import FakeCatalog, FakePayments, Hooks

from pasar_kit import database as db
from pasar_order.main import SQLITE_CONNECTIONS

CHECKOUTS = 8


def waiting_in(hooks: Hooks, method: str, arrived: threading.Barrier, go_on: threading.Event) -> None:
    """Every call of method waits, once all CHECKOUTS are in it, until go_on."""

    def wait() -> None:
        arrived.wait(10)
        go_on.wait(10)

    hooks.keep = True
    hooks.before[method] = wait


def least_in_use(database: object, samples: int = 5) -> int:
    """The fewest connections in use over a few looks (the service's background rounds
    take one now and then)."""
    assert isinstance(database, db.CountedPool)
    seen = []
    for _ in range(samples):
        seen.append(database.pool_figures().in_use)
        time.sleep(0.02)
    return min(seen)


@pytest.mark.parametrize(
    "method", ["BatchGetPackages", "ListPaymentChannels", "ReserveStock", "CreatePayment"]
)
def test_checkouts_waiting_on_a_peer_hold_no_sqlite_connection(
    service: RunningService, fake_catalog: FakeCatalog, fake_payments: FakePayments, method: str
) -> None:
    arrived = threading.Barrier(CHECKOUTS + 1)
    go_on = threading.Event()
    hooks = fake_payments.hooks if method in ("ListPaymentChannels", "CreatePayment") else fake_catalog.hooks
    waiting_in(hooks, method, arrived, go_on)

    with ThreadPoolExecutor(max_workers=CHECKOUTS) as pool:
        placing = [pool.submit(service.stub.CreateOrder, create_request()) for _ in range(CHECKOUTS)]
        arrived.wait(10)
        try:
            in_use = least_in_use(service.database)
        finally:
            go_on.set()
        placed = [future.result(timeout=20) for future in placing]

    if isinstance(service.database, db.SerializedSqliteDatabase):
        assert in_use < CHECKOUTS, f"{in_use} connections held while {CHECKOUTS} checkouts wait in {method}"
    else:
        assert in_use >= CHECKOUTS, "a MySQL connection stays with its checkout"
    assert len({response.order.id for response in placed}) == CHECKOUTS, "each checkout then completes"


def test_on_sqlite_checkouts_queued_on_the_write_lock_hold_no_connection_and_the_pool_keeps_its_bound(
    service: RunningService, fake_catalog: FakeCatalog
) -> None:
    """Checkouts waiting for their turn to write wait without a connection
    (pasar_kit.database.atomic_write), so twice SQLITE_CONNECTIONS of them queue without
    filling the pool; the pool never opens more than its bound, and every checkout then
    completes."""
    database = service.database
    if not isinstance(database, db.SerializedSqliteDatabase):
        pytest.skip("a MySQL pool holds a connection per worker thread and background task")
    at_once = 2 * SQLITE_CONNECTIONS
    fake_catalog.add_package("pulsa-50k", price=50_500, stock=at_once)
    with ThreadPoolExecutor(max_workers=at_once) as pool:
        with database.write_lock:  # every checkout's first write waits behind this thread
            placing = [
                pool.submit(service.stub.CreateOrder, create_request(("pulsa-50k", 1)))
                for _ in range(at_once)
            ]
            time.sleep(1)
            in_use = least_in_use(database)
        placed = [future.result(timeout=20) for future in placing]

    assert in_use == 0, f"{in_use} connections held while {at_once} checkouts waited to write"
    figures = database.pool_figures()
    assert figures.maximum == SQLITE_CONNECTIONS
    assert figures.in_use + figures.idle <= SQLITE_CONNECTIONS
    assert len({response.order.id for response in placed}) == at_once, "each checkout then completes"


def test_one_request_sent_more_times_at_once_than_the_pool_holds_places_one_order(
    service: RunningService, fake_catalog: FakeCatalog
) -> None:
    """The copies of a request wait for the first attempt without a connection: on SQLite,
    copies holding the bounded pool's every connection left none for the attempt they
    waited for, and each then missed its deadline (the conformance kit's
    test_one_request_sent_many_times_at_once_places_one_order)."""
    copies = 2 * SQLITE_CONNECTIONS
    fake_catalog.add_package("pulsa-50k", price=50_500, stock=copies)
    fake_catalog.hooks.before["ReserveStock"] = lambda: time.sleep(0.3)  # the copies pile up meanwhile
    request = create_request(("pulsa-50k", 1), request_id="sent-many-times")
    with ThreadPoolExecutor(max_workers=copies) as pool:
        placing = [pool.submit(service.stub.CreateOrder, request, timeout=8) for _ in range(copies)]
        placed = [future.result(timeout=20) for future in placing]

    assert len({(response.order.id, response.payment.id) for response in placed}) == 1
    assert fake_catalog.stock("pulsa-50k") == copies - 1
