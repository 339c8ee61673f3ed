"""The catalog in English and search keywords (contracts v1.3.0): the fields round trip through
ProductAdminService, are copied onto packages, change only when the mask names them, and
ListProductsRequest.query finds every word in a name in either language, a keyword, or the
category's names, ignoring case and accents.

The target may hold other products (a shop, another run): every search here includes a word
made for the run (``cf1a2b3c4d-kata-3``), so it can only find this run's products.
"""

from __future__ import annotations

from functools import partial

import pytest

from pasar.product.v1 import product_admin_service_pb2 as admin_pb2
from pasar.product.v1 import product_admin_service_pb2_grpc as admin_grpc
from pasar.product.v1 import product_pb2
from pasar.product.v1 import product_service_pb2 as catalog_pb2
from pasar.product.v1 import product_service_pb2_grpc as catalog_grpc
from pasar_conformance.answers import expect_invalid_argument
from pasar_conformance.product.seed import Catalog
from pasar_conformance.target import CALL_TIMEOUT_SECONDS, Target


@pytest.fixture(scope="module")
def stub(target: Target) -> catalog_grpc.ProductServiceStub:
    return catalog_grpc.ProductServiceStub(target.channel)


@pytest.fixture(scope="module")
def admin(target: Target) -> admin_grpc.ProductAdminServiceStub:
    return admin_grpc.ProductAdminServiceStub(target.channel)


def get(stub: catalog_grpc.ProductServiceStub, product_id: str) -> product_pb2.Product:
    return stub.GetProduct(catalog_pb2.GetProductRequest(id=product_id), timeout=CALL_TIMEOUT_SECONDS).product


def found(stub: catalog_grpc.ProductServiceStub, query: str, page_size: int = 100) -> list[str]:
    """The ids of every product query finds, page after page."""
    ids: list[str] = []
    token = ""
    while True:
        page = stub.ListProducts(
            catalog_pb2.ListProductsRequest(query=query, page_size=page_size, page_token=token),
            timeout=CALL_TIMEOUT_SECONDS,
        )
        ids.extend(product.id for product in page.products)
        token = page.next_page_token
        if not token:
            return ids


def test_english_text_and_keywords_round_trip_and_are_copied_onto_packages(
    shop: Catalog, stub: catalog_grpc.ProductServiceStub, target: Target
) -> None:
    category = shop.category("Token Listrik", "Electricity Tokens")
    assert category.display_name_en == "Electricity Tokens"
    product = shop.product(
        category.id,
        display_name="Token Listrik Prabayar",
        description="Kode token 20 digit.",
        display_name_en="Prepaid Electricity Token",
        description_en="A 20-digit token code.",
        search_keywords=["pln", "listrik", "token prabayar"],
    )
    package = shop.package(
        product.id, display_name_en="Electricity Token 20,000", description_en="Rp 20,000."
    )
    assert (product.display_name_en, product.description_en, list(product.search_keywords)) == (
        "Prepaid Electricity Token",
        "A 20-digit token code.",
        ["pln", "listrik", "token prabayar"],
    )
    assert (package.display_name_en, package.description_en, package.product_display_name_en) == (
        "Electricity Token 20,000",
        "Rp 20,000.",
        "Prepaid Electricity Token",
    )
    read = get(stub, product.id)
    assert (read.display_name_en, read.description_en, list(read.search_keywords)) == (
        "Prepaid Electricity Token",
        "A 20-digit token code.",
        ["pln", "listrik", "token prabayar"],
    )
    assert list(read.packages) == [package]
    listed = stub.ListProducts(
        catalog_pb2.ListProductsRequest(category_id=category.id), timeout=CALL_TIMEOUT_SECONDS
    )
    assert list(listed.products) == [read]
    (batched,) = stub.BatchGetPackages(
        catalog_pb2.BatchGetPackagesRequest(ids=[package.id]),
        metadata=target.caller_metadata,
        timeout=CALL_TIMEOUT_SECONDS,
    ).packages
    assert (batched.display_name_en, batched.description_en, batched.product_display_name_en) == (
        "Electricity Token 20,000",
        "Rp 20,000.",
        "Prepaid Electricity Token",
    )


def test_without_english_the_fields_stay_empty(shop: Catalog, stub: catalog_grpc.ProductServiceStub) -> None:
    """Empty means "use the Indonesian": a service does not fill the English in itself."""
    [package] = shop.packages()
    read = get(stub, package.product_id)
    assert (read.display_name_en, read.description_en, list(read.search_keywords)) == ("", "", [])
    assert (read.packages[0].display_name_en, read.packages[0].product_display_name_en) == ("", "")


