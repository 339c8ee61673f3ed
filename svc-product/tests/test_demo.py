"""The demo catalog: valid by the contract's rules, loaded idempotently, one image per product."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import grpc
import peewee
import pytest
from support import Admin, row_counts

from pasar.product.v1 import product_admin_service_pb2 as admin_pb2
from pasar.product.v1 import product_pb2, product_service_pb2
from pasar.product.v1.product_service_pb2_grpc import ProductServiceStub
from pasar_kit.destinations import destination_violations
from pasar_kit.money import rupiah
from pasar_kit.pipeline import validate
from pasar_product.demo import catalog_data, image_url, images, load_demo_catalog
from pasar_product.destination_fields import destination_field_problems
from pasar_product.models import MODELS, Category, DeliveryKind, Package, Product
from pasar_testkit.assertions import refused

DEMO = catalog_data()
SVG = "{http://www.w3.org/2000/svg}"
# Endings of a destination value the sandbox biller fails or answers late (svc-fulfillment).
SANDBOX_BILLER_EXCEPTIONS = ("0000", "0001", "0002", "0009")
# The operators' phone-number prefixes (the shape of issue 14): the demo's generic operators
# stand for Telkomsel (Nusantara), Indosat (Samudra) and XL (Cakrawala).
TELKOMSEL = ["0811", "0812", "0813", "0821", "0822", "0823", "0851", "0852", "0853"]
INDOSAT = ["0814", "0815", "0816", "0855", "0856", "0857", "0858"]
XL = ["0817", "0818", "0819", "0859", "0877", "0878"]
PHONE_PRODUCTS = {
    "pulsa-nusantara": (TELKOMSEL, product_pb2.DELIVERY_KIND_PHONE_CREDIT),
    "pulsa-samudra": (INDOSAT, product_pb2.DELIVERY_KIND_PHONE_CREDIT),
    "pulsa-cakrawala": (XL, product_pb2.DELIVERY_KIND_PHONE_CREDIT),
    "data-nusantara": (TELKOMSEL, product_pb2.DELIVERY_KIND_DATA_PLAN),
    "data-samudra": (INDOSAT, product_pb2.DELIVERY_KIND_DATA_PLAN),
}


def demo_product(product_id: str) -> product_pb2.Product:
    """A demo product as the contract's message (packages left out)."""
    fields = next(product for product in DEMO["products"] if product["id"] == product_id)
    return product_pb2.Product(**{key: value for key, value in fields.items() if key != "packages"})


def everything(database: peewee.Database) -> dict[str, list[dict[str, Any]]]:
    """Every row of every table, in a stable order."""
    with database.connection_context():
        return {
            model._meta.table_name: [
                dict(row.__data__) for row in model.select().order_by(*model._meta.sorted_fields)
            ]
            for model in MODELS
        }


def test_the_catalog_follows_the_shops_pattern() -> None:
    categories = {category["id"] for category in DEMO["categories"]}
    assert {"pulsa", "paket-data", "token-listrik", "voucher-game", "e-money"} <= categories
    assert 8 <= len(DEMO["products"]) <= 12
    for product in DEMO["products"]:
        assert product["category_id"] in categories
        assert 3 <= len(product["packages"]) <= 8, product["id"]
        assert len(product["description"]) > 60, "a real description, in Indonesian"
        for package in product["packages"]:
            assert 1_000 <= package["price"] <= 2_000_000, package["id"]
            assert package["price"] % 100 == 0
            assert 50 <= package["stock_available"] <= 500, package["id"]
    package_ids = [package["id"] for product in DEMO["products"] for package in product["packages"]]
    assert len(package_ids) == len(set(package_ids))


def test_every_demo_entry_passes_the_contracts_rules() -> None:
    for category in DEMO["categories"]:
        validate(admin_pb2.CreateCategoryRequest(category=product_pb2.Category(**category)))
    for product in DEMO["products"]:
        fields = {key: value for key, value in product.items() if key != "packages"}
        validate(
            admin_pb2.CreateProductRequest(
                product=product_pb2.Product(**fields, image_url=image_url(product["id"]))
            )
        )
        for package in product["packages"]:
            validate(
                admin_pb2.CreatePackageRequest(
                    product_id=product["id"],
                    package=product_pb2.Package(**{**package, "price": rupiah(package["price"])}),
                )
            )


