"""Keyset pages: every item once while others are added, sizes at and past the limits, tokens."""

from __future__ import annotations

import base64
import threading
from functools import partial

import pytest

from pasar.common.v1.error_reason_pb2 import ErrorReason as CommonReason
from pasar.product.v1 import product_service_pb2 as catalog_pb2
from pasar.product.v1 import product_service_pb2_grpc as catalog_grpc
from pasar_conformance.answers import expect_invalid_argument, expect_reason
from pasar_conformance.product.seed import PAGING_PRODUCTS, Catalog
from pasar_conformance.target import CALL_TIMEOUT_SECONDS, Target

INVALID_PAGE_TOKEN = CommonReason.Name(CommonReason.INVALID_PAGE_TOKEN)
DEFAULT_PRODUCTS_PAGE = 20
DEFAULT_CATEGORIES_PAGE = 50
LARGEST_PAGE = 100


@pytest.fixture(scope="module")
def stub(target: Target) -> catalog_grpc.ProductServiceStub:
    return catalog_grpc.ProductServiceStub(target.channel)


@pytest.fixture(scope="module")
def paging(shop: Catalog) -> tuple[str, list[str]]:
    """A category with 101 products of the run: its id and the product ids in id order."""
    return shop.paging_category()


def list_products(
    stub: catalog_grpc.ProductServiceStub, **fields: object
) -> catalog_pb2.ListProductsResponse:
    request = catalog_pb2.ListProductsRequest(**fields)  # type: ignore[arg-type]
    answer: catalog_pb2.ListProductsResponse = stub.ListProducts(request, timeout=CALL_TIMEOUT_SECONDS)
    return answer


def test_pages_give_every_product_exactly_once_while_products_are_added(
    shop: Catalog, stub: catalog_grpc.ProductServiceStub
) -> None:
    category = shop.category("Paging while adding").id
    before = sorted(shop.product(category).id for _ in range(12))
    added: list[str] = []
    stop = threading.Event()

    def add_products() -> None:
        while not stop.is_set() and len(added) < 30:
            added.append(shop.product(category).id)

    adder = threading.Thread(target=add_products, name="adding-products")
    adder.start()
    seen: list[str] = []
    try:
        token = ""
        while True:
            page = list_products(stub, category_id=category, page_size=2, page_token=token)
            seen.extend(p.id for p in page.products)
            token = page.next_page_token
            if not token:
                break
            if not added:  # make sure additions land while the pages are read
                added.append(shop.product(category).id)
    finally:
        stop.set()
        adder.join()
    assert len(seen) == len(set(seen)), (
        f"a product came twice: {sorted(i for i in seen if seen.count(i) > 1)}"
    )
    assert seen == sorted(seen), "products are not in id order across pages"
    assert set(before) <= set(seen), (
        f"products present before were skipped: {sorted(set(before) - set(seen))}"
    )
    assert set(seen) <= set(before) | set(added)


def test_categories_page_through_every_category_once(
    shop: Catalog, stub: catalog_grpc.ProductServiceStub
) -> None:
    made = {shop.shared_category(), shop.category().id}
    seen: list[str] = []
    token = ""
    while True:
        page = stub.ListCategories(
            catalog_pb2.ListCategoriesRequest(page_size=1, page_token=token), timeout=CALL_TIMEOUT_SECONDS
        )
        assert len(page.categories) <= 1
        seen.extend(c.id for c in page.categories)
        token = page.next_page_token
        if not token:
            break
    assert len(seen) == len(set(seen)), "a category came twice"
    assert made <= set(seen)


def test_the_default_page_of_categories_is_fifty_and_the_largest_a_hundred(
    shop: Catalog, stub: catalog_grpc.ProductServiceStub
) -> None:
    """However many categories the target has (the run cannot delete any it would add)."""
    shop.shared_category()
    every: list[str] = []
    token = ""
    while True:
        page = stub.ListCategories(
            catalog_pb2.ListCategoriesRequest(page_size=LARGEST_PAGE, page_token=token),
            timeout=CALL_TIMEOUT_SECONDS,
        )
        assert len(page.categories) <= LARGEST_PAGE
        every.extend(c.id for c in page.categories)
        token = page.next_page_token
        if not token:
            break
    default = stub.ListCategories(catalog_pb2.ListCategoriesRequest(), timeout=CALL_TIMEOUT_SECONDS)
    assert [c.id for c in default.categories] == every[:DEFAULT_CATEGORIES_PAGE]
    assert bool(default.next_page_token) == (len(every) > DEFAULT_CATEGORIES_PAGE)


