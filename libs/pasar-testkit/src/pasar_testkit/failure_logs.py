"""The failure-log hook (a pytest plugin, loaded by pasar_testkit.fixtures): a test that
fails shows the logs of the processes it ran, as sections of its own report.

A fixture that starts processes registers where their logs are read from::

    failure_logs.add("shop", stack.logs)            # for this test (function scope)
    session_failure_logs.add("shop", stack.logs)    # for every test of the session
    with session_failure_logs.showing("shop", stack.logs):
        yield stack                                 # for the tests of a module's fixture

The logs are read when the failure is reported, before any teardown stops the processes.
(PYTEST_DONT_REWRITE: conftest files import FailureLogs before pytest loads the plugin, and
the module has no assert to rewrite.)
"""

from __future__ import annotations

from collections.abc import Callable, Generator, Iterator
from contextlib import contextmanager

import pytest

LogSource = Callable[[], str]


class FailureLogs:
    """Where a failing test's report reads logs from."""

    def __init__(self) -> None:
        self.sources: list[tuple[str, LogSource]] = []

    def add(self, title: str, source: LogSource) -> None:
        self.sources.append((title, source))

    @contextmanager
    def showing(self, title: str, source: LogSource) -> Iterator[None]:
        """Shows the logs for failures while the block runs (a fixture's yield)."""
        entry = (title, source)
        self.sources.append(entry)
        try:
            yield
        finally:
            self.sources.remove(entry)


_TEST_LOGS = pytest.StashKey[FailureLogs]()
_SESSION_LOGS = pytest.StashKey[FailureLogs]()
_FAILED = pytest.StashKey[bool]()


@pytest.fixture
def failure_logs(request: pytest.FixtureRequest) -> FailureLogs:
    """Logs shown when this test fails."""
    node: pytest.Item = request.node
    return node.stash.setdefault(_TEST_LOGS, FailureLogs())


@pytest.fixture(scope="session")
def session_failure_logs(request: pytest.FixtureRequest) -> FailureLogs:
    """Logs shown when any test of the session fails (for a session-wide shop)."""
    return request.config.stash.setdefault(_SESSION_LOGS, FailureLogs())


def test_failed(request: pytest.FixtureRequest) -> bool:
    """Whether the requesting test's call failed (for fixtures that report more on failure)."""
    node: pytest.Item = request.node
    return node.stash.get(_FAILED, False)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    if report.failed:
        logs = [
            item.stash.get(_TEST_LOGS, FailureLogs()),
            item.config.stash.get(_SESSION_LOGS, FailureLogs()),
        ]
        for title, source in (entry for each in logs for entry in each.sources):
            try:
                text = source()
            except Exception as error:
                text = f"(could not read the logs: {error!r})"
            report.sections.append((f"logs of {title} ({report.when})", text))
    return report
