"""The fulfillment suite's fixtures: the run's desk (the target, the biller's secret and the
lookup catalog on ``--product``, None without), and a cursor near the end of the event log."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from pasar_conformance.fulfillment.desk import FulfillmentDesk, open_desk
from pasar_conformance.fulfillment.log import sequence_of
from pasar_conformance.fulfillment.lookups import LookupCatalog
from pasar_conformance.fulfillment.sandbox import LATE
from pasar_conformance.target import DEVELOPMENT_BILLER_WEBHOOK_SECRET, Target


@pytest.fixture(scope="session", autouse=True)
def desk(request: pytest.FixtureRequest, target: Target) -> Iterator[FulfillmentDesk]:
    """The run's fulfillments on the target; notifications signed with --webhook-secret (the
    biller's; svc-fulfillment's development one by default); products made on --product
    (archived at the end) for the LookupDestination cases."""
    secret = request.config.getoption("--webhook-secret") or DEVELOPMENT_BILLER_WEBHOOK_SECRET
    lookups = None
    if request.config.getoption("--product"):
        lookups = LookupCatalog(request.getfixturevalue("product_target"))
    yield open_desk(target, secret, lookups)
    if lookups is not None:
        lookups.archive_everything()


@pytest.fixture(scope="session")
def cursor(target: Target, desk: FulfillmentDesk) -> int:
    """A sequence of the log near its end: the CREATED event of a fulfillment the run made."""
    return sequence_of(target, desk.open(ending=LATE))
