"""ProductService's reads through the real server: lists a page at a time, search, get, batch get."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import peewee
import pytest
from support import Admin

from pasar.common.v1.error_reason_pb2 import ErrorReason as CommonErrorReason
from pasar.product.v1 import product_pb2, product_service_pb2
from pasar.product.v1.error_reason_pb2 import ErrorReason
from pasar.product.v1.product_service_pb2_grpc import ProductServiceStub
from pasar_kit.money import rupiah
from pasar_product import catalog
from pasar_product.messages import product_message
from pasar_testkit.assertions import error_metadata, reason_of, refused, violated_fields

ListProducts = product_service_pb2.ListProductsRequest


def all_product_ids(stub: ProductServiceStub, page_size: int, **filters: str) -> list[str]:
    """Every product id of a listing, following next_page_token to the end."""
    ids: list[str] = []
    token = ""
    while True:
        page = stub.ListProducts(ListProducts(page_size=page_size, page_token=token, **filters), timeout=10)
        assert len(page.products) <= page_size
        ids += [product.id for product in page.products]
        token = page.next_page_token
        if not token:
            return ids


@pytest.fixture
def shop(admin: Admin) -> Admin:
    """Two categories; pulsa has three products, paket-data two; one more is archived."""
    admin.category("pulsa", sort_order=10, display_name="Pulsa")
    admin.category("paket-data", sort_order=20, display_name="Paket Data")
    admin.product("pulsa-nusantara", "pulsa", display_name="Pulsa Nusantara")
    admin.package("pulsa-nusantara", "pulsa-nusantara-25k", price=26_000, stock=250, sort_order=20)
    admin.package("pulsa-nusantara", "pulsa-nusantara-10k", price=11_500, stock=500, sort_order=10)
    admin.package("pulsa-nusantara", "pulsa-nusantara-100k", price=99_500, stock=100, sort_order=30)
    admin.product("pulsa-samudra", "pulsa", display_name="PULSA SAMUDRA")
    admin.product("pulsa-cakrawala", "pulsa", display_name="Pulsa Cakrawala")
    admin.product("data-nusantara", "paket-data", display_name="Paket Data Nusantara")
    admin.package("data-nusantara", "data-nusantara-2gb", price=12_000, stock=400)
    admin.product("data-samudra", "paket-data", display_name="Paket Data Samudra")
    admin.product("pulsa-lama", "pulsa", display_name="Pulsa Lama")
    admin.package("pulsa-lama", "pulsa-lama-5k", price=6_000, stock=10)
    admin.archive("pulsa-lama")
    return admin


def test_categories_are_listed_in_display_order_a_page_at_a_time(
    admin: Admin, stub: ProductServiceStub
) -> None:
    for category_id, sort_order in [("voucher-game", 40), ("pulsa", 10), ("e-money", 40), ("paket-data", 20)]:
        admin.category(category_id, sort_order=sort_order)
    first = stub.ListCategories(product_service_pb2.ListCategoriesRequest(page_size=3), timeout=10)
    assert [category.id for category in first.categories] == ["pulsa", "paket-data", "e-money"]
    assert first.categories[0] == product_pb2.Category(id="pulsa", display_name="Pulsa", sort_order=10)
    admin.category("e-book", sort_order=40)  # sorts before the page's last one: never shown on the next page
    second = stub.ListCategories(
        product_service_pb2.ListCategoriesRequest(page_size=3, page_token=first.next_page_token), timeout=10
    )
    assert [category.id for category in second.categories] == ["voucher-game"]
    assert second.next_page_token == ""
    everything = stub.ListCategories(product_service_pb2.ListCategoriesRequest(), timeout=10)
    assert len(everything.categories) == 5
    assert everything.next_page_token == ""


def test_a_categories_token_is_refused_by_the_products_list(admin: Admin, stub: ProductServiceStub) -> None:
    admin.category("pulsa")
    admin.category("paket-data")
    token = stub.ListCategories(
        product_service_pb2.ListCategoriesRequest(page_size=1), timeout=10
    ).next_page_token
    error = refused(lambda: stub.ListProducts(ListProducts(page_token=token), timeout=10))
    assert (error.code(), reason_of(error)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        CommonErrorReason.Name(CommonErrorReason.INVALID_PAGE_TOKEN),
    )


def test_products_are_listed_by_id_with_packages_and_price_range(
    shop: Admin, stub: ProductServiceStub
) -> None:
    page = stub.ListProducts(ListProducts(), timeout=10)
    assert [product.id for product in page.products] == [
        "data-nusantara",
        "data-samudra",
        "pulsa-cakrawala",
        "pulsa-nusantara",
        "pulsa-samudra",
    ]
    assert page.next_page_token == ""
    nusantara = page.products[3]
    assert [package.id for package in nusantara.packages] == [
        "pulsa-nusantara-10k",
        "pulsa-nusantara-25k",
        "pulsa-nusantara-100k",
    ]
    assert (nusantara.min_price, nusantara.max_price) == (rupiah(11_500), rupiah(99_500))
    assert nusantara.state == product_pb2.PRODUCT_STATE_ACTIVE
    assert nusantara.category_id == "pulsa"
    assert nusantara.image_url == "/images/products/pulsa-nusantara.svg"
    assert {package.product_display_name for package in nusantara.packages} == {"Pulsa Nusantara"}
    assert {package.product_id for package in nusantara.packages} == {"pulsa-nusantara"}
    assert nusantara.create_time.seconds > 0
    assert nusantara.update_time.ToDatetime() >= nusantara.create_time.ToDatetime()
    samudra = page.products[4]
    assert (len(samudra.packages), samudra.HasField("min_price"), samudra.HasField("max_price")) == (
        0,
        False,
        False,
    )


def test_the_default_page_is_twenty_and_the_largest_a_hundred(admin: Admin, stub: ProductServiceStub) -> None:
    admin.category("pulsa")
    for number in range(105):
        admin.product(f"p-{number:03d}", "pulsa")
    assert len(stub.ListProducts(ListProducts(), timeout=10).products) == 20
    largest = stub.ListProducts(ListProducts(page_size=100), timeout=10)
    assert len(largest.products) == 100
    rest = stub.ListProducts(ListProducts(page_size=100, page_token=largest.next_page_token), timeout=10)
    assert [product.id for product in rest.products] == [f"p-{number:03d}" for number in range(100, 105)]
    assert rest.next_page_token == ""
    too_many = refused(lambda: stub.ListProducts(ListProducts(page_size=101), timeout=10))
    assert (too_many.code(), violated_fields(too_many)) == (grpc.StatusCode.INVALID_ARGUMENT, ["page_size"])


def test_paging_is_stable_while_products_are_added(admin: Admin, stub: ProductServiceStub) -> None:
    admin.category("pulsa")
    for number in range(0, 40, 2):
        admin.product(f"p-{number:03d}", "pulsa")
    seen: list[str] = []
    token = ""
    added = 0
    while True:
        page = stub.ListProducts(ListProducts(page_size=3, page_token=token), timeout=10)
        seen += [product.id for product in page.products]
        # Between pages, add one product before the page's end and one after it.
        last = int(seen[-1].removeprefix("p-"))
        for number in (last - 1, last + 1):
            if 0 < number < 40 and f"p-{number:03d}" not in seen:
                admin.product(f"p-{number:03d}", "pulsa")
                added += 1
        token = page.next_page_token
        if not token:
            break
    assert len(seen) == len(set(seen)), "no product is repeated"
    originals = [f"p-{number:03d}" for number in range(0, 40, 2)]
    assert set(originals) <= set(seen), "no product that existed all along is skipped"
    assert seen == sorted(seen)
    assert added > 10


def test_a_category_lists_only_its_products(shop: Admin, stub: ProductServiceStub) -> None:
    assert all_product_ids(stub, 2, category_id="pulsa") == [
        "pulsa-cakrawala",
        "pulsa-nusantara",
        "pulsa-samudra",
    ]
    assert all_product_ids(stub, 1, category_id="paket-data") == ["data-nusantara", "data-samudra"]
    assert all_product_ids(stub, 5, category_id="voucher-game") == []


@pytest.mark.parametrize(
    ("query", "found"),
    [
        ("samudra", ["data-samudra", "pulsa-samudra"]),
        ("SAMUDRA", ["data-samudra", "pulsa-samudra"]),
        ("Pulsa Sam", ["pulsa-samudra"]),
        ("nusántara", ["data-nusantara", "pulsa-nusantara"]),
        ("  data  ", ["data-nusantara", "data-samudra"]),
        ("lama", []),  # archived
        ("%", []),
        ("_", []),
        ("\\", []),
        ("kopi", []),
    ],
)
def test_search_matches_names_ignoring_case_and_accents(
    shop: Admin, stub: ProductServiceStub, query: str, found: list[str]
) -> None:
    assert all_product_ids(stub, 1, query=query) == found


def test_search_and_category_combine(shop: Admin, stub: ProductServiceStub) -> None:
    assert all_product_ids(stub, 1, category_id="pulsa", query="nusantara") == ["pulsa-nusantara"]


def test_wildcards_in_a_search_are_plain_characters(admin: Admin, stub: ProductServiceStub) -> None:
    admin.category("promo")
    admin.product("diskon-50", "promo", display_name="Diskon 50% Pulsa")
    admin.product("diskon-besar", "promo", display_name="Diskon_Besar")
    admin.product("diskon-lain", "promo", display_name="Diskon 500 Pulsa")
    admin.product("diskon-miring", "promo", display_name="Diskon\\Miring")
    assert all_product_ids(stub, 5, query="50%") == ["diskon-50"]
    assert all_product_ids(stub, 5, query="n_b") == ["diskon-besar"]
    assert all_product_ids(stub, 5, query="n\\m") == ["diskon-miring"]


@pytest.mark.parametrize(
    "change",
    [{"query": "samudra"}, {"category_id": "paket-data"}, {"query": ""}, {"category_id": ""}],
)
def test_a_token_used_with_other_filters_is_refused(
    shop: Admin, stub: ProductServiceStub, change: dict[str, str]
) -> None:
    filters = {"category_id": "pulsa", "query": "pulsa"}
    token = stub.ListProducts(ListProducts(page_size=1, **filters), timeout=10).next_page_token
    assert token
    changed = {**filters, **change}
    error = refused(
        lambda: stub.ListProducts(ListProducts(page_size=1, page_token=token, **changed), timeout=10)
    )
    assert (error.code(), reason_of(error), violated_fields(error)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        CommonErrorReason.Name(CommonErrorReason.INVALID_PAGE_TOKEN),
        ["page_token"],
    )


def test_a_token_works_with_the_same_search_in_other_letter_case(
    shop: Admin, stub: ProductServiceStub
) -> None:
    token = stub.ListProducts(ListProducts(page_size=1, query="pulsa"), timeout=10).next_page_token
    page = stub.ListProducts(ListProducts(page_size=5, query="PULSA", page_token=token), timeout=10)
    assert [product.id for product in page.products] == ["pulsa-nusantara", "pulsa-samudra"]


def test_the_same_token_with_another_page_size_is_fine(shop: Admin, stub: ProductServiceStub) -> None:
    token = stub.ListProducts(ListProducts(page_size=1), timeout=10).next_page_token
    page = stub.ListProducts(ListProducts(page_size=10, page_token=token), timeout=10)
    assert [product.id for product in page.products] == [
        "data-samudra",
        "pulsa-cakrawala",
        "pulsa-nusantara",
        "pulsa-samudra",
    ]


@pytest.mark.parametrize("token", ["forged", "eyJhZnRlciI6InB1bHNhIn0", "A" * 80, "-_-_"])
def test_forged_page_tokens_are_refused(shop: Admin, stub: ProductServiceStub, token: str) -> None:
    error = refused(lambda: stub.ListProducts(ListProducts(page_token=token), timeout=10))
    assert (error.code(), reason_of(error)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        CommonErrorReason.Name(CommonErrorReason.INVALID_PAGE_TOKEN),
    )
    error = refused(
        lambda: stub.ListCategories(product_service_pb2.ListCategoriesRequest(page_token=token), timeout=10)
    )
    assert (error.code(), reason_of(error)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        CommonErrorReason.Name(CommonErrorReason.INVALID_PAGE_TOKEN),
    )


def test_get_product_returns_it_with_its_packages(shop: Admin, stub: ProductServiceStub) -> None:
    product = stub.GetProduct(product_service_pb2.GetProductRequest(id="pulsa-nusantara"), timeout=10).product
    listed = [p for p in stub.ListProducts(ListProducts(), timeout=10).products if p.id == "pulsa-nusantara"]
    assert [product] == listed


@pytest.mark.parametrize("product_id", ["pulsa-lama", "tidak-ada"])
def test_archived_and_unknown_products_are_not_found(
    shop: Admin, stub: ProductServiceStub, product_id: str
) -> None:
    missing = refused(
        lambda: stub.GetProduct(product_service_pb2.GetProductRequest(id=product_id), timeout=10)
    )
    assert (missing.code(), reason_of(missing), error_metadata(missing)) == (
        grpc.StatusCode.NOT_FOUND,
        ErrorReason.Name(ErrorReason.PRODUCT_NOT_FOUND),
        {"product_id": product_id},
    )


def test_batch_get_returns_packages_in_the_order_asked(shop: Admin, stub: ProductServiceStub) -> None:
    ids = ["pulsa-nusantara-100k", "data-nusantara-2gb", "pulsa-nusantara-10k"]
    packages = stub.BatchGetPackages(
        product_service_pb2.BatchGetPackagesRequest(ids=ids), timeout=10
    ).packages
    assert [package.id for package in packages] == ids
    assert packages[1] == product_pb2.Package(
        id="data-nusantara-2gb",
        product_id="data-nusantara",
        display_name="data-nusantara-2gb",
        price=rupiah(12_000),
        stock_available=400,
        product_display_name="Paket Data Nusantara",
    )


@pytest.mark.parametrize("missing_id", ["tidak-ada", "pulsa-lama-5k"])
def test_batch_get_with_any_unknown_id_is_not_found_naming_it(
    shop: Admin, stub: ProductServiceStub, missing_id: str
) -> None:
    request = product_service_pb2.BatchGetPackagesRequest(ids=["pulsa-nusantara-10k", missing_id])
    missing = refused(lambda: stub.BatchGetPackages(request, timeout=10))
    assert (missing.code(), reason_of(missing), error_metadata(missing)) == (
        grpc.StatusCode.NOT_FOUND,
        ErrorReason.Name(ErrorReason.PACKAGE_NOT_FOUND),
        {"package_id": missing_id},
    )


@pytest.fixture
def count_queries(database: peewee.Database, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The SQL statements the database runs while the test goes on."""
    statements: list[str] = []
    execute_sql: Callable[..., Any] = database.execute_sql

    def counting(sql: str, *args: Any, **kwargs: Any) -> Any:
        statements.append(sql)
        return execute_sql(sql, *args, **kwargs)

    monkeypatch.setattr(database, "execute_sql", counting)
    return statements


def test_a_page_of_products_costs_two_queries_whatever_its_size(
    shop: Admin, database: peewee.Database, count_queries: list[str]
) -> None:
    with database.connection_context():
        page = catalog.list_products(100, "")
        assert len(page.products) == 5
        assert len(count_queries) == 2
        assert sum(len(listing.packages) for listing in page.products) == 4
        messages = [product_message(listing) for listing in page.products]
        assert messages[3].packages[0].product_display_name == "Pulsa Nusantara"
        assert len(count_queries) == 2, "turning the page into protobuf reads nothing more"
        catalog.batch_get_packages(["pulsa-nusantara-10k", "data-nusantara-2gb"])
        assert len(count_queries) == 3
