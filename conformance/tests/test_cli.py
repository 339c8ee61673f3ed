"""scripts/conformance: a suite not written yet, or a missing option, ends with status 2 and says why."""

from __future__ import annotations

import pytest
from conftest import RunSuite

from pasar_testkit.ports import free_port


@pytest.mark.parametrize("suite", ["payment", "order"])
def test_a_suite_not_written_yet_says_so_and_exits_2(suite: str, conformance: RunSuite) -> None:
    address = f"127.0.0.1:{free_port()}"
    result = conformance(suite, address, "--product", address, "--payment", address)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"the {suite} suite is not written yet" in result.stderr


def test_an_unknown_suite_is_refused(conformance: RunSuite) -> None:
    result = conformance("shipping", f"127.0.0.1:{free_port()}")
    assert result.returncode == 2
    assert "invalid choice: 'shipping'" in result.stderr
