"""Destination fields and delivery kinds (contracts v1.2): kept as given, shown with the
product and copied onto every package it returns (the order service checks destinations
against the packages), changed by their own update_mask paths only, and refused when no
service could check a destination against them."""

from __future__ import annotations

import pytest

from pasar.product.v1 import product_admin_service_pb2 as admin_pb2
from pasar.product.v1 import product_admin_service_pb2_grpc as admin_grpc
from pasar.product.v1 import product_pb2
from pasar.product.v1 import product_service_pb2 as catalog_pb2
from pasar.product.v1 import product_service_pb2_grpc as catalog_grpc
from pasar.product.v1.error_reason_pb2 import ErrorReason
from pasar_conformance.answers import expect_invalid_argument, expect_reason
from pasar_conformance.destination_fields import TELKOMSEL_PREFIXES, phone_field
from pasar_conformance.product.seed import Catalog
from pasar_conformance.target import CALL_TIMEOUT_SECONDS, Target

PHONE = phone_field(TELKOMSEL_PREFIXES)
USER_ID = product_pb2.DestinationField(
    name="user_id", label="ID Pemain", label_en="Player ID", pattern="[0-9]{6,12}", min_length=6,
    max_length=12, example="123456789",
)  # fmt: skip
ZONE_ID = product_pb2.DestinationField(
    name="zone_id", label="ID Zona", label_en="Zone ID", pattern="^[0-9]{4,5}$", min_length=4,
    max_length=5, example="2345",
)  # fmt: skip
DESTINATIONS = "product.destination_fields"


@pytest.fixture(scope="module")
def admin(target: Target) -> admin_grpc.ProductAdminServiceStub:
    return admin_grpc.ProductAdminServiceStub(target.channel)


@pytest.fixture(scope="module")
def stub(target: Target) -> catalog_grpc.ProductServiceStub:
    return catalog_grpc.ProductServiceStub(target.channel)


def get(stub: catalog_grpc.ProductServiceStub, product_id: str) -> product_pb2.Product:
    return stub.GetProduct(catalog_pb2.GetProductRequest(id=product_id), timeout=CALL_TIMEOUT_SECONDS).product


def destination_of(message: product_pb2.Product | product_pb2.Package) -> tuple[object, ...]:
    return (list(message.destination_fields), product_pb2.DeliveryKind.Name(message.delivery_kind))


def test_destination_fields_and_the_delivery_kind_are_kept_and_copied_onto_every_package(
    shop: Catalog, stub: catalog_grpc.ProductServiceStub
) -> None:
    category = shop.category("Voucher Game")
    made = shop.product(
        category.id,
        destination_fields=[USER_ID, ZONE_ID],
        delivery_kind=product_pb2.DELIVERY_KIND_ACCOUNT_TOPUP,
    )
    expected = ([USER_ID, ZONE_ID], "DELIVERY_KIND_ACCOUNT_TOPUP")
    assert destination_of(made) == expected, "CreateProduct answered other destination fields than given"
    created = shop.package(made.id, sort_order=0)
    assert destination_of(created) == expected, "CreatePackage's package lacks its product's destination"
    second = shop.package(made.id, sort_order=1)
    read = get(stub, made.id)
    assert destination_of(read) == expected, "GetProduct shows other destination fields"
    assert [destination_of(package) for package in read.packages] == [expected, expected], (
        "GetProduct's packages lack their product's destination fields (Package.destination_fields)"
    )
    listed = stub.ListProducts(
        catalog_pb2.ListProductsRequest(category_id=category.id), timeout=CALL_TIMEOUT_SECONDS
    ).products
    assert [destination_of(product) for product in listed] == [expected]
    assert [destination_of(package) for package in listed[0].packages] == [expected, expected]
    batch = stub.BatchGetPackages(
        catalog_pb2.BatchGetPackagesRequest(ids=[second.id, created.id]),
        metadata=shop.target.caller_metadata,
        timeout=CALL_TIMEOUT_SECONDS,
    ).packages
    assert [destination_of(package) for package in batch] == [expected, expected], (
        "BatchGetPackages' packages lack their product's destination fields: the order service "
        "checks an order line's destination against them"
    )


def test_a_product_may_declare_none(shop: Catalog, stub: catalog_grpc.ProductServiceStub) -> None:
    voucher = shop.product(shop.shared_category(), delivery_kind=product_pb2.DELIVERY_KIND_VOUCHER_CODE)
    older = shop.product(shop.shared_category())
    assert destination_of(get(stub, voucher.id)) == ([], "DELIVERY_KIND_VOUCHER_CODE")
    assert destination_of(get(stub, older.id)) == ([], "DELIVERY_KIND_UNSPECIFIED")


