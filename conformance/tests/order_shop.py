"""A whole Python shop for the order suite: svc-product, svc-payment and svc-order as
processes (pasar_testkit's Stack, no gateway) with the kit tests' tokens, stopped by PID.

``order_env`` goes to the order service alone (a deliberate defect, say), so the other two
services the suite seeds and settles through stay faithful.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from subprocess import CompletedProcess

from conftest import ADMIN_TOKEN, CALLER_TOKEN, RunSuite

from pasar_testkit.failure_logs import FailureLogs
from pasar_testkit.stack import Stack


@contextmanager
def running_shop(
    base: Path, database_urls: Mapping[str, str], failure_logs: FailureLogs, **order_env: str
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
        stack.start()
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
