"""Rupiah as the contracts carry it: ``pasar.common.v1.Money`` with an integer of whole rupiah.

The shop sells in one currency, IDR: a price in any other currency is refused rather than
converted. Every service builds and reads its Money messages here, and writes an amount for
people (e-mails) with :func:`format_rupiah`, so that no two services spell rupiah apart.
"""

from __future__ import annotations

from pasar.common.v1 import money_pb2
from pasar_kit.errors import InvalidArgument

CURRENCY_CODE = "IDR"


def rupiah(amount: int) -> money_pb2.Money:
    """The Money message of an amount of whole rupiah."""
    return money_pb2.Money(currency_code=CURRENCY_CODE, amount=amount)


def rupiah_amount(money: money_pb2.Money, field: str) -> int:
    """The whole-rupiah amount of a price from a request; field names it in the error."""
    if money.currency_code != CURRENCY_CODE:
        violation = f"{field}.currency_code"
        why = f"the shop sells in {CURRENCY_CODE} only, not {money.currency_code!r}"
        raise InvalidArgument(f"invalid {violation}: {why}", field_violations=[(violation, why)])
    return money.amount


def format_rupiah(amount: int) -> str:
    """An amount as Indonesians write it: ``Rp 15.000`` (a dot between thousands)."""
    return "Rp " + f"{amount:,}".replace(",", ".")
