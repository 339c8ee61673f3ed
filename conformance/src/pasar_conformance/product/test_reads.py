"""ProductService's reads: categories, products, one product, packages in a batch."""

from __future__ import annotations

import pytest

from pasar.product.v1 import product_pb2
from pasar.product.v1 import product_service_pb2 as catalog_pb2
from pasar.product.v1 import product_service_pb2_grpc as catalog_grpc
from pasar.product.v1.error_reason_pb2 import ErrorReason
from pasar_conformance.answers import expect_reason
from pasar_conformance.product.seed import CURRENCY, Catalog
from pasar_conformance.target import CALL_TIMEOUT_SECONDS, Target


@pytest.fixture(scope="module")
def stub(target: Target) -> catalog_grpc.ProductServiceStub:
    return catalog_grpc.ProductServiceStub(target.channel)


def all_categories(stub: catalog_grpc.ProductServiceStub) -> list[product_pb2.Category]:
    categories: list[product_pb2.Category] = []
    token = ""
    while True:
        page = stub.ListCategories(
            catalog_pb2.ListCategoriesRequest(page_size=100, page_token=token), timeout=CALL_TIMEOUT_SECONDS
        )
        categories.extend(page.categories)
        token = page.next_page_token
        if not token:
            return categories


def test_categories_are_listed_in_display_order_with_their_fields(
    shop: Catalog, stub: catalog_grpc.ProductServiceStub
) -> None:
    made = [shop.category(f"Kategori {n}") for n in range(2)]
    listed = all_categories(stub)
    keys = [(c.sort_order, c.id) for c in listed]
    assert keys == sorted(keys), "categories are not in display order (sort_order, then id)"
    by_id = {c.id: c for c in listed}
    for category in made:
        assert by_id.get(category.id) == category


def test_a_product_is_read_with_its_packages_in_display_order_and_price_range(
    shop: Catalog, stub: catalog_grpc.ProductServiceStub
) -> None:
    category = shop.category()
    product = shop.product(category.id, display_name="Pulsa Konformitas", description="untuk uji")
    second = shop.package(product.id, stock=3, price=25_000, sort_order=1)
    first = shop.package(product.id, stock=7, price=11_500, sort_order=0)

    got = stub.GetProduct(catalog_pb2.GetProductRequest(id=product.id), timeout=CALL_TIMEOUT_SECONDS).product

    assert (got.id, got.display_name, got.description, got.category_id, got.image_url) == (
        product.id,
        "Pulsa Konformitas",
        "untuk uji",
        category.id,
        product.image_url,
    )
    assert got.state == product_pb2.PRODUCT_STATE_ACTIVE
    assert [p.id for p in got.packages] == [first.id, second.id]
    assert [(p.stock_available, p.price.amount, p.price.currency_code) for p in got.packages] == [
        (7, 11_500, CURRENCY),
        (3, 25_000, CURRENCY),
    ]
    assert all(p.product_id == product.id for p in got.packages)
    assert (got.min_price.amount, got.max_price.amount) == (11_500, 25_000)
    assert got.HasField("create_time")
    assert got.HasField("update_time")


def test_an_unknown_product_is_not_found_naming_it(
    target: Target, stub: catalog_grpc.ProductServiceStub
) -> None:
    unknown = target.run.new("nothing")
    expect_reason(
        lambda: stub.GetProduct(catalog_pb2.GetProductRequest(id=unknown), timeout=CALL_TIMEOUT_SECONDS),
        ErrorReason.Name(ErrorReason.PRODUCT_NOT_FOUND),
        metadata={"product_id": unknown},
    )


def test_an_archived_product_is_not_found_nor_listed(
    shop: Catalog, stub: catalog_grpc.ProductServiceStub
) -> None:
    category = shop.category()
    kept, archived = shop.product(category.id), shop.product(category.id)
    shop.archive(archived.id)
    expect_reason(
        lambda: stub.GetProduct(catalog_pb2.GetProductRequest(id=archived.id), timeout=CALL_TIMEOUT_SECONDS),
        ErrorReason.Name(ErrorReason.PRODUCT_NOT_FOUND),
        metadata={"product_id": archived.id},
    )
    listed = stub.ListProducts(
        catalog_pb2.ListProductsRequest(category_id=category.id), timeout=CALL_TIMEOUT_SECONDS
    )
    assert [p.id for p in listed.products] == [kept.id]


