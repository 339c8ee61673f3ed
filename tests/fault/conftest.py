"""Fixtures of the fault suite: the whole shop as processes, per database, and its figures.

Each test starts its own shop (``pasar_testkit.stack.Stack``: the three services and
the gateway from their console scripts, on free loopback ports, each service on a fresh
database) and stops everything it started by PID, even when it fails; a failing test
shows the tail of every component's log (``pasar_testkit.failure_logs``). The figures the
issue asks for (orders placed, faults injected, inconsistencies found) are printed at the
end of the run (``figures``, and the totals ``tally`` adds up).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

import pytest

pytest_plugins = ["pasar_testkit.fixtures"]

_TOTALS: Counter[str] = Counter()


@pytest.fixture
def tally() -> Callable[..., None]:
    """Adds to the suite's totals: orders placed, faults injected, inconsistencies found."""
    return _TOTALS.update


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if _TOTALS:
        terminalreporter.write_line(
            f"fault suite totals: orders placed {_TOTALS['orders placed']}, "
            f"faults injected {_TOTALS['faults injected']}, "
            f"inconsistencies found {_TOTALS['inconsistencies found']}"
        )
