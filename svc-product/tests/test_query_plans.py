"""Lists and gets read one index range, never the whole catalog nor a sort of it, on both databases."""

from __future__ import annotations

import peewee
import pytest

from pasar_product.catalog import packages_of, products_after
from pasar_product.models import Package, Product
from pasar_product.synthetic import load_synthetic_catalog


def plan(database: peewee.Database, query: peewee.ModelSelect[Product] | peewee.ModelSelect[Package]) -> str:
    """The database's plan for query, as one line of text."""
    sql, params = query.sql()
    explain = "EXPLAIN QUERY PLAN " if isinstance(database, peewee.SqliteDatabase) else "EXPLAIN "
    with database.connection_context():
        return " | ".join(str(row) for row in database.execute_sql(explain + sql, params).fetchall())


@pytest.fixture
def catalog(database: peewee.Database) -> peewee.Database:
    load_synthetic_catalog(database, 300)
    with database.connection_context():
        for table in ("product", "package"):
            database.execute_sql(
                f"ANALYZE {'TABLE ' if not isinstance(database, peewee.SqliteDatabase) else ''}{table}"
            )
    return database


@pytest.mark.parametrize(
    ("name", "index"),
    [
        ("first page", "product_state_id"),
        ("later page", "product_state_id"),
        ("category page", "product_category_id_state_id"),
        ("packages of a page", "package_product_id_sort_order_id"),
    ],
)
def test_each_read_uses_its_index_and_sorts_nothing(catalog: peewee.Database, name: str, index: str) -> None:
    queries: dict[str, peewee.ModelSelect[Product] | peewee.ModelSelect[Package]] = {
        "first page": products_after("", 21),
        "later page": products_after("sintetis-000150", 21),
        "category page": products_after("sintetis-000150", 21, category_id="sintetis-03"),
        "packages of a page": packages_of([f"sintetis-{number:06d}" for number in range(151, 172)]),
    }
    described = plan(catalog, queries[name])
    assert index in described, described
    assert "TEMP B-TREE" not in described.upper(), described  # SQLite sorting rows itself
    assert "filesort" not in described, described  # MariaDB sorting rows itself
    assert "SCAN" not in described.replace("SCAN t1 USING INDEX", ""), described


@pytest.mark.parametrize(
    ("name", "index"),
    [("search", "product_state_id"), ("search of a category", "product_category_id_state_id")],
)
def test_a_search_reads_the_same_index_range_and_sorts_nothing(
    catalog: peewee.Database, name: str, index: str
) -> None:
    """A search filters the rows of the list's index range (the categories whose names hold a
    word are read once, from their small table): it never sorts the catalog, so a page stops
    at its twenty-first match."""
    queries = {
        "search": products_after("sintetis-000150", 21, words=("pulsa", "telkomsel")),
        "search of a category": products_after("", 21, category_id="sintetis-03", words=("pln",)),
    }
    described = plan(catalog, queries[name])
    assert index in described, described
    assert "TEMP B-TREE" not in described.upper(), described
    assert "filesort" not in described, described
    assert "SCAN t1" not in described.replace("SCAN t1 USING INDEX", ""), described
