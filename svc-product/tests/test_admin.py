"""ProductAdminService through the real server: creating and changing the catalog."""

from __future__ import annotations

import time

import grpc
import peewee
import pytest
from google.protobuf import field_mask_pb2, timestamp_pb2
from support import ADMIN_METADATA, Admin, row_counts

from pasar.common.v1 import money_pb2
from pasar.product.v1 import product_admin_service_pb2 as admin_pb2
from pasar.product.v1 import product_pb2, product_service_pb2
from pasar.product.v1.error_reason_pb2 import ErrorReason
from pasar.product.v1.product_service_pb2_grpc import ProductServiceStub
from pasar_kit.money import rupiah
from pasar_testkit.assertions import error_metadata, reason_of, refused, violated_fields


def get(stub: ProductServiceStub, product_id: str) -> product_pb2.Product:
    return stub.GetProduct(product_service_pb2.GetProductRequest(id=product_id), timeout=10).product


@pytest.fixture
def pulsa(admin: Admin) -> Admin:
    admin.category("pulsa", sort_order=10, display_name="Pulsa")
    admin.category("paket-data", sort_order=20, display_name="Paket Data")
    admin.product("pulsa-nusantara", "pulsa", display_name="Pulsa Nusantara", description="Isi ulang pulsa.")
    admin.package(
        "pulsa-nusantara", "pulsa-nusantara-10k", price=11_500, stock=500, display_name="Pulsa 10.000"
    )
    return admin


def test_a_category_is_created_once(admin: Admin, database: peewee.Database) -> None:
    assert admin.category("pulsa", sort_order=10, display_name="Pulsa") == product_pb2.Category(
        id="pulsa", display_name="Pulsa", sort_order=10
    )
    taken = refused(lambda: admin.category("pulsa", display_name="Pulsa lagi"))
    assert (taken.code(), reason_of(taken), error_metadata(taken)) == (
        grpc.StatusCode.ALREADY_EXISTS,
        ErrorReason.Name(ErrorReason.CATEGORY_EXISTS),
        {"category_id": "pulsa"},
    )
    assert row_counts(database)["category"] == 1


def test_a_product_is_created_active_without_packages_ignoring_output_only_fields(
    pulsa: Admin, stub: ProductServiceStub
) -> None:
    before = time.time()
    request = admin_pb2.CreateProductRequest(
        product=product_pb2.Product(
            id="pulsa-samudra",
            display_name="Pulsa Samudra",
            description="Pulsa reguler.",
            category_id="pulsa",
            image_url="/images/products/pulsa-samudra.svg",
            state=product_pb2.PRODUCT_STATE_ARCHIVED,
            packages=[product_pb2.Package(id="sneaky", display_name="x", price=rupiah(1))],
            min_price=rupiah(1),
            max_price=rupiah(2),
            create_time=timestamp_pb2.Timestamp(seconds=1),
            update_time=timestamp_pb2.Timestamp(seconds=2),
        )
    )
    created = pulsa.stub.CreateProduct(request, metadata=ADMIN_METADATA, timeout=10).product
    assert created.state == product_pb2.PRODUCT_STATE_ACTIVE
    assert list(created.packages) == []
    assert not created.HasField("min_price")
    assert not created.HasField("max_price")
    assert created.create_time == created.update_time
    assert created.create_time.seconds >= int(before)
    assert (created.display_name, created.description, created.image_url) == (
        "Pulsa Samudra",
        "Pulsa reguler.",
        "/images/products/pulsa-samudra.svg",
    )
    assert get(stub, "pulsa-samudra") == created
    missing = refused(
        lambda: stub.BatchGetPackages(product_service_pb2.BatchGetPackagesRequest(ids=["sneaky"]), timeout=10)
    )
    assert missing.code() == grpc.StatusCode.NOT_FOUND


def test_a_product_id_is_taken_even_when_archived(pulsa: Admin) -> None:
    pulsa.archive("pulsa-nusantara")
    taken = refused(lambda: pulsa.product("pulsa-nusantara", "pulsa"))
    assert (taken.code(), reason_of(taken), error_metadata(taken)) == (
        grpc.StatusCode.ALREADY_EXISTS,
        ErrorReason.Name(ErrorReason.PRODUCT_EXISTS),
        {"product_id": "pulsa-nusantara"},
    )


