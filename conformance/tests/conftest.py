"""Fixtures of the kit's own tests: svc-product started as a process, judged by the kit.

``start_product(**env)`` starts ``pasar-product serve`` (its console script, as users start
it) on a free loopback port with the test's database and env overrides, through
pasar_testkit's ComponentProcess, and stops it by PID at the end; a failing test shows the
service's log. ``conformance(suite, target)`` runs ``scripts/conformance`` as a user would.
"""

from __future__ import annotations

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
# The most a run of the product suite against one service may take (the budget).
SUITE_SECONDS = 60

StartProduct = Callable[..., ComponentProcess]
RunSuite = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def start_product(tmp_path: Path, failure_logs: FailureLogs) -> Iterator[StartProduct]:
    started: list[ComponentProcess] = []

    def start(database_url: str, **env: str) -> ComponentProcess:
        service = ComponentProcess(
            f"product-{len(started)}",
            command=component_command("product"),
            env={
                "PASAR_ENV": "development",
                "DATABASE_URL": database_url,
                "PASAR_ADMIN_TOKEN": ADMIN_TOKEN,
                "PASAR_ORDER_CALLER_TOKEN": CALLER_TOKEN,
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
def conformance() -> RunSuite:
    """Runs ``scripts/conformance SUITE --target ADDRESS`` with the tests' tokens."""

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
                *options,
            ],
            capture_output=True,
            text=True,
            timeout=SUITE_SECONDS * 3,
            check=False,
        )

    return run
