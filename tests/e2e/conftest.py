"""Fixtures of the end-to-end tests: the four real services as processes, per database.

Every test that takes ``start_shop`` runs twice, on SQLite and on MariaDB
(``PASAR_TEST_DATABASES`` narrows it): each service gets a fresh database of its own, and
``pasar-product serve``, ``pasar-payment serve`` and ``pasar-order serve`` are started from
their console scripts, and ``svc-fulfillment serve`` from its Go binary, on free loopback
ports (``pasar_testkit.stack.Stack``, whose background work runs every second or so). A failing
test shows the tail of every service's log (``pasar_testkit.failure_logs``). Figures the
tests measure (durations, counts) are printed at the end of the run.

``traced_shop`` starts the same shop and the gateway with tracing on, exporting to the
session's real Jaeger (``pasar_testkit.jaeger``), on SQLite only: what it tests is the trace,
which does not depend on the database.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pytest
from e2e_shop import Shop

from pasar_testkit.failure_logs import FailureLogs
from pasar_testkit.jaeger import JaegerServer
from pasar_testkit.stack import Stack, sqlite_database_urls

pytest_plugins = ["pasar_testkit.fixtures"]

StartShop = Callable[..., Shop]


@pytest.fixture
def start_shop(
    service_databases: dict[str, str], tmp_path: Path, failure_logs: FailureLogs
) -> Iterator[StartShop]:
    """Starts the four services; everything started is stopped by PID at the end."""
    started: list[tuple[Stack, Shop]] = []

    def start(
        *,
        smtp_url: str | None = None,
        order_env: Mapping[str, str] | None = None,
        payment_env: Mapping[str, str] | None = None,
    ) -> Shop:
        stack = Stack(
            tmp_path / f"shop-{len(started)}",
            service_databases,
            smtp_url=smtp_url,
            # Background work runs often already.
            component_env={"order": dict(order_env or {}), "payment": dict(payment_env or {})},
        )
        shop = Shop(stack, service_databases)
        started.append((stack, shop))
        failure_logs.add(stack.base.name, stack.logs)
        stack.start("product", "payment", "fulfillment", "order")
        return shop

    yield start
    for stack, shop in started:
        shop.close()
        stack.stop()


@contextmanager
def traced_shop(base: Path, jaeger: JaegerServer, logs: FailureLogs) -> Iterator[Shop]:
    """The four services and the gateway with tracing on (every component exports to jaeger),
    each on a SQLite database under base, their logs shown by logs on failure; stopped by PID
    when the block ends."""
    databases = sqlite_database_urls(base / "databases")
    stack = Stack(
        base,
        databases,
        jaeger=jaeger,
        component_env={
            "payment": {"PASAR_PAYMENT_EVENT_POLL_SECONDS": "0.2"},
            "gateway": {"PASAR_ORDER_RATE_LIMIT": "off"},
        },
    )
    shop = Shop(stack, databases)
    with logs.showing("jaeger", jaeger.log_tail), logs.showing(base.name, stack.logs):
        try:
            stack.start("product", "payment", "fulfillment", "order", "gateway")
            yield shop
        finally:
            shop.close()
            stack.stop()
