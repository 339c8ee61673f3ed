"""The fulfillment suite passes against svc-fulfillment (Go, built by pasar_testkit.go_service)
with svc-product as its catalog, on SQLite and on MariaDB, and again against the same service;
without --product the look-ups skip saying why; --webhook-secret signs the notifications; and
the mutation check: behind a proxy carrying a deliberate defect, the suite fails naming the cases."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path

import pytest
from conftest import CALLER_TOKEN, WEBHOOK_SECRET, RunSuite, StartProduct, passed_cases
from defective_proxy import DefectiveProxy
from test_defects_caught import assert_caught

from pasar_kit.defects import IDEMPOTENT_REPEAT_DIFFERS, WRONG_REASON_CODE
from pasar_testkit.failure_logs import FailureLogs
from pasar_testkit.go_service import fulfillment_process
from pasar_testkit.processes import ComponentProcess

StartFulfillment = Callable[..., ComponentProcess]
# Nothing skips: the shared validation_cases.json has fulfillment requests, so the common
# check that sends each invalid one runs too.
SKIPPED = 0


@pytest.fixture
def start_fulfillment(tmp_path: Path, failure_logs: FailureLogs) -> Iterator[StartFulfillment]:
    """Starts ``svc-fulfillment serve`` on a database, looking products up at product_address,
    with the tests' caller token and the run's webhook secret as the biller's; stopped by PID."""
    started: list[ComponentProcess] = []

    def start(database_url: str, product_address: str, **env: str) -> ComponentProcess:
        service = fulfillment_process(
            env={
                "PASAR_ENV": "development",
                "DATABASE_URL": database_url,
                "PASAR_PRODUCT_ADDRESS": product_address,
                "PASAR_ORDER_CALLER_TOKEN": CALLER_TOKEN,
                "PASAR_BILLER_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "PASAR_LOG_LEVEL": "warning",
                "PASAR_SHUTDOWN_GRACE_SECONDS": "1",
                **env,
            },
            log_dir=tmp_path / "logs" / f"fulfillment-{len(started)}",
        )
        started.append(service)
        failure_logs.add(f"fulfillment-{len(started) - 1}", service.log_tail)
        service.start()
        return service

    yield start
    for service in started:
        service.stop()


def test_the_fulfillment_suite_passes_against_svc_fulfillment(  # noqa: PLR0917 - pytest's fixtures
    database_kind: str,
    database_url: str,
    service_databases: Mapping[str, str],
    start_product: StartProduct,
    start_fulfillment: StartFulfillment,
    conformance: RunSuite,
    figures: Callable[[str], None],
) -> None:
    catalog = start_product(service_databases["product"])
    service = start_fulfillment(database_url, catalog.address)
    started = time.monotonic()
    result = conformance("fulfillment", service.address, "--product", catalog.address)
    elapsed = time.monotonic() - started
    passed, skipped = passed_cases(result)
    assert skipped == SKIPPED, result.stdout[-3000:]
    figures(
        f"fulfillment suite on {database_kind}: {passed} cases passed ({skipped} skipped) in {elapsed:.1f} s"
    )
    # Ids unique per run, the log read from a cursor: the suite judges a service it judged before.
    again = conformance("fulfillment", service.address, "--product", catalog.address, "-q")
    assert again.returncode == 0, again.stdout[-6000:]


def test_without_a_catalog_the_look_ups_skip_saying_why(
    tmp_path: Path, start_product: StartProduct, start_fulfillment: StartFulfillment, conformance: RunSuite
) -> None:
    catalog = start_product(f"sqlite:///{tmp_path / 'product.db'}")
    service = start_fulfillment(f"sqlite:///{tmp_path / 'fulfillment.db'}", catalog.address)
    result = conformance("fulfillment", service.address, "-q", "-rs", "-k", "test_lookup")
    assert result.returncode == 0, result.stdout[-6000:]
    assert "no --product HOST:PORT" in result.stdout
    summary = result.stdout.strip().splitlines()[-1]
    assert " skipped" in summary, summary
    assert " passed" not in summary, summary


def test_the_webhook_secret_option_signs_the_notifications(
    tmp_path: Path, start_product: StartProduct, start_fulfillment: StartFulfillment, conformance: RunSuite
) -> None:
    """Another secret than the service's: the kit's notifications are refused, those cases fail."""
    catalog = start_product(f"sqlite:///{tmp_path / 'product.db'}")
    service = start_fulfillment(f"sqlite:///{tmp_path / 'fulfillment.db'}", catalog.address)
    result = conformance(
        "fulfillment",
        service.address,
        "--webhook-secret",
        "not-the-biller-s-secret",
        "-q",
        "-k",
        "notification",
    )
    assert result.returncode == 1, result.stdout[-6000:]
    assert "test_a_failure_notification_ends_the_line_failed_with_the_reason" in result.stdout


# The defect the proxy in front of svc-fulfillment carries, and cases of the suite that must
# fail because of it (svc-fulfillment has no PASAR_TEST_DEFECT of its own).
FULFILLMENT_CAUGHT_BY = {
    WRONG_REASON_CODE: [
        "test_create.py::test_an_unknown_fulfillment_is_not_found_naming_it",
        "test_notify.py::test_a_notification_for_no_fulfillment_of_the_service_is_not_found",
        "test_lookup.py::test_a_meter_pln_does_not_know_is_not_found_naming_the_field",
    ],
    IDEMPOTENT_REPEAT_DIFFERS: [
        "test_create.py::test_a_retry_with_the_same_content_returns_the_same_fulfillment",
        "test_create.py::test_parallel_retries_of_a_line_make_one_fulfillment",
        "test_sandbox.py::test_a_line_is_delivered_exactly_once_whatever_the_retries",
        "test_notify.py::test_a_signed_notification_delivers_the_line_and_a_repeat_is_a_duplicate_changing_nothing",
    ],
}


@pytest.mark.parametrize("defect", list(FULFILLMENT_CAUGHT_BY))
def test_the_suite_fails_against_a_defective_fulfillment_service_naming_the_case(
    defect: str,
    tmp_path: Path,
    start_product: StartProduct,
    start_fulfillment: StartFulfillment,
    conformance: RunSuite,
) -> None:
    """The mutation check: svc-fulfillment behind a proxy that breaks its answers as the defect says."""
    catalog = start_product(f"sqlite:///{tmp_path / 'product.db'}")
    service = start_fulfillment(f"sqlite:///{tmp_path / 'fulfillment.db'}", catalog.address)
    proxy = DefectiveProxy(service.address, defect)
    proxy.start()
    try:
        result = conformance("fulfillment", proxy.address, "--product", catalog.address, "-q")
    finally:
        proxy.stop()
    assert_caught(result, FULFILLMENT_CAUGHT_BY[defect])
