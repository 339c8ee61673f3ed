"""Channel fees: a flat part plus a percentage rounded up to the next rupiah."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pasar_payment.fees import channel_fee


@pytest.mark.parametrize(
    ("amount", "flat_fee", "percent_fee_bps", "fee"),
    [
        (50_000, 4_000, 0, 4_000),  # a virtual account: flat only
        (15_000, 0, 70, 105),  # QRIS 0.7 %: exactly 105
        (15_001, 0, 70, 106),  # 105.007 is rounded up
        (1, 0, 70, 1),  # 0.007 still costs a rupiah
        (1_000, 0, 70, 7),
        (9_999_999, 0, 70, 70_000),  # 69 999.993 rounded up
        (12_345, 0, 200, 247),  # e-wallet 2 %: 246.9
        (10_000, 0, 150, 150),  # e-wallet 1.5 %: exact
        (999, 1_000, 100, 1_010),  # flat plus 9.99 rounded up
        (0, 5_000, 0, 5_000),
    ],
)
def test_fee_is_flat_plus_the_percentage_rounded_up(
    amount: int, flat_fee: int, percent_fee_bps: int, fee: int
) -> None:
    assert channel_fee(amount, flat_fee, percent_fee_bps) == fee


@given(
    amount=st.integers(min_value=0, max_value=10**15),
    flat_fee=st.integers(min_value=0, max_value=100_000),
    percent_fee_bps=st.integers(min_value=0, max_value=10_000),
)
def test_fee_matches_exact_arithmetic(amount: int, flat_fee: int, percent_fee_bps: int) -> None:
    expected = flat_fee + math.ceil(Fraction(amount * percent_fee_bps, 10_000))
    assert channel_fee(amount, flat_fee, percent_fee_bps) == expected


@pytest.mark.parametrize(("amount", "flat_fee", "percent_fee_bps"), [(-1, 0, 70), (1, -1, 0), (1, 0, -70)])
def test_negative_terms_are_refused(amount: int, flat_fee: int, percent_fee_bps: int) -> None:
    with pytest.raises(ValueError, match="never negative"):
        channel_fee(amount, flat_fee, percent_fee_bps)
