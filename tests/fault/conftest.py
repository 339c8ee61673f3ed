"""Fixtures of the fault suite: the whole shop as processes, per database, and its figures.

Each test starts its own shop (``pasar_testkit.stack.Stack``: the three services and
the gateway from their console scripts, on free loopback ports, each service on a fresh
database) and stops everything it started by PID, even when it fails, printing the tail
of every component's log then. The figures the issue asks for (orders placed, faults
injected, inconsistencies found) are printed at the end of the run.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Generator
from pathlib import Path

import pytest

from pasar_testkit.stack import SERVICES

pytest_plugins = ["pasar_testkit.fixtures"]

_FIGURES: list[str] = []
_TOTALS: Counter[str] = Counter()
_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def figures() -> Callable[[str], None]:
    """Records a line for the fault suite's summary."""
    return _FIGURES.append


@pytest.fixture
def tally() -> Callable[..., None]:
    """Adds to the suite's totals: orders placed, faults injected, inconsistencies found."""
    return _TOTALS.update


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _FIGURES:
        terminalreporter.section("fault suite figures")
        for line in _FIGURES:
            terminalreporter.write_line(line)
        terminalreporter.write_line(
            f"totals: orders placed {_TOTALS['orders placed']}, "
            f"faults injected {_TOTALS['faults injected']}, "
            f"inconsistencies found {_TOTALS['inconsistencies found']}"
        )


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


def failed(request: pytest.FixtureRequest) -> bool:
    return bool(request.node.stash.get(_FAILED, False))


@pytest.fixture
def sqlite_databases(tmp_path: Path) -> dict[str, str]:
    """A fresh SQLite database per service, for the tests whose fault is not the database's."""
    return {name: f"sqlite:///{tmp_path / 'databases' / f'{name}.db'}" for name in SERVICES}
