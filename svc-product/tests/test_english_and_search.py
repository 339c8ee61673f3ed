"""The catalog in English beside Indonesian, search keywords, and search that finds what shoppers
type (contracts v1.3.0), through the real server on both databases."""

from __future__ import annotations

from typing import Any

import grpc
import peewee
import pytest
from conftest import RunningService
from support import ADMIN_TOKEN, Admin, row_counts

from pasar.common.v1.error_reason_pb2 import ErrorReason as CommonErrorReason
from pasar.product.v1 import product_pb2, product_service_pb2
from pasar.product.v1.product_service_pb2_grpc import ProductServiceStub
from pasar_testkit import catalog as testkit
from pasar_testkit.assertions import reason_of, refused, violated_fields
from pasar_testkit.catalog import seed_over_grpc

ListProducts = product_service_pb2.ListProductsRequest
GAME_VOUCHERS = ["koin-petualang", "permata-arena", "voucher-universal"]


def found(stub: ProductServiceStub, query: str, page_size: int = 100, **filters: str) -> list[str]:
    """The ids of every product the query finds, page after page."""
    ids: list[str] = []
    token = ""
    while True:
        page = stub.ListProducts(
            ListProducts(query=query, page_size=page_size, page_token=token, **filters), timeout=10
        )
        ids += [product.id for product in page.products]
        token = page.next_page_token
        if not token:
            return ids


def get(stub: ProductServiceStub, product_id: str) -> product_pb2.Product:
    return stub.GetProduct(product_service_pb2.GetProductRequest(id=product_id), timeout=10).product


@pytest.fixture
def shop(admin: Admin) -> Admin:
    """A small catalog the way the demo writes it: Indonesian names, English names, keywords."""
    admin.category("pulsa", 10, "Pulsa", "Phone Credit")
    admin.category("token-listrik", 30, "Token Listrik", "Electricity Tokens")
    admin.category("voucher-game", 40, "Voucher Game", "Game Vouchers")
    admin.product(
        "pulsa-nusantara",
        "pulsa",
        "Pulsa Nusantara",
        display_name_en="Nusantara Phone Credit",
        search_keywords=["telkomsel", "tsel"],
    )
    admin.product(
        "pulsa-samudra",
        "pulsa",
        "Pulsa Samudra",
        display_name_en="Samudra Phone Credit",
        search_keywords=["indosat"],
    )
    admin.product(
        "token-listrik",
        "token-listrik",
        "Token Listrik Prabayar",
        description="Token untuk meteran prabayar rumah tangga.",
        display_name_en="Prepaid Electricity Token",
        description_en="A token for prepaid household meters.",
        search_keywords=["pln", "listrik", "token", "kWh"],
    )
    admin.product("permata-arena", "voucher-game", "Permata Arena Legenda", search_keywords=["game", "ml"])
    admin.product("koin-petualang", "voucher-game", "Koin Petualang", display_name_en="Adventurer Coins")
    admin.product(
        "voucher-universal", "voucher-game", "Voucher Universal", display_name_en="Universal Voucher"
    )
    return admin


def test_english_text_and_keywords_round_trip_through_the_admin_service(
    admin: Admin, stub: ProductServiceStub
) -> None:
    category = admin.category("token-listrik", 30, "Token Listrik", "Electricity Tokens")
    assert category.display_name_en == "Electricity Tokens"
    created = admin.product(
        "token-listrik",
        "token-listrik",
        "Token Listrik Prabayar",
        "Kode token 20 digit.",
        display_name_en="Prepaid Electricity Token",
        description_en="A 20-digit token code.",
        search_keywords=["pln", " listrik ", "token\t prabayar"],
    )
    assert (created.display_name_en, created.description_en, list(created.search_keywords)) == (
        "Prepaid Electricity Token",
        "A 20-digit token code.",
        ["pln", "listrik", "token prabayar"],  # trimmed, inner white space one space
    )
    package = admin.package(
        "token-listrik",
        "token-listrik-20k",
        display_name="Token Listrik 20.000",
        display_name_en="Electricity Token 20,000",
        description_en="Face value Rp 20,000.",
    )
    assert (package.display_name_en, package.description_en, package.product_display_name_en) == (
        "Electricity Token 20,000",
        "Face value Rp 20,000.",
        "Prepaid Electricity Token",
    )
    served = get(stub, "token-listrik")
    assert (served.display_name_en, served.description_en, list(served.search_keywords)) == (
        "Prepaid Electricity Token",
        "A 20-digit token code.",
        ["pln", "listrik", "token prabayar"],
    )
    assert served.packages[0] == package
    listed = stub.ListProducts(ListProducts(category_id="token-listrik"), timeout=10).products
    assert listed[0] == served
    (batched,) = stub.BatchGetPackages(
        product_service_pb2.BatchGetPackagesRequest(ids=["token-listrik-20k"]), timeout=10
    ).packages
    assert batched == package
    categories = stub.ListCategories(product_service_pb2.ListCategoriesRequest(), timeout=10).categories
    assert [(c.id, c.display_name_en) for c in categories] == [("token-listrik", "Electricity Tokens")]