def test_the_update_mask_paths_change_them_and_an_empty_mask_keeps_them(
    shop: Catalog, stub: catalog_grpc.ProductServiceStub
) -> None:
    made = shop.product(
        shop.shared_category(),
        destination_fields=[PHONE],
        delivery_kind=product_pb2.DELIVERY_KIND_PHONE_CREDIT,
    )
    package = shop.package(made.id)
    target = shop.target
    kind_only = product_pb2.Product(id=made.id, delivery_kind=product_pb2.DELIVERY_KIND_DATA_PLAN)
    assert destination_of(shop.update_product(kind_only, "delivery_kind")) == (
        [PHONE],
        "DELIVERY_KIND_DATA_PLAN",
    )
    fields = product_pb2.Product(id=made.id, destination_fields=[USER_ID, ZONE_ID])
    assert destination_of(shop.update_product(fields, "destination_fields")) == (
        [USER_ID, ZONE_ID],
        "DELIVERY_KIND_DATA_PLAN",
    )
    (copy,) = stub.BatchGetPackages(
        catalog_pb2.BatchGetPackagesRequest(ids=[package.id]),
        metadata=target.caller_metadata,
        timeout=CALL_TIMEOUT_SECONDS,
    ).packages
    assert destination_of(copy) == ([USER_ID, ZONE_ID], "DELIVERY_KIND_DATA_PLAN")
    v1_client = product_pb2.Product(id=made.id, display_name="Nama Baru", category_id=made.category_id)
    after = shop.update_product(v1_client)
    assert after.display_name == "Nama Baru"
    assert destination_of(after) == ([USER_ID, ZONE_ID], "DELIVERY_KIND_DATA_PLAN"), (
        "an empty update_mask means the four fields of v1.0: it must not clear the destination fields"
    )


def changed(**values: object) -> product_pb2.DestinationField:
    field = product_pb2.DestinationField()
    field.CopyFrom(PHONE)
    for name, value in values.items():
        setattr(field, name, value)
    return field


REFUSED = [
    pytest.param([changed(pattern="08[0-9")], f"{DESTINATIONS}[0].pattern", id="pattern-not-a-regex"),
    pytest.param([changed(pattern="(?=08)[0-9]{10,13}")], f"{DESTINATIONS}[0].pattern", id="lookahead"),
    pytest.param([changed(pattern="(?<n>08)[0-9]+")], f"{DESTINATIONS}[0].pattern", id="named-group"),
    pytest.param([changed(example="085712345678")], f"{DESTINATIONS}[0].example", id="example-prefix"),
    pytest.param([changed(example="0812345")], f"{DESTINATIONS}[0].example", id="example-length"),
    pytest.param(
        [PHONE, changed(name="other", example="0812345678x")], f"{DESTINATIONS}[1].example", id="second"
    ),
    pytest.param([changed(min_length=13, max_length=10)], f"{DESTINATIONS}[0]", id="min-above-max"),
    pytest.param([PHONE, PHONE], "", id="a-name-twice"),
]


@pytest.mark.parametrize(("fields", "path"), REFUSED)
def test_destination_fields_no_service_could_check_against_are_refused(
    shop: Catalog,
    admin: admin_grpc.ProductAdminServiceStub,
    stub: catalog_grpc.ProductServiceStub,
    fields: list[product_pb2.DestinationField],
    path: str,
) -> None:
    target = shop.target
    named = (path,) if path else ()
    product_id = target.run.new("product")
    create = admin_pb2.CreateProductRequest(
        product=product_pb2.Product(
            id=product_id,
            category_id=shop.shared_category(),
            display_name="Ditolak",
            destination_fields=fields,
            delivery_kind=product_pb2.DELIVERY_KIND_PHONE_CREDIT,
        )
    )
    expect_invalid_argument(
        lambda: admin.CreateProduct(create, metadata=target.admin_metadata, timeout=CALL_TIMEOUT_SECONDS),
        *named,
    )
    expect_reason(lambda: get(stub, product_id), ErrorReason.Name(ErrorReason.PRODUCT_NOT_FOUND))
    existing = shop.product(
        shop.shared_category(),
        destination_fields=[PHONE],
        delivery_kind=product_pb2.DELIVERY_KIND_PHONE_CREDIT,
    )
    change = product_pb2.Product(id=existing.id, destination_fields=fields)
    expect_invalid_argument(lambda: shop.update_product(change, "destination_fields"), *named)
    assert list(get(stub, existing.id).destination_fields) == [PHONE], "a refused update changed the fields"


def test_an_undefined_delivery_kind_is_refused(
    shop: Catalog, admin: admin_grpc.ProductAdminServiceStub
) -> None:
    target = shop.target
    undefined: product_pb2.DeliveryKind.ValueType = 99  # type: ignore[assignment]
    create = admin_pb2.CreateProductRequest(
        product=product_pb2.Product(
            id=target.run.new("product"),
            category_id=shop.shared_category(),
            display_name="Ditolak",
            delivery_kind=undefined,
        )
    )
    expect_invalid_argument(
        lambda: admin.CreateProduct(create, metadata=target.admin_metadata, timeout=CALL_TIMEOUT_SECONDS),
        "product.delivery_kind",
    )