def test_products_are_listed_by_id_with_packages_and_price_range(
    shop: Catalog, stub: catalog_grpc.ProductServiceStub
) -> None:
    category = shop.category()
    made = [shop.packages((1, 2), category_id=category.id) for _ in range(3)]
    listed = stub.ListProducts(
        catalog_pb2.ListProductsRequest(category_id=category.id), timeout=CALL_TIMEOUT_SECONDS
    )
    assert [p.id for p in listed.products] == sorted(packages[0].product_id for packages in made)
    assert not listed.next_page_token
    for product in listed.products:
        assert product.category_id == category.id
        assert [p.price.amount for p in product.packages] == [10_000, 20_000]
        assert (product.min_price.amount, product.max_price.amount) == (10_000, 20_000)


def test_a_search_matches_names_ignoring_case(shop: Catalog, stub: catalog_grpc.ProductServiceStub) -> None:
    category = shop.category()
    marker = shop.target.run.new("Cari").upper()
    wanted = shop.product(category.id, display_name=f"Voucher {marker} Emas")
    shop.product(category.id, display_name="Voucher Perak")
    listed = stub.ListProducts(
        catalog_pb2.ListProductsRequest(category_id=category.id, query=marker.lower()),
        timeout=CALL_TIMEOUT_SECONDS,
    )
    assert [p.id for p in listed.products] == [wanted.id]


def test_packages_are_read_in_the_order_asked_with_price_stock_and_product(
    shop: Catalog, stub: catalog_grpc.ProductServiceStub, target: Target
) -> None:
    first, second = shop.packages((4, 9))
    product = stub.GetProduct(
        catalog_pb2.GetProductRequest(id=first.product_id), timeout=CALL_TIMEOUT_SECONDS
    ).product
    answer = stub.BatchGetPackages(
        catalog_pb2.BatchGetPackagesRequest(ids=[second.id, first.id]),
        metadata=target.caller_metadata,
        timeout=CALL_TIMEOUT_SECONDS,
    )
    assert [p.id for p in answer.packages] == [second.id, first.id]
    assert [(p.stock_available, p.price.amount) for p in answer.packages] == [(9, 20_000), (4, 10_000)]
    assert {(p.product_id, p.product_display_name) for p in answer.packages} == {
        (product.id, product.display_name)
    }


def test_a_batch_with_an_unknown_package_is_not_found_naming_it(
    shop: Catalog, stub: catalog_grpc.ProductServiceStub, target: Target
) -> None:
    [known] = shop.packages()
    unknown = target.run.new("pkg")
    expect_reason(
        lambda: stub.BatchGetPackages(
            catalog_pb2.BatchGetPackagesRequest(ids=[known.id, unknown]),
            metadata=target.caller_metadata,
            timeout=CALL_TIMEOUT_SECONDS,
        ),
        ErrorReason.Name(ErrorReason.PACKAGE_NOT_FOUND),
        metadata={"package_id": unknown},
    )


def test_the_public_reads_need_no_credential(shop: Catalog, target: Target) -> None:
    """ListCategories, ListProducts and GetProduct have HTTP routes: anyone may call them."""
    [package] = shop.packages()
    stub = catalog_grpc.ProductServiceStub(target.channel)
    stub.ListCategories(catalog_pb2.ListCategoriesRequest(page_size=1), timeout=CALL_TIMEOUT_SECONDS)
    stub.ListProducts(catalog_pb2.ListProductsRequest(page_size=1), timeout=CALL_TIMEOUT_SECONDS)
    got = stub.GetProduct(catalog_pb2.GetProductRequest(id=package.product_id), timeout=CALL_TIMEOUT_SECONDS)
    assert got.product.id == package.product_id
