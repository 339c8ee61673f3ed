"""scripts/conformance: an unknown suite, or the order suite without its peers, ends with status 2."""

from __future__ import annotations

from conftest import RunSuite

from pasar_testkit.ports import free_port


def test_an_unknown_suite_is_refused(conformance: RunSuite) -> None:
    result = conformance("shipping", f"127.0.0.1:{free_port()}")
    assert result.returncode == 2
    assert "invalid choice: 'shipping'" in result.stderr


def test_the_order_suite_needs_the_shop_s_other_services(conformance: RunSuite) -> None:
    result = conformance("order", f"127.0.0.1:{free_port()}")
    assert result.returncode == 2
    assert "--product" in result.stderr
