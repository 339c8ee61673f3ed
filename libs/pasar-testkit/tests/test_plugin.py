"""The failure-log hook and the figures summary, run by pytest on small test files."""

from __future__ import annotations

import pytest

SUITE = """
import pytest

pytest_plugins = ["pasar_testkit.fixtures"]


@pytest.fixture(scope="session")
def shop(session_failure_logs):
    session_failure_logs.add("the session's shop", lambda: "session log line")


@pytest.fixture
def process(failure_logs):
    failure_logs.add("a process", lambda: "process log line")


@pytest.fixture(scope="module")
def module_shop(session_failure_logs):
    with session_failure_logs.showing("the module's shop", lambda: "module log line"):
        yield


def test_passes(shop, process, figures):
    figures("orders placed: 3")


def test_fails(shop, process):
    assert False, "the shop broke"


def test_fails_in_the_module_shop(module_shop):
    assert False, "the module's shop broke"
"""


def test_a_failing_test_shows_its_logs_and_a_passing_one_does_not(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_shop=SUITE)

    result = pytester.runpytest("-p", "no:cacheprovider")

    result.assert_outcomes(passed=1, failed=2)
    output = result.stdout.str()
    assert output.count("process log line") == 1
    assert output.count("session log line") == 2
    assert output.count("module log line") == 1
    result.stdout.fnmatch_lines(["*logs of a process (call)*", "process log line"])


def test_the_figures_are_printed_at_the_end_of_the_run(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_shop=SUITE)

    result = pytester.runpytest("-p", "no:cacheprovider", "-k", "passes")

    result.stdout.fnmatch_lines(["*= figures =*", "orders placed: 3"])
