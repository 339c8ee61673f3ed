"""The search key that makes name search ignore case and accents, page sizes and price ranges.

(Rupiah themselves are pasar_kit.money's, tested in the kit.)
"""

from __future__ import annotations

import pytest

from pasar_kit.timestamps import utc_now
from pasar_product.catalog import PackageView, ProductListing, ProductView, page_size_or_default, search_key
from pasar_product.models import ProductState


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
    product = ProductView(
        "pulsa-nusantara", "Pulsa Nusantara", "", "pulsa", "", ProductState.ACTIVE, now, now, "[]", None
    )
    packages = [
        PackageView(f"p{price}", product.id, f"Rp {price}", "", price, 1, 0, product.display_name, "[]", None)
        for price in (26_000, 6_500, 99_500)
    ]
    listing = ProductListing(product, packages)
    assert (listing.min_price, listing.max_price) == (6_500, 99_500)
    assert (ProductListing(product).min_price, ProductListing(product).max_price) == (None, None)