def test_a_product_in_an_unknown_category_is_a_failed_precondition(
    pulsa: Admin, database: peewee.Database
) -> None:
    before = row_counts(database)
    error = refused(lambda: pulsa.product("voucher-baru", "voucher-game"))
    assert (error.code(), reason_of(error), error_metadata(error)) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        ErrorReason.Name(ErrorReason.CATEGORY_NOT_FOUND),
        {"category_id": "voucher-game"},
    )
    assert row_counts(database) == before


def update_product(admin: Admin, product: product_pb2.Product, *paths: str) -> product_pb2.Product:
    request = admin_pb2.UpdateProductRequest(
        product=product, update_mask=field_mask_pb2.FieldMask(paths=list(paths))
    )
    return admin.stub.UpdateProduct(request, metadata=ADMIN_METADATA, timeout=10).product


def test_update_changes_only_the_masked_fields(pulsa: Admin, stub: ProductServiceStub) -> None:
    original = get(stub, "pulsa-nusantara")
    change = product_pb2.Product(
        id="pulsa-nusantara",
        display_name="Pulsa Nusantara Baru",
        description="Deskripsi baru.",
        category_id="paket-data",
        image_url="/images/products/baru.svg",
    )
    time.sleep(0.01)
    updated = update_product(pulsa, change, "description")
    assert updated.description == "Deskripsi baru."
    assert (updated.display_name, updated.category_id, updated.image_url) == (
        original.display_name,
        original.category_id,
        original.image_url,
    )
    assert updated.create_time == original.create_time
    assert updated.update_time.ToDatetime() > original.update_time.ToDatetime()
    assert updated.packages == original.packages
    assert get(stub, "pulsa-nusantara") == updated


def test_an_empty_mask_changes_the_four_fields_of_v1_0(pulsa: Admin, stub: ProductServiceStub) -> None:
    change = product_pb2.Product(
        id="pulsa-nusantara",
        display_name="Nusantara Prima",
        description="",
        category_id="paket-data",
        image_url="/images/products/prima.svg",
        state=product_pb2.PRODUCT_STATE_ARCHIVED,  # output only: ignored
    )
    updated = update_product(pulsa, change)
    assert (
        updated.display_name,
        updated.description,
        updated.category_id,
        updated.image_url,
        updated.state,
    ) == (
        "Nusantara Prima",
        "",
        "paket-data",
        "/images/products/prima.svg",
        product_pb2.PRODUCT_STATE_ACTIVE,
    )
    found = stub.ListProducts(product_service_pb2.ListProductsRequest(query="prima"), timeout=10).products
    assert [product.id for product in found] == ["pulsa-nusantara"], "search follows the new name"
    assert stub.ListProducts(product_service_pb2.ListProductsRequest(query="nusantara"), timeout=10).products


@pytest.mark.parametrize("path", ["state", "id", "packages", "min_price", "update_time", "nama"])
def test_a_mask_naming_a_field_that_cannot_change_is_invalid_argument(
    pulsa: Admin, stub: ProductServiceStub, path: str
) -> None:
    original = get(stub, "pulsa-nusantara")
    change = product_pb2.Product()
    change.CopyFrom(original)
    change.display_name = "Berubah"
    error = refused(lambda: update_product(pulsa, change, "display_name", path))
    assert (error.code(), violated_fields(error)) == (grpc.StatusCode.INVALID_ARGUMENT, ["update_mask"])
    assert get(stub, "pulsa-nusantara") == original


def test_moving_a_product_to_an_unknown_category_is_refused(pulsa: Admin, stub: ProductServiceStub) -> None:
    original = get(stub, "pulsa-nusantara")
    change = product_pb2.Product()
    change.CopyFrom(original)
    change.category_id = "tidak-ada"
    error = refused(lambda: update_product(pulsa, change, "category_id"))
    assert (error.code(), reason_of(error)) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        ErrorReason.Name(ErrorReason.CATEGORY_NOT_FOUND),
    )
    assert get(stub, "pulsa-nusantara") == original


