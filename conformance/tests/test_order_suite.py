"""The order suite passes against svc-order (with svc-product and svc-payment of the same
shop), on SQLite and on MariaDB, within its budget, and again against the same shop."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from conftest import RunSuite, passed_cases
from order_shop import judge_order, running_shop

from pasar_testkit.failure_logs import FailureLogs
from pasar_testkit.stack import Stack


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
    passed, skipped = passed_cases(first)
    figures(f"order suite on {database_kind}: {passed} cases passed ({skipped} skipped) in {elapsed:.1f} s")
    # Ids unique per run: a second run judges the shop the first one populated.
    again = judge_order(stack, conformance, "-q", "-k", "not twenty")
    assert again.returncode == 0, again.stdout[-6000:]