def test_the_default_page_of_products_is_twenty(
    stub: catalog_grpc.ProductServiceStub, paging: tuple[str, list[str]]
) -> None:
    category, products = paging
    page = list_products(stub, category_id=category)
    assert [p.id for p in page.products] == products[:DEFAULT_PRODUCTS_PAGE]
    assert page.next_page_token


def test_a_page_of_a_hundred_is_the_largest_and_the_next_holds_the_rest(
    stub: catalog_grpc.ProductServiceStub, paging: tuple[str, list[str]]
) -> None:
    category, products = paging
    first = list_products(stub, category_id=category, page_size=LARGEST_PAGE)
    assert [p.id for p in first.products] == products[:LARGEST_PAGE]
    assert first.next_page_token
    rest = list_products(stub, category_id=category, page_size=LARGEST_PAGE, page_token=first.next_page_token)
    assert [p.id for p in rest.products] == products[LARGEST_PAGE:PAGING_PRODUCTS]
    assert not rest.next_page_token


@pytest.mark.parametrize("page_size", [LARGEST_PAGE + 1, -1])
def test_a_page_size_past_the_limits_is_invalid(
    stub: catalog_grpc.ProductServiceStub, paging: tuple[str, list[str]], page_size: int
) -> None:
    category, _products = paging
    expect_invalid_argument(
        lambda: list_products(stub, category_id=category, page_size=page_size), "page_size"
    )
    expect_invalid_argument(
        lambda: stub.ListCategories(
            catalog_pb2.ListCategoriesRequest(page_size=page_size), timeout=CALL_TIMEOUT_SECONDS
        ),
        "page_size",
    )


def tampered(token: str) -> str:
    """token with one character in its middle changed (still within the token alphabet)."""
    middle = len(token) // 2
    replacement = "A" if token[middle] != "A" else "B"
    return token[:middle] + replacement + token[middle + 1 :]


def test_a_tampered_made_up_or_foreign_token_is_refused(
    stub: catalog_grpc.ProductServiceStub, paging: tuple[str, list[str]], target: Target
) -> None:
    category, _products = paging
    token = list_products(stub, category_id=category, page_size=5).next_page_token
    category_token = stub.ListCategories(
        catalog_pb2.ListCategoriesRequest(page_size=1), timeout=CALL_TIMEOUT_SECONDS
    ).next_page_token
    made_up = base64.urlsafe_b64encode(f"{category}|{target.run.new('x')}".encode()).decode()
    for bad in (tampered(token), made_up, "not a token", category_token):
        if not bad:
            continue
        expect_reason(
            partial(list_products, stub, category_id=category, page_size=5, page_token=bad),
            INVALID_PAGE_TOKEN,
        )


def test_a_token_sent_with_other_filters_is_refused(
    stub: catalog_grpc.ProductServiceStub, paging: tuple[str, list[str]]
) -> None:
    category, _products = paging
    token = list_products(stub, category_id=category, page_size=5).next_page_token
    expect_reason(lambda: list_products(stub, page_size=5, page_token=token), INVALID_PAGE_TOKEN)
    expect_reason(
        lambda: list_products(stub, category_id=category, query="lain", page_size=5, page_token=token),
        INVALID_PAGE_TOKEN,
    )


def test_a_tampered_categories_token_is_refused(shop: Catalog, stub: catalog_grpc.ProductServiceStub) -> None:
    shop.shared_category()
    shop.category()
    token = stub.ListCategories(
        catalog_pb2.ListCategoriesRequest(page_size=1), timeout=CALL_TIMEOUT_SECONDS
    ).next_page_token
    assert token, "two categories or more, and a page of one, leave a next page"
    expect_reason(
        lambda: stub.ListCategories(
            catalog_pb2.ListCategoriesRequest(page_size=1, page_token=tampered(token)),
            timeout=CALL_TIMEOUT_SECONDS,
        ),
        INVALID_PAGE_TOKEN,
    )