def test_the_contracts_example_package_is_in_the_demo() -> None:
    nusantara = next(product for product in DEMO["products"] if product["id"] == "pulsa-nusantara")
    ten = next(package for package in nusantara["packages"] if package["id"] == "pulsa-nusantara-10k")
    assert (ten["display_name"], ten["price"]) == ("Pulsa 10.000", 11_500)


@pytest.mark.parametrize("product_id", [product["id"] for product in DEMO["products"]])
def test_every_product_declares_what_it_delivers_and_examples_the_sandbox_delivers_to(
    product_id: str,
) -> None:
    product = demo_product(product_id)
    assert product.delivery_kind != product_pb2.DELIVERY_KIND_UNSPECIFIED
    if product.delivery_kind != product_pb2.DELIVERY_KIND_VOUCHER_CODE:
        assert product.destination_fields, "a top-up needs to know where it goes"
    examples = {field.name: field.example for field in product.destination_fields}
    assert destination_violations(product.destination_fields, examples) == []
    assert destination_field_problems(product.destination_fields, "product.destination_fields") == []
    for field in product.destination_fields:
        assert not field.example.endswith(SANDBOX_BILLER_EXCEPTIONS), (product_id, field.name)
        assert all((field.label, field.label_en, field.hint, field.hint_en)), "both languages"


@pytest.mark.parametrize(("product_id", "expected"), PHONE_PRODUCTS.items())
def test_phone_products_take_their_operators_prefixes(
    product_id: str, expected: tuple[list[str], product_pb2.DeliveryKind.ValueType]
) -> None:
    prefixes, kind = expected
    product = demo_product(product_id)
    (phone,) = product.destination_fields
    assert (phone.name, phone.pattern, phone.min_length, phone.max_length) == (
        "phone_number",
        "08[0-9]{8,11}",
        10,
        13,
    )
    assert (list(phone.prefixes), phone.lookup_supported, product.delivery_kind) == (prefixes, True, kind)


def test_the_other_products_ask_for_what_their_shops_ask_for() -> None:
    meter = demo_product("token-listrik")
    assert meter.delivery_kind == product_pb2.DELIVERY_KIND_ELECTRICITY_TOKEN
    assert [
        (f.name, f.pattern, f.min_length, f.max_length, f.lookup_supported) for f in meter.destination_fields
    ] == [("meter_number", "[0-9]{11,12}", 11, 12, True)]
    game = demo_product("voucher-permata-arena")
    assert game.delivery_kind == product_pb2.DELIVERY_KIND_ACCOUNT_TOPUP
    assert [field.name for field in game.destination_fields] == ["user_id", "zone_id"]
    for voucher in ("voucher-koin-petualang", "voucher-game-universal"):
        assert demo_product(voucher).delivery_kind == product_pb2.DELIVERY_KIND_VOUCHER_CODE
        assert list(demo_product(voucher).destination_fields) == [], "the code is shown and e-mailed"
    wallet = demo_product("saldo-dompet-digital")
    assert wallet.delivery_kind == product_pb2.DELIVERY_KIND_ACCOUNT_TOPUP
    assert [field.name for field in wallet.destination_fields] == ["phone_number"]
    assert demo_product("kartu-uang-elektronik").delivery_kind == product_pb2.DELIVERY_KIND_ACCOUNT_TOPUP


def test_every_product_has_its_own_clean_svg_image() -> None:
    files = {entry.name for entry in images().iterdir()}
    assert files == {f"{product['id']}.svg" for product in DEMO["products"]}
    for product in DEMO["products"]:
        text = images().joinpath(f"{product['id']}.svg").read_text("utf-8")
        root = ElementTree.fromstring(text)
        assert root.tag == f"{SVG}svg"
        assert root.get("viewBox") == "0 0 400 300"
        assert product["display_name"] in text
        assert "http://" not in text.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert "https://" not in text
        assert "<image" not in text
        assert "<script" not in text
        assert len(text) < 4_000


def test_loading_twice_changes_nothing(database: peewee.Database) -> None:
    first = load_demo_catalog(database)
    assert first.categories == len(DEMO["categories"])
    assert first.products == len(DEMO["products"])
    assert first.packages == sum(len(product["packages"]) for product in DEMO["products"])
    loaded = everything(database)
    second = load_demo_catalog(database)
    assert (second.categories, second.products, second.packages) == (0, 0, 0)
    assert everything(database) == loaded