def test_updating_an_unknown_or_archived_product_is_not_found(pulsa: Admin, stub: ProductServiceStub) -> None:
    change = product_pb2.Product(id="tidak-ada", display_name="X", category_id="pulsa")
    error = refused(lambda: update_product(pulsa, change))
    assert (error.code(), reason_of(error), error_metadata(error)) == (
        grpc.StatusCode.NOT_FOUND,
        ErrorReason.Name(ErrorReason.PRODUCT_NOT_FOUND),
        {"product_id": "tidak-ada"},
    )
    pulsa.archive("pulsa-nusantara")
    change.id = "pulsa-nusantara"
    assert reason_of(refused(lambda: update_product(pulsa, change))) == ErrorReason.Name(
        ErrorReason.PRODUCT_NOT_FOUND
    )


def test_a_partial_update_is_not_held_to_the_rules_of_fields_it_leaves_out(
    pulsa: Admin, stub: ProductServiceStub
) -> None:
    """The mask names display_name only: the empty category_id (a required id) is not looked at."""
    original = get(stub, "pulsa-nusantara")
    updated = update_product(
        pulsa, product_pb2.Product(id="pulsa-nusantara", display_name="Nama Baru"), "display_name"
    )
    assert updated.display_name == "Nama Baru"
    assert (updated.category_id, updated.description, updated.image_url) == (
        original.category_id,
        original.description,
        original.image_url,
    )


@pytest.mark.parametrize(
    ("change", "path", "field"),
    [
        (product_pb2.Product(id="pulsa-nusantara"), "display_name", "product.display_name"),
        (
            product_pb2.Product(id="pulsa-nusantara", category_id="Paket Data"),
            "category_id",
            "product.category_id",
        ),
        (product_pb2.Product(id="Pulsa Nusantara", display_name="Baru"), "display_name", "product.id"),
    ],
    ids=["masked-field-empty", "masked-field-malformed", "id-malformed"],
)
def test_a_partial_update_breaking_a_rule_of_a_masked_field_or_the_id_is_refused_naming_it(
    pulsa: Admin, stub: ProductServiceStub, change: product_pb2.Product, path: str, field: str
) -> None:
    original = get(stub, "pulsa-nusantara")
    error = refused(lambda: update_product(pulsa, change, path))
    assert (error.code(), set(violated_fields(error))) == (grpc.StatusCode.INVALID_ARGUMENT, {field})
    assert get(stub, "pulsa-nusantara") == original


def test_an_unknown_mask_path_is_refused_even_when_the_fields_are_empty(
    pulsa: Admin, stub: ProductServiceStub
) -> None:
    original = get(stub, "pulsa-nusantara")
    error = refused(lambda: update_product(pulsa, product_pb2.Product(id="pulsa-nusantara"), "nama"))
    assert (error.code(), violated_fields(error)) == (grpc.StatusCode.INVALID_ARGUMENT, ["update_mask"])
    assert get(stub, "pulsa-nusantara") == original


def test_delete_archives_the_product_and_can_be_repeated(
    pulsa: Admin, stub: ProductServiceStub, database: peewee.Database
) -> None:
    before = row_counts(database)
    archived = pulsa.archive("pulsa-nusantara")
    assert archived.state == product_pb2.PRODUCT_STATE_ARCHIVED
    assert [package.id for package in archived.packages] == ["pulsa-nusantara-10k"]
    assert pulsa.archive("pulsa-nusantara") == archived
    assert refused(lambda: get(stub, "pulsa-nusantara")).code() == grpc.StatusCode.NOT_FOUND
    assert stub.ListProducts(product_service_pb2.ListProductsRequest(), timeout=10).products == []
    assert row_counts(database) == before, "archiving deletes no row: orders keep their snapshot"
    missing = refused(lambda: pulsa.archive("tidak-ada"))
    assert (missing.code(), reason_of(missing)) == (
        grpc.StatusCode.NOT_FOUND,
        ErrorReason.Name(ErrorReason.PRODUCT_NOT_FOUND),
    )


