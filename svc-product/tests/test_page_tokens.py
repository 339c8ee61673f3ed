"""The catalog's page tokens lead back to the last row of their page, and only in their
own list (the scheme itself is tested in libs/pasar-kit/tests/test_page_tokens.py)."""

from __future__ import annotations

import pytest

from pasar.common.v1.error_reason_pb2 import ErrorReason as CommonErrorReason
from pasar_kit.errors import InvalidArgument
from pasar_product import page_tokens

FILTERS = ("pulsa", "nusantara")


def test_a_products_token_names_the_last_product_of_its_page() -> None:
    token = page_tokens.product_page_token("pulsa-nusantara", FILTERS)
    assert page_tokens.after_product(token, FILTERS) == "pulsa-nusantara"


def test_a_categories_token_names_the_sort_order_and_id_of_the_last_category() -> None:
    token = page_tokens.category_page_token(30, "token-listrik")
    assert page_tokens.after_category(token) == (30, "token-listrik")


def test_a_token_of_the_other_list_is_refused() -> None:
    categories_token = page_tokens.category_page_token(10, "pulsa")
    products_token = page_tokens.product_page_token("pulsa", ())
    for call in (
        lambda: page_tokens.after_product(categories_token, ()),
        lambda: page_tokens.after_category(products_token),
    ):
        with pytest.raises(InvalidArgument) as caught:
            call()
        assert caught.value.reason == CommonErrorReason.Name(CommonErrorReason.INVALID_PAGE_TOKEN)