def test_loading_again_keeps_what_changed_since(
    database: peewee.Database, admin: Admin, stub: ProductServiceStub
) -> None:
    load_demo_catalog(database)
    package = stub.BatchGetPackages(
        product_service_pb2.BatchGetPackagesRequest(ids=["pulsa-nusantara-10k"]), timeout=10
    ).packages[0]
    package.stock_available = 3
    admin.update_package(package, "stock_available")
    admin.archive("pulsa-samudra")
    before = row_counts(database)
    load_demo_catalog(database)
    assert row_counts(database) == before
    again = stub.BatchGetPackages(
        product_service_pb2.BatchGetPackagesRequest(ids=["pulsa-nusantara-10k"]), timeout=10
    ).packages[0]
    assert again.stock_available == 3
    archived = refused(lambda: stub.GetProduct(product_service_pb2.GetProductRequest(id="pulsa-samudra")))
    assert archived.code() == grpc.StatusCode.NOT_FOUND, (
        "loading again does not bring an archived product back"
    )


def test_the_demo_is_served(database: peewee.Database, stub: ProductServiceStub) -> None:
    load_demo_catalog(database)
    product = stub.GetProduct(product_service_pb2.GetProductRequest(id="token-listrik"), timeout=10).product
    assert product.image_url == "/images/products/token-listrik.svg"
    assert product.min_price == rupiah(21_000)
    assert [package.sort_order for package in product.packages] == sorted(
        package.sort_order for package in product.packages
    )
    listed = stub.ListProducts(product_service_pb2.ListProductsRequest(page_size=100), timeout=10).products
    assert len(listed) == len(DEMO["products"])
    assert (list(product.destination_fields), product.delivery_kind) == (
        list(demo_product("token-listrik").destination_fields),
        product_pb2.DELIVERY_KIND_ELECTRICITY_TOKEN,
    )
    (package,) = stub.BatchGetPackages(
        product_service_pb2.BatchGetPackagesRequest(ids=["token-listrik-50k"]), timeout=10
    ).packages
    assert (list(package.destination_fields), package.delivery_kind) == (
        list(product.destination_fields),
        product.delivery_kind,
    )
    categories = stub.ListCategories(product_service_pb2.ListCategoriesRequest(), timeout=10).categories
    assert [category.id for category in categories] == [
        "pulsa",
        "paket-data",
        "token-listrik",
        "voucher-game",
        "e-money",
    ]


def test_demo_products_loaded_before_destinations_existed_are_given_them_once(
    database: peewee.Database, admin: Admin, stub: ProductServiceStub
) -> None:
    """A shop that loaded the demo before v1.2 has its products without a delivery kind
    (migration 5): loading again gives them the demo's, and keeps an administrator's choice."""
    load_demo_catalog(database)
    with database.connection_context():
        Product.update(destination_fields="[]", delivery_kind=None).where(
            Product.id.in_(["token-listrik", "pulsa-samudra", "voucher-game-universal"])
        ).execute()
        Product.update(delivery_kind=DeliveryKind.ACCOUNT_TOPUP).where(
            Product.id == "voucher-game-universal"
        ).execute()
    again = load_demo_catalog(database)
    assert (again.products, again.packages, again.declared) == (0, 0, 2)
    for product_id in ("token-listrik", "pulsa-samudra"):
        served = stub.GetProduct(product_service_pb2.GetProductRequest(id=product_id), timeout=10).product
        expected = demo_product(product_id)
        assert (list(served.destination_fields), served.delivery_kind) == (
            list(expected.destination_fields),
            expected.delivery_kind,
        )
    kept = stub.GetProduct(product_service_pb2.GetProductRequest(id="voucher-game-universal"), timeout=10)
    assert kept.product.delivery_kind == product_pb2.DELIVERY_KIND_ACCOUNT_TOPUP
    assert load_demo_catalog(database).declared == 0


