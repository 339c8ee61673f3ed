"""Rupiah as the contracts carry it: ``pasar.common.v1.Money`` with an integer of whole rupiah.

The catalog sells in one currency, IDR; a price in any other currency is refused rather
than converted.
"""

from __future__ import annotations

from pasar.common.v1 import money_pb2
from pasar_product import reasons

CURRENCY = "IDR"


def rupiah(amount: int) -> money_pb2.Money:
    """The Money message of an amount of whole rupiah."""
    return money_pb2.Money(currency_code=CURRENCY, amount=amount)


def rupiah_amount(money: money_pb2.Money, field: str) -> int:
    """The whole-rupiah amount of a price from a request; field names it in the error."""
    if money.currency_code != CURRENCY:
        raise reasons.invalid_field(
            f"{field}.currency_code", f"the catalog sells in {CURRENCY} only, not {money.currency_code!r}"
        )
    return money.amount


def format_rupiah(amount: int) -> str:
    """The Indonesian way of writing an amount: ``Rp 15.000``."""
    return "Rp " + f"{amount:,}".replace(",", ".")
