"""The mutation check: the product and payment suites fail against their service started
with each deliberate defect (pasar_kit.defects), and the order suite against svc-order started with
one (its peers faithful), naming the cases that caught it; production refuses the setting
that selects one."""

from __future__ import annotations

from pathlib import Path
from subprocess import CompletedProcess

import pytest
from conftest import RunSuite, StartPayment, StartProduct
from order_shop import judge_order, running_shop

from pasar_kit.defects import IDEMPOTENT_REPEAT_DIFFERS, REPEATED_PAGE_ITEM, VARIABLE, WRONG_REASON_CODE
from pasar_testkit.failure_logs import FailureLogs
from pasar_testkit.processes import console_script
from pasar_testkit.production import GOOD_SECRET, assert_refused
from pasar_testkit.stack import sqlite_database_urls

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


# The defect on the order service alone (its catalog and payment service faithful), and
# cases of the order suite that must fail because of it.
ORDER_CAUGHT_BY = {
    WRONG_REASON_CODE: [
        "test_reads.py::test_an_unknown_id_a_wrong_token_and_another_order_s_token_are_alike_not_found",
        "test_checkout.py::test_an_unknown_package_is_not_found_naming_it",
    ],
    IDEMPOTENT_REPEAT_DIFFERS: [
        "test_common.py::TestCommon::test_a_repeat_returns_the_same_answer[CancelOrder]",
        "test_lifecycle.py::test_cancelling_a_cancelled_order_answers_it_unchanged",
    ],
}


def assert_caught(result: CompletedProcess[str], cases: list[str]) -> None:
    assert result.returncode == 1, result.stdout[-6000:] + result.stderr
    failed = [line for line in result.stdout.splitlines() if line.startswith("FAILED ")]
    for case in cases:
        assert any(case in line for line in failed), f"{case} did not fail; failed:\n" + "\n".join(failed)
    assert " failed" in result.stdout.strip().splitlines()[-1]


@pytest.mark.parametrize("defect", list(CAUGHT_BY))
def test_the_suite_fails_against_a_defective_service_naming_the_case(
    defect: str, tmp_path: Path, start_product: StartProduct, conformance: RunSuite
) -> None:
    service = start_product(f"sqlite:///{tmp_path / 'product.db'}", **{VARIABLE: defect})
    assert_caught(conformance("product", service.address, "-q"), CAUGHT_BY[defect])


@pytest.mark.parametrize("defect", list(ORDER_CAUGHT_BY))
def test_the_order_suite_fails_against_a_defective_order_service_naming_the_case(
    defect: str, tmp_path: Path, failure_logs: FailureLogs, conformance: RunSuite
) -> None:
    databases = sqlite_database_urls(tmp_path / "databases")
    with running_shop(tmp_path, databases, failure_logs, **{VARIABLE: defect}) as stack:
        assert_caught(judge_order(stack, conformance, "-q"), ORDER_CAUGHT_BY[defect])


# The defects svc-payment can carry (it has no ListProducts), and payment cases they fail.
PAYMENT_CAUGHT_BY = {
    WRONG_REASON_CODE: [
        "test_payments.py::test_an_unknown_channel_is_not_found_naming_it",
        "test_settlement.py::test_a_notification_for_no_payment_of_the_shop_is_not_found",
    ],
    IDEMPOTENT_REPEAT_DIFFERS: [
        "test_common.py::TestCommon::test_a_repeat_returns_the_same_answer[CreatePayment]",
        "test_payments.py::test_a_retry_of_create_returns_the_same_payment",
        "test_settlement.py::test_a_simulated_payment_becomes_paid_once",
    ],
}


@pytest.mark.parametrize("defect", list(PAYMENT_CAUGHT_BY))
def test_the_payment_suite_fails_against_a_defective_service_naming_the_case(
    defect: str, tmp_path: Path, start_payment: StartPayment, conformance: RunSuite
) -> None:
    service = start_payment(f"sqlite:///{tmp_path / 'payment.db'}", **{VARIABLE: defect})
    assert_caught(conformance("payment", service.address, "-q"), PAYMENT_CAUGHT_BY[defect])


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