def test_without_english_the_fields_are_empty(admin: Admin, stub: ProductServiceStub) -> None:
    """Empty means "use the Indonesian": the service does not copy the Indonesian in."""
    admin.category("pulsa")
    admin.product("pulsa-nusantara", "pulsa", "Pulsa Nusantara")
    package = admin.package("pulsa-nusantara", "pulsa-nusantara-10k")
    served = get(stub, "pulsa-nusantara")
    assert (served.display_name_en, served.description_en, list(served.search_keywords)) == ("", "", [])
    assert (package.display_name_en, package.description_en, package.product_display_name_en) == ("", "", "")
    categories = stub.ListCategories(product_service_pb2.ListCategoriesRequest(), timeout=10).categories
    assert categories[0].display_name_en == ""


@pytest.mark.parametrize(
    ("path", "value", "expected"),
    [
        ("display_name_en", "Nusantara Credit", ("Nusantara Credit", "", ["telkomsel", "tsel"])),
        (
            "description_en",
            "Credit for any number.",
            ("Nusantara Phone Credit", "Credit for any number.", ["telkomsel", "tsel"]),
        ),
        ("search_keywords", ["simpati", " TSEL "], ("Nusantara Phone Credit", "", ["simpati", "TSEL"])),
    ],
)
def test_each_new_path_changes_only_its_own_field(
    shop: Admin, stub: ProductServiceStub, path: str, value: object, expected: tuple[str, str, list[str]]
) -> None:
    change = product_pb2.Product(
        id="pulsa-nusantara", display_name="Tidak berubah", description="Tidak berubah"
    )
    if path == "search_keywords":
        change.search_keywords.extend(value)  # type: ignore[arg-type]
    else:
        setattr(change, path, value)
    updated = shop.update_product(change, path)
    assert (updated.display_name_en, updated.description_en, list(updated.search_keywords)) == expected
    assert (updated.display_name, updated.description) == ("Pulsa Nusantara", "")
    assert get(stub, "pulsa-nusantara") == updated


def test_an_empty_mask_keeps_the_english_and_the_keywords(shop: Admin, stub: ProductServiceStub) -> None:
    """A client built for v1.0 sends the four fields it knows with an empty mask."""
    change = product_pb2.Product(
        id="token-listrik", display_name="Token PLN", description="Baru.", category_id="token-listrik"
    )
    updated = shop.update_product(change)
    assert (updated.display_name, updated.display_name_en, updated.description_en) == (
        "Token PLN",
        "Prepaid Electricity Token",
        "A token for prepaid household meters.",
    )
    assert list(updated.search_keywords) == ["pln", "listrik", "token", "kWh"]
    assert found(stub, "kwh") == ["token-listrik"]
    assert found(stub, "electricity") == ["token-listrik"]


