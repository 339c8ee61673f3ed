"""Page tokens: they lead to the right place, and only for the list and filters that issued them."""

from __future__ import annotations

import base64

import pytest

from pasar_kit.errors import InvalidArgument
from pasar_product import page_tokens

FILTERS = ("pulsa", "nusantara")


def test_a_products_token_names_the_last_product_of_its_page() -> None:
    token = page_tokens.product_page_token("pulsa-nusantara", FILTERS)
    assert page_tokens.after_product(token, FILTERS) == "pulsa-nusantara"


def test_a_categories_token_names_the_sort_order_and_id_of_the_last_category() -> None:
    token = page_tokens.category_page_token(30, "token-listrik")
    assert page_tokens.after_category(token) == (30, "token-listrik")


def test_tokens_are_opaque_url_safe_and_short() -> None:
    token = page_tokens.product_page_token("p" * 63, ("c" * 63, "q" * 400))
    assert "pulsa" not in page_tokens.product_page_token("pulsa", FILTERS)
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert len(token) <= 512  # the contract's limit on page_token


def refusal(call: object) -> InvalidArgument:
    assert callable(call)
    with pytest.raises(InvalidArgument) as caught:
        call()
    assert caught.value.reason == "INVALID_PAGE_TOKEN"
    assert [field for field, _ in caught.value.field_violations] == ["page_token"]
    return caught.value


def test_a_token_used_with_other_filters_is_refused() -> None:
    token = page_tokens.product_page_token("pulsa-nusantara", FILTERS)
    error = refusal(lambda: page_tokens.after_product(token, ("pulsa", "samudra")))
    assert "other filters" in error.message
    refusal(lambda: page_tokens.after_product(token, ("", "nusantara")))


def test_a_token_of_another_list_is_refused() -> None:
    categories_token = page_tokens.category_page_token(10, "pulsa")
    refusal(lambda: page_tokens.after_product(categories_token, ()))
    products_token = page_tokens.product_page_token("pulsa", ())
    refusal(lambda: page_tokens.after_category(products_token))


@pytest.mark.parametrize(
    "token",
    [
        "not a token",
        "%%%",
        "AAAA",
        "",
        base64.urlsafe_b64encode(b'[1,"products","x","pulsa"]').decode(),
        "Zm9vYmFy" * 10,
    ],
)
def test_made_up_tokens_are_refused(token: str) -> None:
    refusal(lambda: page_tokens.after_product(token, FILTERS))


def test_an_edited_token_is_refused() -> None:
    token = page_tokens.product_page_token("pulsa-nusantara", FILTERS)
    raw = bytearray(base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)))
    raw[-3] ^= 0x01  # change one letter of the product id inside
    edited = base64.urlsafe_b64encode(bytes(raw)).decode().rstrip("=")
    refusal(lambda: page_tokens.after_product(edited, FILTERS))
