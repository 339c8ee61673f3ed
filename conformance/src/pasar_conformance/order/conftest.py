"""The order suite's fixtures: the shop (order service, catalog, payment service) of the run,
with its catalog archived and its pending orders cancelled when the run ends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pasar_conformance.order.shop import Shop, open_shop
from pasar_conformance.target import Target


@pytest.fixture(scope="session", autouse=True)
def shop(target: Target, product_target: Target, payment_target: Target) -> Iterator[Shop]:
    """The run's shop: what the suite places and seeds, through the contracts."""
    made = open_shop(target, product_target, payment_target)
    yield made
    made.cancel_leftovers()
    made.catalog.archive_everything()