def test_search_follows_changed_keywords_and_english_names(shop: Admin, stub: ProductServiceStub) -> None:
    keywords = product_pb2.Product(id="pulsa-nusantara", search_keywords=["simpati"])
    shop.update_product(keywords, "search_keywords")
    assert found(stub, "telkomsel") == []
    assert found(stub, "simpati") == ["pulsa-nusantara"]
    english = product_pb2.Product(id="pulsa-samudra", display_name_en="Samudra Airtime")
    shop.update_product(english, "display_name_en")
    assert found(stub, "airtime") == ["pulsa-samudra"]
    assert found(stub, "phone credit") == ["pulsa-nusantara", "pulsa-samudra"], "the category's English name"
    renamed = product_pb2.Product(id="pulsa-samudra", display_name="Isi Ulang Samudra")
    shop.update_product(renamed, "display_name")
    assert found(stub, "isi ulang") == ["pulsa-samudra"]
    assert found(stub, "airtime indosat") == ["pulsa-samudra"], "the English name and keywords stay"


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("pln", ["token-listrik"]),  # a keyword
        ("PLN", ["token-listrik"]),
        ("Token Listrik", ["token-listrik"]),  # the name (and its category's)
        ("token listrík", ["token-listrik"]),
        ("electricity", ["token-listrik"]),  # the English name
        ("ÉLECTRICITY prepaid", ["token-listrik"]),
        ("prepaid pln", ["token-listrik"]),  # every word somewhere: English name, keyword
        ("game", GAME_VOUCHERS),  # the category's name: every game voucher
        ("vouchers", GAME_VOUCHERS),  # the category's English name
        ("ml", ["permata-arena"]),
        ("adventurer", ["koin-petualang"]),
        ("pulsa telkomsel", ["pulsa-nusantara"]),  # the name and a keyword
        ("telkomsel pulsa", ["pulsa-nusantara"]),
        ("pulsa", ["pulsa-nusantara", "pulsa-samudra"]),
        ("phone credit", ["pulsa-nusantara", "pulsa-samudra"]),
        ("sam", ["pulsa-samudra"]),  # a word matches inside one
        ("pln game", []),  # every word must match
        ("meteran", []),  # descriptions are not searched
        ("household", []),
        ("listrikpln", []),  # never across two keywords or names
    ],
)
def test_every_word_matches_a_name_in_either_language_a_keyword_or_the_category(
    shop: Admin, stub: ProductServiceStub, query: str, expected: list[str]
) -> None:
    assert found(stub, query, page_size=2) == expected


def test_both_databases_find_exactly_what_the_folding_finds(admin: Admin, stub: ProductServiceStub) -> None:
    """Text the folding keeps apart stays apart on MariaDB too, in the product's text and the
    category's (the database's utf8mb4_unicode_ci would find katakana "マッチャ" with hiragana
    "まっちゃ"); what the folding makes one ("ß" and "ss") is one on both."""
    admin.category("teh", display_name="Teh", display_name_en="お茶")
    admin.category("kopi", display_name="Kopi", display_name_en="Đồ uống")
    admin.product("matcha-hiragana", "kopi", "Matcha まっちゃ")
    admin.product("matcha-katakana", "kopi", "Matcha マッチャ", search_keywords=["Straße"])
    admin.product("kafe-ost", "teh", "Kafe Ost")
    admin.product("kafe-oest", "teh", "Kafe Øst")
    assert found(stub, "まっちゃ") == ["matcha-hiragana"]
    assert found(stub, "マッチャ") == ["matcha-katakana"]
    assert found(stub, "オ茶") == []  # the category's name in katakana
    assert found(stub, "お茶 kafe") == ["kafe-oest", "kafe-ost"]
    assert found(stub, "ØST") == ["kafe-oest"]
    assert found(stub, "ost") == ["kafe-ost"]
    assert found(stub, "đo matcha") == ["matcha-hiragana", "matcha-katakana"]  # accent ignored
    assert found(stub, "strasse") == ["matcha-katakana"]


def test_a_query_of_only_white_space_lists_like_no_query(admin: Admin, stub: ProductServiceStub) -> None:
    """It has no word to match: every active product, and its pages' tokens serve an empty query."""
    admin.category("lain")
    for number in range(3):
        admin.product(f"produk-{number}", "lain")
    assert found(stub, " \t  ", page_size=1) == found(stub, "") == ["produk-0", "produk-1", "produk-2"]
    token = stub.ListProducts(ListProducts(query="   ", page_size=1), timeout=10).next_page_token
    page = stub.ListProducts(ListProducts(query="", page_size=5, page_token=token), timeout=10)
    assert [product.id for product in page.products] == ["produk-1", "produk-2"]


def test_search_leaves_out_archived_products_and_combines_with_a_category(
    shop: Admin, stub: ProductServiceStub
) -> None:
    shop.archive("permata-arena")
    assert found(stub, "game") == ["koin-petualang", "voucher-universal"]
    assert found(stub, "credit", category_id="pulsa") == ["pulsa-nusantara", "pulsa-samudra"]
    assert found(stub, "credit", category_id="voucher-game") == []


