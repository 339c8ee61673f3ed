"""The mutation check: the product suite fails against svc-product started with each
deliberate defect (pasar_kit.defects), naming the cases that caught it; production refuses
the setting that selects one."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import RunSuite, StartProduct

from pasar_kit.defects import IDEMPOTENT_REPEAT_DIFFERS, REPEATED_PAGE_ITEM, VARIABLE, WRONG_REASON_CODE
from pasar_testkit.processes import console_script
from pasar_testkit.production import GOOD_SECRET, assert_refused

# The defect, and cases of the suite that must fail because of it.
CAUGHT_BY = {
    WRONG_REASON_CODE: [
        "test_reads.py::test_an_unknown_product_is_not_found_naming_it",
        "test_stock.py::test_an_order_that_reserved_nothing_has_nothing_to_commit_or_release",
    ],
    REPEATED_PAGE_ITEM: [
        "test_paging.py::test_pages_give_every_product_exactly_once_while_products_are_added",
        "test_paging.py::test_a_page_of_a_hundred_is_the_largest_and_the_next_holds_the_rest",
    ],
    IDEMPOTENT_REPEAT_DIFFERS: [
        "test_common.py::TestCommon::test_a_repeat_returns_the_same_answer[ReserveStock]",
        "test_stock.py::test_a_retry_returns_the_same_reservation_and_holds_once",
    ],
}


@pytest.mark.parametrize("defect", list(CAUGHT_BY))
def test_the_suite_fails_against_a_defective_service_naming_the_case(
    defect: str, tmp_path: Path, start_product: StartProduct, conformance: RunSuite
) -> None:
    service = start_product(f"sqlite:///{tmp_path / 'product.db'}", **{VARIABLE: defect})
    result = conformance("product", service.address, "-q")
    assert result.returncode == 1, result.stdout[-6000:] + result.stderr
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAILED ")]
    for case in CAUGHT_BY[defect]:
        assert any(case in line for line in failed), f"{case} did not fail; failed:\n" + "\n".join(failed)
    assert " failed" in result.stdout.strip().splitlines()[-1]


def test_production_refuses_to_start_with_a_defect(tmp_path: Path) -> None:
    env = {
        "DATABASE_URL": f"sqlite:///{tmp_path / 'product.db'}",
        "PASAR_ADMIN_TOKEN": GOOD_SECRET,
        "PASAR_ORDER_CALLER_TOKEN": GOOD_SECRET[::-1],
        VARIABLE: WRONG_REASON_CODE,
    }
    assert_refused(
        [console_script("pasar-product"), "serve"],
        env,
        VARIABLE,
        "must not be set when PASAR_ENV is 'production'",
    )
