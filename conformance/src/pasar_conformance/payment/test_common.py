"""The checks every suite runs (pasar_conformance.common), for the payment contract."""

from __future__ import annotations

from pasar_conformance.common import CommonChecks
from pasar_conformance.payment.suite import PAYMENT_SUITE


class TestCommon(CommonChecks):
    suite = PAYMENT_SUITE
