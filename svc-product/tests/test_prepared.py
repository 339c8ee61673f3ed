"""PreparedQuery: the SQL built once per shape answers every call of that shape as peewee would."""

from __future__ import annotations

import peewee
import pytest
from support import Admin

from pasar_kit.prepared import PreparedQuery
from pasar_product import catalog, search
from pasar_product.models import Product, database_proxy


@pytest.fixture
def products(admin: Admin, connected: peewee.Database) -> list[str]:
    admin.category("pulsa")
    admin.category("game")
    ids = [f"produk-{number}" for number in range(6)]
    for number, product_id in enumerate(ids):
        admin.product_with_packages(product_id, "pulsa" if number % 2 else "game", stocks=(1, 2))
    return ids


def test_each_shape_answers_as_the_query_built_each_time(products: list[str]) -> None:
    prepared = PreparedQuery(database_proxy, catalog.products_after)
    for after, limit, category_id in [
        ("", 3, ""),
        ("produk-1", 3, ""),
        ("produk-2", 10, ""),  # the same shape, other values
        ("", 10, "pulsa"),
        ("produk-0", 2, "game"),
    ]:
        expected = catalog.tuples(catalog.products_after(after, limit, category_id))
        assert prepared.rows(after, limit, category_id) == expected
        assert expected


def test_lists_of_each_length_are_bound_item_by_item(products: list[str]) -> None:
    prepared = PreparedQuery(database_proxy, lambda ids: catalog.packages_of(list(ids)))
    for ids in [tuple(products[:1]), tuple(products[2:4]), tuple(products[3:5]), tuple(products)]:
        assert prepared.rows(ids) == catalog.tuples(catalog.packages_of(list(ids)))


def test_a_query_that_changes_its_values_is_refused(connected: peewee.Database) -> None:
    prepared = PreparedQuery(database_proxy, lambda word: Product.select().where(search.matching([word])))
    with pytest.raises(ValueError, match="cannot be prepared"):
        prepared.rows("pulsa")