def test_pages_of_a_search_give_every_match_once_in_id_order(admin: Admin, stub: ProductServiceStub) -> None:
    """Products found by a keyword, an English name, a category name and an Indonesian name,
    interleaved with products that do not match, paged two at a time."""
    admin.category("listrik", display_name="Listrik", display_name_en="Electricity")
    admin.category("lain", display_name="Lain-lain")
    expected = []
    for number in range(12):
        product_id = f"produk-{number:02d}"
        match number % 4:
            case 0:
                admin.product(product_id, "lain", search_keywords=["pln"])
                expected.append(product_id)
            case 1:
                admin.product(product_id, "lain", display_name_en=f"PLN item {number}")
                expected.append(product_id)
            case 2:
                admin.product(product_id, "lain")
            case _:
                admin.product(product_id, "listrik", display_name=f"Item {number}", search_keywords=["pln"])
                expected.append(product_id)
    assert found(stub, "pln", page_size=2) == expected
    assert found(stub, "pln electricity", page_size=1) == [f"produk-{n:02d}" for n in (3, 7, 11)]
    token = stub.ListProducts(ListProducts(query="PLN", page_size=2), timeout=10).next_page_token
    same_words = stub.ListProducts(ListProducts(query="  pln ", page_size=20, page_token=token), timeout=10)
    assert [product.id for product in same_words.products] == expected[2:]
    error = refused(
        lambda: stub.ListProducts(
            ListProducts(query="pln electricity", page_size=2, page_token=token), timeout=10
        )
    )
    assert (error.code(), reason_of(error)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        CommonErrorReason.Name(CommonErrorReason.INVALID_PAGE_TOKEN),
    )


@pytest.mark.parametrize(
    ("fields", "violations"),
    [
        ({"search_keywords": ["x" * 41]}, ["product.search_keywords[0]"]),
        ({"search_keywords": [""]}, ["product.search_keywords[0]"]),
        ({"search_keywords": [f"k{n}" for n in range(21)]}, ["product.search_keywords"]),
        ({"search_keywords": ["pln", "  "]}, ["product.search_keywords[1]"]),  # blank once trimmed
        ({"search_keywords": ["pln", "listrik", " PLN"]}, ["product.search_keywords[2]"]),  # a repeat
        ({"search_keywords": ["Listrík", "listrik"]}, ["product.search_keywords[1]"]),
        ({"display_name_en": "x" * 121}, ["product.display_name_en"]),
        ({"description_en": "x" * 2001}, ["product.description_en"]),
    ],
)
def test_bad_english_text_or_keywords_are_refused_naming_them_and_change_nothing(
    shop: Admin,
    stub: ProductServiceStub,
    database: peewee.Database,
    fields: dict[str, Any],
    violations: list[str],
) -> None:
    before = row_counts(database)
    error = refused(lambda: shop.product("baru", "pulsa", "Baru", **fields))
    assert (error.code(), violated_fields(error)) == (grpc.StatusCode.INVALID_ARGUMENT, violations)
    assert row_counts(database) == before
    unchanged = get(stub, "token-listrik")
    change = product_pb2.Product(id="token-listrik", **fields)
    error = refused(lambda: shop.update_product(change, *fields))
    assert (error.code(), violated_fields(error)) == (grpc.StatusCode.INVALID_ARGUMENT, violations)
    assert get(stub, "token-listrik") == unchanged


def test_bad_english_text_of_a_category_or_package_is_refused(shop: Admin, database: peewee.Database) -> None:
    before = row_counts(database)
    error = refused(lambda: shop.category("baru", display_name_en="x" * 81))
    assert violated_fields(error) == ["category.display_name_en"]
    error = refused(lambda: shop.package("token-listrik", "token-baru", display_name_en="x" * 121))
    assert violated_fields(error) == ["package.display_name_en"]
    error = refused(lambda: shop.package("token-listrik", "token-baru", description_en="x" * 501))
    assert violated_fields(error) == ["package.description_en"]
    assert row_counts(database) == before


def test_the_testkits_catalog_seeds_english_and_keywords(service: RunningService) -> None:
    """Shop-level tests describe their catalog with pasar_testkit.catalog; its gRPC seeding
    carries the new fields (its REST seeding sends the same as proto3 JSON)."""
    seed_over_grpc(
        service.channel,
        [testkit.Category("token-listrik", "Token Listrik", display_name_en="Electricity Tokens")],
        [
            testkit.Product(
                "token-listrik",
                "Token Listrik",
                "token-listrik",
                [testkit.Package("token-20k", "Token 20.000", 21_000, 5, display_name_en="Token 20,000")],
                display_name_en="Electricity Token",
                description_en="A prepaid token.",
                search_keywords=["pln"],
            )
        ],
        admin_token=ADMIN_TOKEN,
    )
    product = get(service.stub, "token-listrik")
    assert (product.display_name_en, product.description_en, list(product.search_keywords)) == (
        "Electricity Token",
        "A prepaid token.",
        ["pln"],
    )
    assert product.packages[0].display_name_en == "Token 20,000"
    assert found(service.stub, "pln") == ["token-listrik"]
    assert found(service.stub, "electricity tokens") == ["token-listrik"]
