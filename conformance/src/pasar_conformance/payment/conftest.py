"""The payment suite's fixtures: the run's payment desk, whose pending payments are cancelled at the end."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pasar_conformance.payment.shop import PaymentDesk, desk
from pasar_conformance.target import Target


@pytest.fixture(scope="session", autouse=True)
def payments(target: Target) -> Iterator[PaymentDesk]:
    """The run's payments on the target: opened through CreatePayment, for the run's order ids."""
    made = desk(target)
    yield made
    made.cancel_leftovers()