def test_a_package_is_created_and_touches_its_product(pulsa: Admin, stub: ProductServiceStub) -> None:
    before = get(stub, "pulsa-nusantara")
    time.sleep(0.01)
    request = admin_pb2.CreatePackageRequest(
        product_id="pulsa-nusantara",
        package=product_pb2.Package(
            id="pulsa-nusantara-5k",
            product_id="another-product",  # output only: ignored
            product_display_name="ignored",
            display_name="Pulsa 5.000",
            description="Tambah masa aktif 7 hari.",
            price=rupiah(6_500),
            stock_available=300,
            sort_order=5,
        ),
    )
    created = pulsa.stub.CreatePackage(request, metadata=ADMIN_METADATA, timeout=10).package
    assert created == product_pb2.Package(
        id="pulsa-nusantara-5k",
        product_id="pulsa-nusantara",
        product_display_name="Pulsa Nusantara",
        display_name="Pulsa 5.000",
        description="Tambah masa aktif 7 hari.",
        price=rupiah(6_500),
        stock_available=300,
        sort_order=5,
    )
    after = get(stub, "pulsa-nusantara")
    assert [package.id for package in after.packages] == ["pulsa-nusantara-10k", "pulsa-nusantara-5k"]
    assert (after.min_price, after.max_price) == (rupiah(6_500), rupiah(11_500))
    assert after.update_time.ToDatetime() > before.update_time.ToDatetime()


def test_a_package_id_is_unique_across_the_catalog(pulsa: Admin, database: peewee.Database) -> None:
    pulsa.product("pulsa-samudra", "pulsa")
    before = row_counts(database)
    taken = refused(lambda: pulsa.package("pulsa-samudra", "pulsa-nusantara-10k"))
    assert (taken.code(), reason_of(taken), error_metadata(taken)) == (
        grpc.StatusCode.ALREADY_EXISTS,
        ErrorReason.Name(ErrorReason.PACKAGE_EXISTS),
        {"package_id": "pulsa-nusantara-10k"},
    )
    assert row_counts(database) == before


def test_a_package_for_an_unknown_or_archived_product_is_not_found(pulsa: Admin) -> None:
    missing = refused(lambda: pulsa.package("tidak-ada", "tidak-ada-1"))
    assert (missing.code(), reason_of(missing), error_metadata(missing)) == (
        grpc.StatusCode.NOT_FOUND,
        ErrorReason.Name(ErrorReason.PRODUCT_NOT_FOUND),
        {"product_id": "tidak-ada"},
    )
    pulsa.archive("pulsa-nusantara")
    assert reason_of(
        refused(lambda: pulsa.package("pulsa-nusantara", "pulsa-nusantara-1"))
    ) == ErrorReason.Name(ErrorReason.PRODUCT_NOT_FOUND)


def test_a_price_in_another_currency_is_refused(pulsa: Admin, database: peewee.Database) -> None:
    before = row_counts(database)
    request = admin_pb2.CreatePackageRequest(
        product_id="pulsa-nusantara",
        package=product_pb2.Package(
            id="pulsa-nusantara-usd", display_name="USD", price=money_pb2.Money(currency_code="USD", amount=1)
        ),
    )
    error = refused(lambda: pulsa.stub.CreatePackage(request, metadata=ADMIN_METADATA, timeout=10))
    assert (error.code(), violated_fields(error)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        ["package.price.currency_code"],
    )
    assert row_counts(database) == before


def test_update_package_changes_only_the_masked_fields(pulsa: Admin, stub: ProductServiceStub) -> None:
    before = get(stub, "pulsa-nusantara")
    change = product_pb2.Package()
    change.CopyFrom(before.packages[0])
    change.price.amount = 12_000
    change.stock_available = 42
    change.display_name = "Tidak berubah"
    time.sleep(0.01)
    updated = pulsa.update_package(change, "price", "stock_available")
    assert (updated.price, updated.stock_available, updated.display_name) == (
        rupiah(12_000),
        42,
        "Pulsa 10.000",
    )
    after = get(stub, "pulsa-nusantara")
    assert after.packages[0] == updated
    assert after.min_price == rupiah(12_000)
    assert after.update_time.ToDatetime() > before.update_time.ToDatetime()


