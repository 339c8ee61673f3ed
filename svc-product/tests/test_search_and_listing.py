"""The folding that makes search ignore case and accents, a query's words, the keywords an
administrator may give, page sizes and price ranges.

(Rupiah themselves are pasar_kit.money's, tested in the kit.)
"""

from __future__ import annotations

import pytest

from pasar_kit.timestamps import utc_now
from pasar_product.catalog import PackageView, ProductListing, ProductView, page_size_or_default
from pasar_product.models import ProductState
from pasar_product.search import (
    category_search_text,
    keyword_problems,
    product_search_text,
    query_words,
    search_key,
    trimmed_keywords,
)


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
    ("query", "words"),
    [
        ("Token Listrik", ("token", "listrik")),
        ("  pulsa \t TELKOMSEL ", ("pulsa", "telkomsel")),
        ("pulsa Pulsa PULSA", ("pulsa",)),
        ("Éspresso", ("espresso",)),
        ("   ", ()),
        ("", ()),
    ],
)
def test_a_query_is_its_folded_words_each_once(query: str, words: tuple[str, ...]) -> None:
    assert query_words(query) == words


def test_a_products_search_text_holds_both_names_and_every_keyword_folded() -> None:
    text = product_search_text(
        "Token Listrik Prabayar", "Prepaid Electricity Token", ["PLN", "kWh", "Listrík"]
    )
    assert text == "token listrik prabayar prepaid electricity token pln kwh listrik"
    assert product_search_text("Pulsa", "", []) == "pulsa"
    assert category_search_text("Voucher Game", "Game Vouchers") == "voucher game game vouchers"
    assert category_search_text("Pulsa", "") == "pulsa"


def test_keywords_are_trimmed_and_inner_white_space_made_one_space() -> None:
    assert trimmed_keywords([" pln ", "token\t listrik", "PLN-Pasca"]) == (
        "pln",
        "token listrik",
        "PLN-Pasca",
    )


def test_a_blank_keyword_or_a_repeat_in_other_case_or_accents_is_named() -> None:
    assert keyword_problems(["pln", "listrik", "token listrik"], "product.search_keywords") == []
    problems = keyword_problems(
        ["pln", "   ", " PLN", "Listrík", "listrik", "token  listrik", "token listrik"], "k"
    )
    assert [field for field, _why in problems] == ["k[1]", "k[2]", "k[4]", "k[6]"]
    assert "k[0]" in dict(problems)["k[2]"]


@pytest.mark.parametrize(
    ("requested", "used"), [(0, 20), (-1, 20), (1, 1), (20, 20), (100, 100), (1000, 100)]
)
def test_page_sizes_follow_the_contract(requested: int, used: int) -> None:
    assert page_size_or_default(requested, 20) == used


def test_a_products_price_range_comes_from_its_packages() -> None:
    now = utc_now()
    product = ProductView(
        "pulsa-nusantara",
        "Pulsa Nusantara",
        "",
        "",
        "",
        (),
        "pulsa",
        "",
        ProductState.ACTIVE,
        now,
        now,
        "[]",
        None,
    )
    packages = [
        PackageView(
            f"p{price}",
            product.id,
            f"Rp {price}",
            "",
            "",
            "",
            price,
            1,
            0,
            product.display_name,
            "",
            "[]",
            None,
        )
        for price in (26_000, 6_500, 99_500)
    ]
    listing = ProductListing(product, packages)
    assert (listing.min_price, listing.max_price) == (6_500, 99_500)
    assert (ProductListing(product).min_price, ProductListing(product).max_price) == (None, None)
