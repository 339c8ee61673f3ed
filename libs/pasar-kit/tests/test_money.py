"""Rupiah: the Money message every service sends, and the way people read an amount."""

from __future__ import annotations

import pytest

from pasar.common.v1 import money_pb2
from pasar_kit.errors import InvalidArgument
from pasar_kit.money import CURRENCY_CODE, format_rupiah, rupiah, rupiah_amount


def test_rupiah_is_an_integer_amount_of_idr() -> None:
    assert CURRENCY_CODE == "IDR"
    assert rupiah(11_500) == money_pb2.Money(currency_code="IDR", amount=11_500)
    assert rupiah_amount(rupiah(11_500), "package.price") == 11_500


def test_a_price_in_another_currency_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidArgument) as caught:
        rupiah_amount(money_pb2.Money(currency_code="USD", amount=1), "package.price")
    assert [field for field, _ in caught.value.field_violations] == ["package.price.currency_code"]


@pytest.mark.parametrize(
    ("amount", "written"),
    [
        (0, "Rp 0"),
        (500, "Rp 500"),
        (15_000, "Rp 15.000"),
        (1_250_500, "Rp 1.250.500"),
        (1_001_500, "Rp 1.001.500"),
    ],
)
def test_rupiah_are_written_the_indonesian_way(amount: int, written: str) -> None:
    assert format_rupiah(amount) == written
