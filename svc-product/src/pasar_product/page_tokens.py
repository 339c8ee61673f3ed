"""The catalog's page tokens: what the last row of a products or categories page was.

The scheme (sealed, opaque, bound to the request's filters) is the kit's
(:mod:`pasar_kit.page_tokens`); this module says which key orders each list.
"""

from __future__ import annotations

from collections.abc import Sequence

from pasar_kit.page_tokens import PageTokens
from pasar_product import reasons

_TOKENS = PageTokens("product")


def product_page_token(last_product_id: str, filters: Sequence[str]) -> str:
    """The token of the products page after last_product_id (products are ordered by id)."""
    return _TOKENS.encode("products", [last_product_id], filters)


def after_product(token: str, filters: Sequence[str]) -> str:
    """The id of the last product of the page a products token came from."""
    match _TOKENS.decode(token, "products", filters):
        case [str(last_product_id)]:
            return last_product_id
    raise reasons.page_token_not_ours()


def category_page_token(sort_order: int, category_id: str) -> str:
    """The token of the categories page after this one (ordered by sort order, then id)."""
    return _TOKENS.encode("categories", [sort_order, category_id])


def after_category(token: str) -> tuple[int, str]:
    """The sort order and id of the last category of the page a categories token came from."""
    match _TOKENS.decode(token, "categories"):
        case [int(sort_order), str(category_id)] if not isinstance(sort_order, bool):
            return sort_order, category_id
    raise reasons.page_token_not_ours()
