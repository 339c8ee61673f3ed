"""What a payment channel charges on top of the order amount.

The fee of an amount through a channel is::

    fee = flat_fee + ceil(amount * percent_fee_bps / 10000)

in whole rupiah: the percentage part is rounded up to the next rupiah (a provider never
takes less than its rate), and computed in integers so that no float rounding creeps in.
QRIS at 0.7 % (70 bps) on Rp 15.000 is Rp 105; on Rp 15.001 it is Rp 106 (105.007
rounded up). The storefront shows the same figure before checkout, computed the same way.
"""

from __future__ import annotations

BASIS_POINTS = 10_000


def channel_fee(amount: int, flat_fee: int, percent_fee_bps: int) -> int:
    """The fee in whole rupiah for amount through a channel with these terms."""
    if amount < 0 or flat_fee < 0 or percent_fee_bps < 0:
        raise ValueError("amounts and rates are never negative")
    return flat_fee + -(-amount * percent_fee_bps // BASIS_POINTS)
