"""The checks every suite runs (pasar_conformance.common), for the order service's contract."""

from __future__ import annotations

from pasar_conformance.common import CommonChecks
from pasar_conformance.order.suite import ORDER_SUITE


class TestCommon(CommonChecks):
    suite = ORDER_SUITE
