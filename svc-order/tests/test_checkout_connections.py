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
