"""Slow service: one service answers late (``PASAR_FAULT_DELAY_MS``), the rest of the shop doesn't.

The delay (3 s before every RPC of the slow service's contract) is longer than the
gateway's deadline for that service (1 s here). While shoppers hammer the slow service's
routes, the gateway must answer them 504 (the deadline) or, once its breaker has opened,
503 — always within the deadline and a little more, never hanging — while the routes of
the other services keep answering at once, with their normal answers.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import pytest
import requests
from fault_shop import make_stack

from pasar_testkit.failure_logs import FailureLogs
from pasar_testkit.processes import console_script
from pasar_testkit.stack import COMPONENTS, Stack, sqlite_database_urls

DELAY_MS = 3000
DEADLINE_SECONDS = 1.0
# What "bounded" allows beyond the deadline on a shared two-core machine.
SLACK_SECONDS = 1.0
# How fast a route the slow service is not part of must still answer.
UNAFFECTED_SECONDS = 1.0
MISSING_ORDER = "/api/v1/orders/ord_" + "0" * 32 + "?token=x"

# The slow service, its routes, and routes of other services (with their normal status).
CASES = {
    "product": (
        ["/api/v1/products", "/api/v1/products/sintetis-000001", "/api/v1/categories"],
        [("/api/v1/payment-channels", 200), (MISSING_ORDER, 404)],
    ),
    "payment": (
        ["/api/v1/payment-channels", "/api/v1/payments/pay_" + "0" * 32],
        [("/api/v1/products", 200), ("/api/v1/products/sintetis-000001", 200), (MISSING_ORDER, 404)],
    ),
}


@dataclass(frozen=True)
class Timed:
    path: str
    status: int
    seconds: float


def timed_get(url: str, path: str) -> Timed:
    started = time.monotonic()
    response = requests.get(url + path, timeout=30)
    return Timed(path, response.status_code, time.monotonic() - started)


@pytest.fixture(params=sorted(CASES))
def slow_shop(
    request: pytest.FixtureRequest, tmp_path: Path, failure_logs: FailureLogs
) -> Iterator[tuple[str, Stack]]:
    sqlite_databases = sqlite_database_urls(tmp_path / "databases")
    slow: str = request.param
    subprocess.run(
        [console_script("pasar-product"), "load-synthetic", "--products", "5"],
        env={**os.environ, "DATABASE_URL": sqlite_databases["product"], "PASAR_LOG_LEVEL": "warning"},
        check=True,
        capture_output=True,
    )
    stack = make_stack(
        tmp_path / "shop",
        sqlite_databases,
        **{
            slow: {"PASAR_FAULT_DELAY_MS": str(DELAY_MS)},
            "gateway": {f"PASAR_{slow.upper()}_DEADLINE_SECONDS": str(DEADLINE_SECONDS)},
        },
    )
    with stack:
        failure_logs.add("the shop", stack.logs)
        stack.start(*COMPONENTS)
        yield slow, stack


def test_a_slow_service_costs_its_own_routes_a_bounded_wait_and_nothing_else(
    slow_shop: tuple[str, Stack], figures: Callable[[str], None], tally: Callable[..., None]
) -> None:
    slow, stack = slow_shop
    slow_paths, other_paths = CASES[slow]
    url = stack.gateway_url
    slow_answers: list[Timed] = []
    stop = threading.Event()

    def hammer_slow_routes(number: int) -> None:
        while not stop.is_set():
            slow_answers.append(timed_get(url, slow_paths[number % len(slow_paths)]))

    with ThreadPoolExecutor(max_workers=6) as pool:
        hammering = [pool.submit(hammer_slow_routes, number) for number in range(6)]
        time.sleep(0.3)  # the slow calls are in flight
        others = [timed_get(url, path) for _ in range(10) for path, _ in other_paths]
        time.sleep(DEADLINE_SECONDS * 2)
        stop.set()
        for future in hammering:
            future.result(timeout=30)

    limit = DEADLINE_SECONDS + SLACK_SECONDS
    statuses = sorted({answer.status for answer in slow_answers})
    figures(
        f"slow {slow} service ({DELAY_MS} ms delay, {DEADLINE_SECONDS} s deadline): {len(slow_answers)} "
        f"answers {statuses} on its routes, slowest {max(a.seconds for a in slow_answers):.2f} s; "
        f"{len(others)} answers on other routes, slowest {max(a.seconds for a in others):.2f} s"
    )
    tally({"faults injected": 1})
    assert slow_answers
    assert {answer.status for answer in slow_answers} <= {503, 504}, slow_answers
    assert any(answer.status == 504 for answer in slow_answers), "no deadline was reported as 504"
    assert all(answer.seconds <= limit for answer in slow_answers), [
        answer for answer in slow_answers if answer.seconds > limit
    ]
    wanted = dict(other_paths)
    assert all(answer.status == wanted[answer.path] for answer in others), others
    assert all(answer.seconds <= UNAFFECTED_SECONDS for answer in others), [
        answer for answer in others if answer.seconds > UNAFFECTED_SECONDS
    ]
