"""A whole Python shop for the order suite: svc-product, svc-payment and svc-order as
processes (pasar_testkit's Stack, no gateway) with the kit tests' tokens, stopped by PID.

``order_env`` goes to the order service alone (a deliberate defect, say), so the other two
services the suite seeds and settles through stay faithful. ``running_delivering_shop``
starts svc-fulfillment too (as ``scripts/run`` does), so paid orders go on to be delivered while
the suite reads them; without it the order service's requests for delivery wait.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from subprocess import CompletedProcess

from conftest import ADMIN_TOKEN, CALLER_TOKEN, RunSuite

from pasar_testkit.failure_logs import FailureLogs
from pasar_testkit.go_service import FULFILLMENT
from pasar_testkit.stack import SERVICES, Stack


@contextmanager
def running_shop(
    base: Path, database_urls: Mapping[str, str], failure_logs: FailureLogs, **order_env: str
) -> Iterator[Stack]:
    with _running(base, database_urls, failure_logs, order_env, SERVICES) as stack:
        yield stack


@contextmanager
def running_delivering_shop(
    base: Path, database_urls: Mapping[str, str], failure_logs: FailureLogs
) -> Iterator[Stack]:
    """running_shop with svc-fulfillment (its sandbox biller delivering) before svc-order."""
    with _running(
        base, database_urls, failure_logs, {}, ("product", "payment", FULFILLMENT, "order")
    ) as stack:
        yield stack


@contextmanager
def _running(
    base: Path,
    database_urls: Mapping[str, str],
    failure_logs: FailureLogs,
    order_env: Mapping[str, str],
    components: Sequence[str],
) -> Iterator[Stack]:
    stack = Stack(
        base,
        database_urls,
        env={
            "PASAR_ADMIN_TOKEN": ADMIN_TOKEN,
            "PASAR_ORDER_CALLER_TOKEN": CALLER_TOKEN,
            "PASAR_LOG_LEVEL": "warning",
        },
        component_env={"order": dict(order_env)},
    )
    failure_logs.add("shop", stack.logs)
    with stack:
        stack.start(*components)
        yield stack


def judge_order(stack: Stack, conformance: RunSuite, *options: str) -> CompletedProcess[str]:
    """``scripts/conformance order`` against the stack's order service, seeding through its peers."""
    return conformance(
        "order",
        stack.address("order"),
        "--product",
        stack.address("product"),
        "--payment",
        stack.address("payment"),
        *options,
    )
