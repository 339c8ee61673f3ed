"""The product suite's fixtures: the run's catalog, archived when the run ends."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pasar_conformance.product.seed import Catalog, catalog
from pasar_conformance.target import Target


@pytest.fixture(scope="session", autouse=True)
def shop(target: Target) -> Iterator[Catalog]:
    """The run's catalog on the target: what the suite creates, through the admin RPCs."""
    made = catalog(target)
    yield made
    made.archive_everything()
