"""Rupiah in whole units, and the search key that makes name search ignore case and accents."""

from __future__ import annotations

import pytest

from pasar.common.v1 import money_pb2
from pasar_kit.errors import InvalidArgument
from pasar_kit.timestamps import utc_now
from pasar_product.catalog import PackageView, ProductListing, ProductView, page_size_or_default, search_key
from pasar_product.models import PRODUCT_ACTIVE
from pasar_product.money import format_rupiah, rupiah, rupiah_amount


def test_rupiah_is_an_integer_amount_of_idr() -> None:
    assert rupiah(11_500) == money_pb2.Money(currency_code="IDR", amount=11_500)
    assert rupiah_amount(rupiah(11_500), "package.price") == 11_500


def test_a_price_in_another_currency_is_refused_naming_the_field() -> None:
    with pytest.raises(InvalidArgument) as caught:
        rupiah_amount(money_pb2.Money(currency_code="USD", amount=1), "package.price")
    assert caught.value.field_violations[0][0] == "package.price.currency_code"


@pytest.mark.parametrize(
    ("amount", "written"), [(0, "Rp 0"), (500, "Rp 500"), (15_000, "Rp 15.000"), (1_001_500, "Rp 1.001.500")]
)
def test_rupiah_are_written_the_indonesian_way(amount: int, written: str) -> None:
    assert format_rupiah(amount) == written


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("Pulsa Nusantara", "pulsa nusantara"),
        ("TOKEN LISTRIK", "token listrik"),
        ("Kopí Éspresso", "kopi espresso"),
        ("Straße", "strasse"),
        ("100% Hemat_Banget", "100% hemat_banget"),
    ],
)
def test_the_search_key_ignores_case_and_accents(text: str, key: str) -> None:
    assert search_key(text) == key


@pytest.mark.parametrize(
    ("requested", "used"), [(0, 20), (-1, 20), (1, 1), (20, 20), (100, 100), (1000, 100)]
)
def test_page_sizes_follow_the_contract(requested: int, used: int) -> None:
    assert page_size_or_default(requested, 20) == used


def test_a_products_price_range_comes_from_its_packages() -> None:
    now = utc_now()
    product = ProductView("pulsa-nusantara", "Pulsa Nusantara", "", "pulsa", "", PRODUCT_ACTIVE, now, now)
    packages = [
        PackageView(f"p{price}", product.id, f"Rp {price}", "", price, 1, 0, product.display_name)
        for price in (26_000, 6_500, 99_500)
    ]
    listing = ProductListing(product, packages)
    assert (listing.min_price, listing.max_price) == (6_500, 99_500)
    assert (ProductListing(product).min_price, ProductListing(product).max_price) == (None, None)
