"""scripts/conformance: a suite not written yet, or an unknown one, ends with status 2 and says why."""

from __future__ import annotations

import importlib.util

import pytest
from conftest import RunSuite

from pasar_conformance.cli import SUITES
from pasar_testkit.ports import free_port

# The suites the kit does not have yet (the test of each goes when its suite comes).
NOT_WRITTEN = [suite for suite in SUITES if importlib.util.find_spec(f"pasar_conformance.{suite}") is None]


@pytest.mark.parametrize("suite", NOT_WRITTEN)
def test_a_suite_not_written_yet_says_so_and_exits_2(suite: str, conformance: RunSuite) -> None:
    address = f"127.0.0.1:{free_port()}"
    result = conformance(suite, address, "--product", address, "--payment", address)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"the {suite} suite is not written yet" in result.stderr


def test_an_unknown_suite_is_refused(conformance: RunSuite) -> None:
    result = conformance("shipping", f"127.0.0.1:{free_port()}")
    assert result.returncode == 2
    assert "invalid choice: 'shipping'" in result.stderr


def test_the_order_suite_needs_the_shop_s_other_services(conformance: RunSuite) -> None:
    result = conformance("order", f"127.0.0.1:{free_port()}")
    assert result.returncode == 2
    assert "--product" in result.stderr
