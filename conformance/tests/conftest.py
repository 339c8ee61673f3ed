"""Fixtures of the kit's own tests: svc-product and svc-payment started as processes, judged by the kit.

``start_product(**env)`` (``start_payment``) starts ``pasar-product serve`` (``pasar-payment
serve``: its console script, as users start it) on a free loopback port with the test's
database and env overrides, through pasar_testkit's ComponentProcess, and stops it by PID at
the end; a failing test shows the service's log. ``conformance(suite, target)`` runs
``scripts/conformance`` as a user would.
"""

from __future__ import annotations

import re
import subprocess
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from pasar_testkit.failure_logs import FailureLogs
from pasar_testkit.processes import ComponentProcess, component_command

pytest_plugins = ["pasar_testkit.fixtures"]

REPO = Path(__file__).resolve().parents[2]
SCRIPT = REPO / "scripts" / "conformance"
ADMIN_TOKEN = "conformance-test-admin-token"
CALLER_TOKEN = "conformance-test-caller-token"
WEBHOOK_SECRET = "conformance-test-webhook-secret"
# A run longer than this has hung (a bound, not a speed target: the figures report how
# long each run took, seconds).
SUITE_SECONDS = 180
# pytest's summary line, which ends every run of scripts/conformance.
SUMMARY = re.compile(r"^=+ (?P<passed>\d+) passed(?:, (?P<skipped>\d+) skipped)? in [\d.]+s")

StartProduct = Callable[..., ComponentProcess]
StartPayment = StartProduct
RunSuite = Callable[..., subprocess.CompletedProcess[str]]


def _starter(component: str, tmp_path: Path, failure_logs: FailureLogs) -> Iterator[StartProduct]:
    """Starts ``pasar-<component> serve`` processes on the given database, stopping each by PID."""
    started: list[ComponentProcess] = []

    def start(database_url: str, **env: str) -> ComponentProcess:
        service = ComponentProcess(
            f"{component}-{len(started)}",
            command=component_command(component),
            env={
                "PASAR_ENV": "development",
                "DATABASE_URL": database_url,
                "PASAR_ADMIN_TOKEN": ADMIN_TOKEN,
                "PASAR_ORDER_CALLER_TOKEN": CALLER_TOKEN,
                "PASAR_PAYMENT_WEBHOOK_SECRET": WEBHOOK_SECRET,
                "PASAR_LOG_LEVEL": "warning",
                "PASAR_SHUTDOWN_GRACE_SECONDS": "1",
                **env,
            },
            log_dir=tmp_path / "logs",
        )
        started.append(service)
        failure_logs.add(service.name, service.log_tail)
        service.start()
        return service

    yield start
    for service in started:
        service.stop()


@pytest.fixture
def start_product(tmp_path: Path, failure_logs: FailureLogs) -> Iterator[StartProduct]:
    yield from _starter("product", tmp_path, failure_logs)


@pytest.fixture
def start_payment(tmp_path: Path, failure_logs: FailureLogs) -> Iterator[StartPayment]:
    yield from _starter("payment", tmp_path, failure_logs)


@pytest.fixture
def conformance() -> RunSuite:
    """Runs ``scripts/conformance SUITE --target ADDRESS`` with the tests' tokens and webhook secret."""

    def run(suite: str, target: str, *options: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                str(SCRIPT),
                suite,
                "--target",
                target,
                "--admin-token",
                ADMIN_TOKEN,
                "--caller-token",
                CALLER_TOKEN,
                "--webhook-secret",
                WEBHOOK_SECRET,
                *options,
            ],
            capture_output=True,
            text=True,
            timeout=SUITE_SECONDS,
            check=False,
        )

    return run


def passed_cases(result: subprocess.CompletedProcess[str]) -> tuple[int, int]:
    """The cases passed and skipped by a run that succeeded and ended with pytest's summary line."""
    assert result.returncode == 0, result.stdout[-6000:] + result.stderr
    last = result.stdout.strip().splitlines()[-1]
    summary = SUMMARY.match(last)
    assert summary, f"the run does not end with pytest's summary line: {last!r}"
    return int(summary["passed"]), int(summary["skipped"] or 0)
