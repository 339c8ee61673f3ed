"""The checks every suite runs (pasar_conformance.common), for the catalog's contract."""

from __future__ import annotations

from pasar_conformance.common import CommonChecks
from pasar_conformance.product.suite import PRODUCT_SUITE


class TestCommon(CommonChecks):
    suite = PRODUCT_SUITE
