"""The order suite passes against svc-order (with svc-product and svc-payment of the same
shop), on SQLite and on MariaDB, within its budget, and again against the same shop."""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from conftest import RunSuite
from order_shop import judge_order, running_shop

from pasar_testkit.failure_logs import FailureLogs
from pasar_testkit.stack import Stack

SUMMARY = re.compile(r"^=+ (?P<passed>\d+) passed(?:, (?P<skipped>\d+) skipped)? in [\d.]+s")
# The most a run of the order suite against one shop may take.
ORDER_SUITE_SECONDS = 90


@pytest.fixture
def python_shop(
    service_databases: Mapping[str, str], tmp_path: Path, failure_logs: FailureLogs
) -> Iterator[Stack]:
    """The three Python services on the databases of the kind under test."""
    with running_shop(tmp_path, service_databases, failure_logs) as stack:
        yield stack


def test_the_order_suite_passes_against_svc_order(
    database_kind: str, python_shop: Stack, conformance: RunSuite, figures: Callable[[str], None]
) -> None:
    stack = python_shop
    started = time.monotonic()
    first = judge_order(stack, conformance)
    elapsed = time.monotonic() - started
    assert first.returncode == 0, first.stdout[-6000:] + first.stderr
    last = first.stdout.strip().splitlines()[-1]
    summary = SUMMARY.match(last)
    assert summary, f"the run does not end with pytest's summary line: {last!r}"
    figures(
        f"order suite on {database_kind}: {summary['passed']} cases passed"
        f" ({summary['skipped'] or 0} skipped) in {elapsed:.1f} s"
    )
    assert elapsed < ORDER_SUITE_SECONDS, f"the order suite took {elapsed:.0f} s against one shop"
    # Ids unique per run: a second run judges the shop the first one populated.
    again = judge_order(stack, conformance, "-q", "-k", "not twenty")
    assert again.returncode == 0, again.stdout[-6000:]