def test_each_new_mask_path_changes_only_its_field_and_an_empty_mask_keeps_them(
    shop: Catalog, stub: catalog_grpc.ProductServiceStub
) -> None:
    category = shop.shared_category()
    product = shop.product(
        category,
        display_name="Pulsa Uji",
        display_name_en="Test Credit",
        description_en="For tests.",
        search_keywords=["uji"],
    )
    package = shop.package(product.id, display_name_en="Credit 10,000", description_en="Ten thousand.")
    change = product_pb2.Product(
        id=product.id,
        display_name="Tidak",
        display_name_en="Test Airtime",
        description_en="Changed.",
        search_keywords=["coba", "tes"],
    )
    assert shop.update_product(change, "display_name_en").display_name_en == "Test Airtime"
    after = get(stub, product.id)
    assert (after.display_name, after.description_en, list(after.search_keywords)) == (
        "Pulsa Uji",
        "For tests.",
        ["uji"],
    )
    assert shop.update_product(change, "description_en").description_en == "Changed."
    assert list(shop.update_product(change, "search_keywords").search_keywords) == ["coba", "tes"]
    assert get(stub, product.id).packages[0].product_display_name_en == "Test Airtime"
    v1_0 = product_pb2.Product(id=product.id, display_name="Pulsa Uji Baru", category_id=category)
    kept = shop.update_product(v1_0)
    assert (kept.display_name, kept.display_name_en, kept.description_en, list(kept.search_keywords)) == (
        "Pulsa Uji Baru",
        "Test Airtime",
        "Changed.",
        ["coba", "tes"],
    )

    english = product_pb2.Package(id=package.id, display_name_en="Credit 11,000", description_en="Eleven.")
    assert shop.update_package(english, "display_name_en").display_name_en == "Credit 11,000"
    assert shop.update_package(english, "description_en").description_en == "Eleven."
    v1_0_package = product_pb2.Package()
    v1_0_package.CopyFrom(package)
    v1_0_package.ClearField("display_name_en")
    v1_0_package.ClearField("description_en")
    v1_0_package.display_name = "Paket baru"
    kept_package = shop.update_package(v1_0_package)
    assert (kept_package.display_name, kept_package.display_name_en, kept_package.description_en) == (
        "Paket baru",
        "Credit 11,000",
        "Eleven.",
    )


def test_a_search_finds_every_word_in_either_name_a_keyword_or_the_category(
    shop: Catalog, stub: catalog_grpc.ProductServiceStub
) -> None:
    marker = shop.target.run.new("kata")
    games = shop.category(f"Voucher Game {marker}", "Game Vouchers")
    electricity = shop.category(f"Token Listrik {marker}", "Electricity Tokens")
    token = shop.product(
        electricity.id,
        display_name="Token Listrik Prabayar",
        display_name_en="Prepaid Electricity Token",
        search_keywords=["pln", "kwh"],
    ).id
    diamonds = shop.product(games.id, display_name="Permata Arena", search_keywords=["ml"]).id
    coins = shop.product(games.id, display_name="Koin Petualang", display_name_en="Adventurer Coins").id
    credit = shop.product(
        shop.shared_category(),
        display_name=f"Pulsa Nusantara {marker}",
        display_name_en="Nusantara Phone Credit",
        search_keywords=["telkomsel"],
    ).id
    games_found = sorted([diamonds, coins])
    cases = {
        f"{marker} pln": [token],  # a keyword
        f"{marker} PLN": [token],  # case
        f"{marker} token listrik": [token],  # the name
        f"{marker} electricity": [token],  # the English name
        f"{marker} ÉLECTRICITY prepaid": [token],  # accents, case, two words of one name
        f"{marker} prepaid pln": [token],  # the English name and a keyword
        f"{marker} game": games_found,  # the category's name
        f"{marker} vouchers": games_found,  # the category's English name
        f"{marker} ml": [diamonds],
        f"{marker} adventurer": [coins],
        f"pulsa {marker} telkomsel": [credit],  # the name (with the marker) and a keyword
        f"{marker} pln game": [],  # every word must match
        f"{marker} kopi": [],
        f"{marker} %": [],  # LIKE's wildcards are plain characters, in no name here
        f"{marker} _": [],
    }
    for query, expected in cases.items():
        assert found(stub, query, page_size=1) == sorted(expected), query


def test_search_keywords_are_held_to_the_contracts_rules(
    shop: Catalog, admin: admin_grpc.ProductAdminServiceStub, target: Target
) -> None:
    category = shop.shared_category()
    for keywords, field in (
        (["x" * 41], "product.search_keywords[0]"),
        ([""], "product.search_keywords[0]"),
        ([f"k{number}" for number in range(21)], "product.search_keywords"),
    ):
        request = admin_pb2.CreateProductRequest(
            product=product_pb2.Product(
                id=target.run.new("product"),
                category_id=category,
                display_name="Tolak",
                search_keywords=keywords,
            )
        )
        expect_invalid_argument(
            partial(
                admin.CreateProduct, request, metadata=target.admin_metadata, timeout=CALL_TIMEOUT_SECONDS
            ),
            field,
        )
    long_english = admin_pb2.CreateCategoryRequest(
        category=product_pb2.Category(
            id=target.run.new("cat"), display_name="Tolak", display_name_en="x" * 81
        )
    )
    expect_invalid_argument(
        lambda: admin.CreateCategory(
            long_english, metadata=target.admin_metadata, timeout=CALL_TIMEOUT_SECONDS
        ),
        "category.display_name_en",
    )
