"""Crash during checkout: kill -9 each service in turn, and the gateway, while shoppers buy.

Shoppers place orders through the gateway (retrying with the same Idempotency-Key when the
shop answers 503/504 or the connection breaks, as the storefront does) and pay half of
them. Meanwhile the product, payment and order services and the gateway are killed with
SIGKILL one after the other (no shutdown code runs) and started again. Once the load has
stopped and the shop has settled, the three databases and the mail folder are audited:

- no package's stock is below zero or differs from its initial stock minus the units of
  paid and still-pending orders (and the catalog holds exactly those units);
- every order has exactly one payment, every PAID payment a PAID order, and no payment
  waits for an order that does not exist;
- every order's e-mails were written exactly once, or are still queued;
- no answer was a 500; 503/504 (and broken connections, for the gateway) came only while
  a component was down, or within a few seconds of its return.

Runs on SQLite and on MariaDB (``PASAR_TEST_DATABASES`` narrows it).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from fault_shop import (
    PACKAGES,
    PROCESSES_PER_SERVICE,
    Databases,
    DownWindow,
    FaultShop,
    ShopperLoad,
    audit,
    kill_component,
    make_stack,
    unexpected_answers,
    wait_until_settled,
)

from pasar_testkit.failure_logs import FailureLogs
from pasar_testkit.processes import SERVICES, children_of
from pasar_testkit.stack import COMPONENTS, Stack

# The order in which components crash; each stays down for DOWN_SECONDS under load.
VICTIMS = ("product", "payment", "order", "gateway")
DOWN_SECONDS = 1.5
BETWEEN_SECONDS = 2.5
# After a component is back: gRPC reconnects (up to 2 s of backoff) and the gateway's
# breaker lets a probe through (0.5 s here).
RECOVERY_GRACE_SECONDS = 4.0
SCARCE = "token-uji-langka"  # the package with little stock (fault_shop.PACKAGES)


@pytest.fixture
def crash_stack(
    service_databases: dict[str, str], tmp_path: Path, failure_logs: FailureLogs
) -> Iterator[Stack]:
    with make_stack(tmp_path / "shop", service_databases) as stack:
        failure_logs.add("the shop", stack.logs)
        stack.start(*COMPONENTS)
        for service in SERVICES:  # the faults meet every Python service's two worker processes
            process = stack[service].process
            assert process is not None
            assert len(children_of(process.pid)) == PROCESSES_PER_SERVICE, service
        yield stack


def test_no_order_payment_stock_or_email_is_lost_when_components_crash(
    crash_stack: Stack,
    service_databases: dict[str, str],
    database_kind: str,
    figures: Callable[[str], None],
    tally: Callable[..., None],
) -> None:
    stack = crash_stack
    shop = FaultShop(stack)
    shop.seed_catalog()
    databases = Databases(service_databases)
    initial = {package: stock for package, (_, stock) in PACKAGES.items()}
    windows: list[DownWindow] = []
    started = time.monotonic()

    with ShopperLoad(stack.gateway_url, shoppers=4, max_seconds=90) as load:
        time.sleep(BETWEEN_SECONDS)
        for victim in VICTIMS:
            window = DownWindow(victim, time.monotonic())
            windows.append(window)
            kill_component(stack, victim)
            time.sleep(DOWN_SECONDS)
            stack[victim].start()
            window.end = time.monotonic()
            time.sleep(BETWEEN_SECONDS)
    load_seconds = time.monotonic() - started

    wait_until_settled(databases, timeout=60)
    found = audit(databases, initial, stack.mail_dir)
    unexplained = unexpected_answers(load.answers, windows, RECOVERY_GRACE_SECONDS)
    statuses = load.statuses()
    figures(
        f"crash during checkout ({database_kind}): {len(VICTIMS)} components killed with SIGKILL in "
        f"{load_seconds:.0f} s of load; {statuses.total()} answers {dict(sorted(statuses.items()))}; "
        f"orders placed {len(load.placed)} (stored: {dict(found.orders)}); payments {dict(found.payments)}; "
        f"e-mails written {found.emails_sent}, queued {found.emails_queued}; "
        f"inconsistencies found {len(found.problems)}; unexplained answers {len(unexplained)}"
    )
    tally(
        {
            "orders placed": len(load.placed),
            "faults injected": len(VICTIMS),
            "inconsistencies found": len(found.problems) + len(unexplained),
        }
    )
    assert not found.problems, "\n".join(found.problems[:50])
    assert not unexplained, [
        (a.what, a.status, round(a.started - started, 2), round(a.ended - started, 2))
        for a in unexplained[:20]
    ]
    assert len(load.placed) >= 20, "the load placed too few orders to mean anything"
    assert found.orders["PAID"] > 0, "no order was paid under the load"
    # The scarce package sold out: its last units were fought over during the crashes, every
    # unit went to a live order (the audit above counts them), and later orders of it were
    # refused (OUT_OF_STOCK is 409; the load asks it ~100 times for its 25 units).
    left = databases.scalar("product", f"SELECT stock_available FROM package WHERE id = '{SCARCE}'")
    assert left == 0, f"{SCARCE} did not sell out: {left} units left"
    assert statuses[409] > 0, "no order of the sold-out package was refused"