def test_everything_is_written_in_both_languages_and_products_have_keywords() -> None:
    for category in DEMO["categories"]:
        assert category["display_name_en"] not in ("", category["display_name"]), category["id"]
    for product in DEMO["products"]:
        assert product["display_name_en"] not in ("", product["display_name"]), product["id"]
        assert len(product["description_en"]) > 60, "a real description, in English"
        assert 3 <= len(product["search_keywords"]) <= 20, product["id"]
        for package in product["packages"]:
            assert "" not in (package["display_name_en"], package["description_en"]), package["id"]
    keywords = {product["id"]: product["search_keywords"] for product in DEMO["products"]}
    assert {"pln", "listrik", "token"} <= set(keywords["token-listrik"])
    assert "telkomsel" in keywords["pulsa-nusantara"], "Nusantara stands for Telkomsel"
    assert "indosat" in keywords["pulsa-samudra"]
    assert "xl" in keywords["pulsa-cakrawala"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("pln", ["token-listrik"]),
        ("PLN", ["token-listrik"]),
        ("Token Listrik", ["token-listrik"]),
        ("electricity", ["token-listrik"]),
        ("game", ["voucher-game-universal", "voucher-koin-petualang", "voucher-permata-arena"]),
        ("pulsa telkomsel", ["pulsa-nusantara"]),
        ("telkomsel", ["data-nusantara", "pulsa-nusantara"]),
        ("phone credit", ["pulsa-cakrawala", "pulsa-nusantara", "pulsa-samudra"]),
        ("e-money", ["kartu-uang-elektronik", "saldo-dompet-digital"]),
    ],
)
def test_the_demo_is_found_by_what_shoppers_type(
    database: peewee.Database, stub: ProductServiceStub, query: str, expected: list[str]
) -> None:
    load_demo_catalog(database)
    page = stub.ListProducts(product_service_pb2.ListProductsRequest(query=query, page_size=100), timeout=10)
    assert [product.id for product in page.products] == expected


def test_the_demo_is_served_in_english_too(database: peewee.Database, stub: ProductServiceStub) -> None:
    load_demo_catalog(database)
    product = stub.GetProduct(product_service_pb2.GetProductRequest(id="token-listrik"), timeout=10).product
    assert (product.display_name_en, product.packages[0].display_name_en) == (
        "Prepaid Electricity Token",
        "Electricity Token 20,000",
    )
    assert product.packages[0].product_display_name_en == "Prepaid Electricity Token"
    categories = stub.ListCategories(product_service_pb2.ListCategoriesRequest(), timeout=10).categories
    assert [category.display_name_en for category in categories] == [
        "Phone Credit",
        "Data Plans",
        "Electricity Tokens",
        "Game Vouchers",
        "E-Money Top-up",
    ]


def test_demo_rows_loaded_before_english_existed_are_given_it_once(
    database: peewee.Database, admin: Admin, stub: ProductServiceStub
) -> None:
    """A shop that loaded the demo before v1.3 has it without English or keywords (migration
    6): loading again gives them the demo's, and keeps what an administrator wrote since."""
    load_demo_catalog(database)
    with database.connection_context():
        Category.update(display_name_en="", search_text="token listrik").where(
            Category.id == "token-listrik"
        ).execute()
        Product.update(display_name_en="", description_en="", search_keywords="[]", search_text="x").execute()
        Package.update(display_name_en="", description_en="").where(
            Package.product == "token-listrik"
        ).execute()
    assert stub.ListProducts(product_service_pb2.ListProductsRequest(query="pln"), timeout=10).products == []
    kept = product_pb2.Product(id="pulsa-samudra", display_name_en="Samudra Airtime")
    admin.update_product(kept, "display_name_en")
    again = load_demo_catalog(database)
    assert (again.categories, again.products, again.packages) == (0, 0, 0)
    assert again.translated == 1 + (len(DEMO["products"]) - 1) + 6
    served = stub.GetProduct(product_service_pb2.GetProductRequest(id="token-listrik"), timeout=10).product
    assert (served.display_name_en, served.packages[-1].display_name_en) == (
        "Prepaid Electricity Token",
        "Electricity Token 1,000,000",
    )
    found = stub.ListProducts(product_service_pb2.ListProductsRequest(query="pln"), timeout=10).products
    assert [product.id for product in found] == ["token-listrik"]
    samudra = stub.GetProduct(product_service_pb2.GetProductRequest(id="pulsa-samudra"), timeout=10).product
    assert (samudra.display_name_en, list(samudra.search_keywords)) == ("Samudra Airtime", [])
    assert load_demo_catalog(database).translated == 0