def test_an_empty_package_mask_changes_the_five_fields_of_v1_0(pulsa: Admin) -> None:
    """A client built for v1.0 sends every field it knows with an empty mask: those change,
    and the English text it never knew about stays."""
    english = product_pb2.Package(
        id="pulsa-nusantara-10k", display_name_en="Credit 10,000", description_en="Adds 15 days."
    )
    pulsa.update_package(english, "display_name_en", "description_en")
    change = product_pb2.Package(
        id="pulsa-nusantara-10k",
        display_name="Pulsa 10 ribu",
        description="Baru.",
        price=rupiah(11_000),
        stock_available=0,
        sort_order=7,
    )
    updated = pulsa.update_package(change)
    assert updated == product_pb2.Package(
        id="pulsa-nusantara-10k",
        product_id="pulsa-nusantara",
        product_display_name="Pulsa Nusantara",
        display_name="Pulsa 10 ribu",
        description="Baru.",
        price=rupiah(11_000),
        stock_available=0,
        sort_order=7,
        display_name_en="Credit 10,000",
        description_en="Adds 15 days.",
    )


@pytest.mark.parametrize("path", ["id", "product_id", "product_display_name", "price.amount", "stok"])
def test_a_package_mask_naming_a_field_that_cannot_change_is_invalid_argument(
    pulsa: Admin, path: str
) -> None:
    change = product_pb2.Package(id="pulsa-nusantara-10k", display_name="X", price=rupiah(1))
    error = refused(lambda: pulsa.update_package(change, path))
    assert (error.code(), violated_fields(error)) == (grpc.StatusCode.INVALID_ARGUMENT, ["update_mask"])


def test_updating_an_unknown_package_is_not_found(pulsa: Admin) -> None:
    change = product_pb2.Package(id="tidak-ada", display_name="X", price=rupiah(1))
    error = refused(lambda: pulsa.update_package(change, "price"))
    assert (error.code(), reason_of(error), error_metadata(error)) == (
        grpc.StatusCode.NOT_FOUND,
        ErrorReason.Name(ErrorReason.PACKAGE_NOT_FOUND),
        {"package_id": "tidak-ada"},
    )


def test_a_partial_package_update_is_not_held_to_the_rules_of_fields_it_leaves_out(
    pulsa: Admin, stub: ProductServiceStub
) -> None:
    """The mask names stock_available only: the absent price (required) and empty name are not looked at."""
    original = get(stub, "pulsa-nusantara").packages[0]
    updated = pulsa.update_package(
        product_pb2.Package(id="pulsa-nusantara-10k", stock_available=7), "stock_available"
    )
    assert updated.stock_available == 7
    assert (updated.price, updated.display_name, updated.sort_order) == (
        original.price,
        original.display_name,
        original.sort_order,
    )


@pytest.mark.parametrize(
    ("change", "path", "field"),
    [
        (
            product_pb2.Package(id="pulsa-nusantara-10k", stock_available=-1),
            "stock_available",
            "package.stock_available",
        ),
        (product_pb2.Package(id="pulsa-nusantara-10k"), "price", "package.price"),
        (product_pb2.Package(id="pulsa-nusantara-10k", price=rupiah(-1)), "price", "package.price.amount"),
        (product_pb2.Package(id="", stock_available=1), "stock_available", "package.id"),
    ],
    ids=["masked-field-out-of-range", "masked-field-missing", "inside-a-masked-field", "id-empty"],
)
def test_a_partial_package_update_breaking_a_rule_of_a_masked_field_or_the_id_is_refused_naming_it(
    pulsa: Admin, stub: ProductServiceStub, change: product_pb2.Package, path: str, field: str
) -> None:
    original = get(stub, "pulsa-nusantara")
    error = refused(lambda: pulsa.update_package(change, path))
    assert (error.code(), set(violated_fields(error))) == (grpc.StatusCode.INVALID_ARGUMENT, {field})
    assert get(stub, "pulsa-nusantara") == original
