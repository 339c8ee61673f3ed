"""The product suite passes against svc-product, on SQLite and on MariaDB, within its budget."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from conftest import SUITE_SECONDS, RunSuite, StartProduct

SUMMARY = re.compile(r"^=+ (?P<passed>\d+) passed in [\d.]+s")


def test_the_product_suite_passes_against_svc_product(
    database_kind: str,
    database_url: str,
    start_product: StartProduct,
    conformance: RunSuite,
    figures: Callable[[str], None],
) -> None:
    service = start_product(database_url)
    started = time.monotonic()
    result = conformance("product", service.address)
    elapsed = time.monotonic() - started
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr
    last = result.stdout.strip().splitlines()[-1]
    summary = SUMMARY.match(last)
    assert summary, f"the run does not end with pytest's summary line: {last!r}"
    assert re.search(r"judging \S+ by contracts v\d+\.\d+\.\d+", result.stdout)  # the version it judges by
    figures(f"product suite on {database_kind}: {summary['passed']} cases passed in {elapsed:.1f} s")
    assert elapsed < SUITE_SECONDS, f"the product suite took {elapsed:.0f} s against one service"


def test_a_second_run_against_the_same_service_passes_too(
    database_url: str, start_product: StartProduct, conformance: RunSuite
) -> None:
    """Ids unique per run: the suite judges a service it judged before (a populated one)."""
    service = start_product(database_url)
    for _run in range(2):
        result = conformance("product", service.address, "-q", "-k", "not fifty")
        assert result.returncode == 0, result.stdout[-6000:]
