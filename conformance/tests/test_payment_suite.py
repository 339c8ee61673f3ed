"""The payment suite passes against svc-payment, on SQLite and on MariaDB, within its budget."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from conftest import RunSuite, StartPayment, passed_cases


def test_the_payment_suite_passes_against_svc_payment(
    database_kind: str,
    database_url: str,
    start_payment: StartPayment,
    conformance: RunSuite,
    figures: Callable[[str], None],
) -> None:
    service = start_payment(database_url)
    started = time.monotonic()
    result = conformance("payment", service.address)
    elapsed = time.monotonic() - started
    passed, skipped = passed_cases(result)
    # svc-payment runs the sandbox: the one case for a shop without it is skipped.
    assert skipped == 1
    figures(f"payment suite on {database_kind}: {passed} cases passed in {elapsed:.1f} s")


def test_a_second_run_against_the_same_service_passes_too(
    database_url: str, start_payment: StartPayment, conformance: RunSuite
) -> None:
    """Order ids unique per run, the log read from a cursor: the suite judges a service it judged before."""
    service = start_payment(database_url)
    for _run in range(2):
        result = conformance("payment", service.address, "-q")
        assert result.returncode == 0, result.stdout[-6000:]


def test_the_webhook_secret_option_signs_the_notifications(
    tmp_path: Path, start_payment: StartPayment, conformance: RunSuite
) -> None:
    """--webhook-secret signs the notifications: another secret than the service's fails those cases."""
    service = start_payment(f"sqlite:///{tmp_path / 'payment.db'}")
    result = conformance(
        "payment", service.address, "--webhook-secret", "not-the-service-s-secret", "-q", "-k", "notification"
    )
    assert result.returncode == 1, result.stdout[-6000:]
    assert "test_a_signed_notification_settles_the_payment_and_a_repeat_is_a_duplicate" in result.stdout
