"""The order suite passes against svc-order (with svc-product and svc-payment of the same
shop), on SQLite and on MariaDB, within its budget, and again against the same shop; and
against a shop that delivers (svc-fulfillment running), where paid orders go on to be
FULFILLED while the suite reads them; and its look-up cases against a shop whose limit on
failed look-ups is not the default."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from conftest import RunSuite, passed_cases
from order_shop import judge_order, running_delivering_shop, running_shop

from pasar_testkit.failure_logs import FailureLogs
from pasar_testkit.stack import Stack
from pasar_testkit.waiting import wait_for


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


@pytest.fixture
def delivering_shop(
    service_databases: Mapping[str, str], tmp_path: Path, failure_logs: FailureLogs
) -> Iterator[Stack]:
    """The three Python services and svc-fulfillment (with its sandbox biller), as scripts/run starts them."""
    with running_delivering_shop(tmp_path, service_databases, failure_logs) as stack:
        yield stack


def test_the_order_suite_passes_against_a_shop_that_delivers(
    database_kind: str, delivering_shop: Stack, conformance: RunSuite, figures: Callable[[str], None]
) -> None:
    """The suite's voucher codes are delivered by the sandbox biller within a fraction of a
    second, so its reads of paid orders race their delivery: it must pass all the same."""
    stack = delivering_shop
    passed, skipped = passed_cases(judge_order(stack, conformance))
    # The race was real: orders the suite paid were delivered during the run.
    delivered = wait_for(lambda: stack.mails("delivered"), what="a delivered order's e-mail")
    figures(
        f"order suite with deliveries on {database_kind}: {passed} cases passed ({skipped} skipped), "
        f"{len(delivered)} orders delivered"
    )


def test_the_lookup_cases_judge_by_the_shop_s_own_limit_on_failed_look_ups(
    service_databases: Mapping[str, str], tmp_path: Path, failure_logs: FailureLogs, conformance: RunSuite
) -> None:
    """The contract leaves the number of failed look-ups before RATE_LIMITED to the
    deployment (PASAR_ORDER_LOOKUP_MAX_FAILURES): the cases find it, never assume 5, and
    pass at the strictest, a number limited after its first failure."""
    with running_shop(
        tmp_path, service_databases, failure_logs, PASAR_ORDER_LOOKUP_MAX_FAILURES="1"
    ) as stack:
        result = judge_order(stack, conformance, "-q", "-k", "test_lookup")
    assert result.returncode == 0, result.stdout[-6000:]
    assert "5 passed" in result.stdout.strip().splitlines()[-1], result.stdout[-2000:]
