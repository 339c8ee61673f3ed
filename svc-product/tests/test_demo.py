"""The demo catalog: valid by the contract's rules, loaded idempotently, one image per product."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import grpc
import peewee
from support import Admin, row_counts

from pasar.product.v1 import product_admin_service_pb2 as admin_pb2
from pasar.product.v1 import product_pb2, product_service_pb2
from pasar.product.v1.product_service_pb2_grpc import ProductServiceStub
from pasar_kit.money import rupiah
from pasar_kit.pipeline import validate
from pasar_product.demo import catalog_data, image_url, images, load_demo_catalog
from pasar_product.models import MODELS
from pasar_testkit.assertions import refused

DEMO = catalog_data()
SVG = "{http://www.w3.org/2000/svg}"


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
    categories = stub.ListCategories(product_service_pb2.ListCategoriesRequest(), timeout=10).categories
    assert [category.id for category in categories] == [
        "pulsa",
        "paket-data",
        "token-listrik",
        "voucher-game",
        "e-money",
    ]
