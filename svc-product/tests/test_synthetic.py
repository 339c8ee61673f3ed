"""The generated catalog of the benchmarks: reproducible, idempotent, valid, and paged like any other."""

from __future__ import annotations

import json

import peewee

from pasar.product.v1 import product_pb2, product_service_pb2
from pasar.product.v1.product_service_pb2_grpc import ProductServiceStub
from pasar_kit.destinations import destination_violations
from pasar_kit.pipeline import validate
from pasar_product.models import Category, Package, Product
from pasar_product.search import product_search_text
from pasar_product.synthetic import load_synthetic_catalog, packages_of


def counts(database: peewee.Database) -> tuple[int, int, int]:
    with database.connection_context():
        return Category.select().count(), Product.select().count(), Package.select().count()


def test_products_get_three_to_five_packages_and_a_second_load_adds_nothing(
    database: peewee.Database,
) -> None:
    first = load_synthetic_catalog(database, 30)
    expected_packages = sum(packages_of(number) for number in range(1, 31))
    assert (first.products, first.packages) == (30, expected_packages)
    assert counts(database) == (10, 30, expected_packages)
    assert {packages_of(number) for number in range(1, 31)} == {3, 4, 5}
    again = load_synthetic_catalog(database, 30)
    assert (again.products, again.packages) == (0, 0)
    assert counts(database) == (10, 30, expected_packages)


def test_a_larger_load_adds_only_the_missing_products(database: peewee.Database) -> None:
    load_synthetic_catalog(database, 10)
    more = load_synthetic_catalog(database, 2_500)  # spans two chunks
    assert more.products == 2_490
    assert counts(database)[1] == 2_500


def test_synthetic_products_are_served_and_searchable(
    database: peewee.Database, stub: ProductServiceStub
) -> None:
    load_synthetic_catalog(database, 40)
    page = stub.ListProducts(product_service_pb2.ListProductsRequest(page_size=5), timeout=10)
    assert [product.id for product in page.products] == [f"sintetis-{number:06d}" for number in range(1, 6)]
    for product in page.products:
        validate(product)
        assert product.min_price.amount <= product.max_price.amount
        assert product.delivery_kind != product_pb2.DELIVERY_KIND_UNSPECIFIED, "it can be ordered"
        examples = {field.name: field.example for field in product.destination_fields}
        assert destination_violations(product.destination_fields, examples) == []
        for package in product.packages:
            validate(package)
            assert 50 <= package.stock_available <= 500
            assert list(package.destination_fields) == list(product.destination_fields)
            assert package.delivery_kind == product.delivery_kind
    found = stub.ListProducts(
        product_service_pb2.ListProductsRequest(page_size=100, query="permata"), timeout=10
    ).products
    assert [product.id for product in found] == [f"sintetis-{number:06d}" for number in (6, 14, 22, 30, 38)]
    assert [field.name for field in found[0].destination_fields] == ["user_id", "zone_id"]
    in_category = stub.ListProducts(
        product_service_pb2.ListProductsRequest(page_size=100, category_id="sintetis-01"), timeout=10
    ).products
    assert len(in_category) == 4


def test_synthetic_products_speak_english_and_are_found_by_their_demo_products_keywords(
    database: peewee.Database, stub: ProductServiceStub
) -> None:
    load_synthetic_catalog(database, 40)
    found = stub.ListProducts(
        product_service_pb2.ListProductsRequest(page_size=100, query="PLN token"), timeout=10
    ).products
    assert [product.id for product in found] == [f"sintetis-{number:06d}" for number in (2, 10, 18, 26, 34)]
    token = found[0]
    assert (token.display_name_en, token.packages[0].display_name_en) == (
        "Synthetic Token 000002",
        "Package 1",
    )
    assert "pln" in token.search_keywords
    with database.connection_context():
        for product in Product.select():
            keywords = json.loads(product.search_keywords)
            expected = product_search_text(product.display_name, product.display_name_en, keywords)
            assert product.search_text == expected, product.id
