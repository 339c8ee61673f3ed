"""The product suite passes against svc-product, on SQLite and on MariaDB, within its budget."""

from __future__ import annotations

import re
import time
from collections.abc import Callable

from conftest import RunSuite, StartProduct, passed_cases


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
    passed, skipped = passed_cases(result)
    assert skipped == 0
    assert re.search(r"judging \S+ by contracts v\d+\.\d+\.\d+", result.stdout)  # the version it judges by
    figures(f"product suite on {database_kind}: {passed} cases passed in {elapsed:.1f} s")


def test_a_second_run_against_the_same_service_passes_too(
    database_url: str, start_product: StartProduct, conformance: RunSuite
) -> None:
    """Ids unique per run: the suite judges a service it judged before (a populated one)."""
    service = start_product(database_url)
    for _run in range(2):
        result = conformance("product", service.address, "-q", "-k", "not fifty")
        assert result.returncode == 0, result.stdout[-6000:]
