"""The checks every suite runs (pasar_conformance.common), for the fulfillment contract."""

from __future__ import annotations

from pasar_conformance.common import CommonChecks
from pasar_conformance.fulfillment.suite import FULFILLMENT_SUITE


class TestCommon(CommonChecks):
    suite = FULFILLMENT_SUITE
