"""Destination fields and delivery kinds: declared by the administrator, shown with the
product and copied onto every package, refused when no checker could use them."""

from __future__ import annotations

import time
from typing import Any

import grpc
import pytest
from google.protobuf import field_mask_pb2, json_format
from support import ADMIN_METADATA, Admin

from pasar.product.v1 import product_admin_service_pb2 as admin_pb2
from pasar.product.v1 import product_pb2, product_service_pb2
from pasar.product.v1.error_reason_pb2 import ErrorReason
from pasar.product.v1.product_service_pb2_grpc import ProductServiceStub
from pasar_testkit.assertions import reason_of, refused, violated_fields

PHONE = product_pb2.DestinationField(
    name="phone_number",
    label="Nomor HP",
    label_en="Phone number",
    hint="Nomor prabayar Nusantara.",
    hint_en="A Nusantara prepaid number.",
    pattern="08[0-9]{8,11}",
    min_length=10,
    max_length=13,
    prefixes=["0811", "0812", "0813"],
    example="081234567890",
    lookup_supported=True,
)
USER_ID = product_pb2.DestinationField(
    name="user_id",
    label="ID Pemain",
    label_en="Player ID",
    pattern="[0-9]{6,12}",
    min_length=6,
    max_length=12,
    example="123456789",
)
ZONE_ID = product_pb2.DestinationField(
    name="zone_id", label="ID Zona", label_en="Zone ID", pattern="[0-9]{4,5}", min_length=4, max_length=5,
    example="2345",
)  # fmt: skip


def get(stub: ProductServiceStub, product_id: str) -> product_pb2.Product:
    return stub.GetProduct(product_service_pb2.GetProductRequest(id=product_id), timeout=10).product


def batch(stub: ProductServiceStub, *ids: str) -> list[product_pb2.Package]:
    request = product_service_pb2.BatchGetPackagesRequest(ids=list(ids))
    return list(stub.BatchGetPackages(request, timeout=10).packages)


def update_product(admin: Admin, product: product_pb2.Product, *paths: str) -> product_pb2.Product:
    request = admin_pb2.UpdateProductRequest(
        product=product, update_mask=field_mask_pb2.FieldMask(paths=list(paths))
    )
    return admin.stub.UpdateProduct(request, metadata=ADMIN_METADATA, timeout=10).product


def carries(
    package: product_pb2.Package,
    fields: list[product_pb2.DestinationField],
    kind: product_pb2.DeliveryKind.ValueType,
) -> bool:
    return list(package.destination_fields) == fields and package.delivery_kind == kind


@pytest.fixture
def pulsa(admin: Admin) -> Admin:
    """A category "pulsa" with a phone-credit product asking for a Nusantara number, in two packages."""
    admin.category("pulsa", display_name="Pulsa")
    admin.category("voucher-game", display_name="Voucher Game")
    admin.product(
        "pulsa-nusantara",
        "pulsa",
        destination_fields=[PHONE],
        delivery_kind=product_pb2.DELIVERY_KIND_PHONE_CREDIT,
    )
    admin.package("pulsa-nusantara", "pulsa-nusantara-10k", sort_order=1)
    admin.package("pulsa-nusantara", "pulsa-nusantara-20k", sort_order=2)
    return admin


def test_destination_fields_and_delivery_kind_are_shown_with_the_product_and_every_package(
    pulsa: Admin, stub: ProductServiceStub
) -> None:
    product = get(stub, "pulsa-nusantara")
    assert list(product.destination_fields) == [PHONE]
    assert product.delivery_kind == product_pb2.DELIVERY_KIND_PHONE_CREDIT
    assert len(product.packages) == 2
    assert all(
        carries(package, [PHONE], product_pb2.DELIVERY_KIND_PHONE_CREDIT) for package in product.packages
    )
    listed = stub.ListProducts(product_service_pb2.ListProductsRequest(), timeout=10).products
    assert [item for item in listed if item.id == "pulsa-nusantara"] == [product]
    packages = batch(stub, "pulsa-nusantara-20k", "pulsa-nusantara-10k")
    assert [package.id for package in packages] == ["pulsa-nusantara-20k", "pulsa-nusantara-10k"]
    assert all(carries(package, [PHONE], product_pb2.DELIVERY_KIND_PHONE_CREDIT) for package in packages)
    created = pulsa.package("pulsa-nusantara", "pulsa-nusantara-50k")
    assert carries(created, [PHONE], product_pb2.DELIVERY_KIND_PHONE_CREDIT)
    updated = pulsa.update_package(created, "stock_available")
    assert carries(updated, [PHONE], product_pb2.DELIVERY_KIND_PHONE_CREDIT)


def test_a_product_created_without_them_has_no_fields_and_no_kind(
    pulsa: Admin, stub: ProductServiceStub
) -> None:
    created = pulsa.product("voucher-universal", "voucher-game")
    assert (list(created.destination_fields), created.delivery_kind) == (
        [],
        product_pb2.DELIVERY_KIND_UNSPECIFIED,
    )
    pulsa.package("voucher-universal", "voucher-universal-20k")
    (package,) = batch(stub, "voucher-universal-20k")
    assert carries(package, [], product_pb2.DELIVERY_KIND_UNSPECIFIED)


def test_a_voucher_code_product_may_ask_for_nothing(pulsa: Admin, stub: ProductServiceStub) -> None:
    created = pulsa.product(
        "voucher-universal", "voucher-game", delivery_kind=product_pb2.DELIVERY_KIND_VOUCHER_CODE
    )
    assert (list(created.destination_fields), created.delivery_kind) == (
        [],
        product_pb2.DELIVERY_KIND_VOUCHER_CODE,
    )
    assert get(stub, "voucher-universal") == created


def test_the_mask_paths_change_the_fields_and_the_kind_on_every_package(
    pulsa: Admin, stub: ProductServiceStub
) -> None:
    original = get(stub, "pulsa-nusantara")
    change = product_pb2.Product(
        id="pulsa-nusantara",
        destination_fields=[USER_ID, ZONE_ID],
        delivery_kind=product_pb2.DELIVERY_KIND_ACCOUNT_TOPUP,
    )
    time.sleep(0.01)
    updated = update_product(pulsa, change, "destination_fields", "delivery_kind")
    assert list(updated.destination_fields) == [USER_ID, ZONE_ID]
    assert updated.delivery_kind == product_pb2.DELIVERY_KIND_ACCOUNT_TOPUP
    assert updated.display_name == original.display_name
    assert updated.update_time.ToDatetime() > original.update_time.ToDatetime()
    assert get(stub, "pulsa-nusantara") == updated
    assert all(
        carries(package, [USER_ID, ZONE_ID], product_pb2.DELIVERY_KIND_ACCOUNT_TOPUP)
        for package in batch(stub, "pulsa-nusantara-10k", "pulsa-nusantara-20k")
    )


def test_each_path_changes_only_its_own_field(pulsa: Admin, stub: ProductServiceStub) -> None:
    kind_only = product_pb2.Product(id="pulsa-nusantara", delivery_kind=product_pb2.DELIVERY_KIND_DATA_PLAN)
    updated = update_product(pulsa, kind_only, "delivery_kind")
    assert (list(updated.destination_fields), updated.delivery_kind) == (
        [PHONE],
        product_pb2.DELIVERY_KIND_DATA_PLAN,
    )
    cleared = update_product(pulsa, product_pb2.Product(id="pulsa-nusantara"), "destination_fields")
    assert (list(cleared.destination_fields), cleared.delivery_kind) == (
        [],
        product_pb2.DELIVERY_KIND_DATA_PLAN,
    )
    (package,) = batch(stub, "pulsa-nusantara-10k")
    assert carries(package, [], product_pb2.DELIVERY_KIND_DATA_PLAN)


def test_an_empty_mask_changes_the_four_fields_of_v1_0_and_keeps_the_destination(
    pulsa: Admin, stub: ProductServiceStub
) -> None:
    """A client built before v1.2 sends no destination fields and no mask: it must not clear them."""
    change = product_pb2.Product(id="pulsa-nusantara", display_name="Pulsa Baru", category_id="pulsa")
    updated = update_product(pulsa, change)
    assert updated.display_name == "Pulsa Baru"
    assert (list(updated.destination_fields), updated.delivery_kind) == (
        [PHONE],
        product_pb2.DELIVERY_KIND_PHONE_CREDIT,
    )


def field(**changes: Any) -> product_pb2.DestinationField:
    """PHONE with some of its values changed."""
    values = json_format.MessageToDict(PHONE, preserving_proto_field_name=True)
    return product_pb2.DestinationField(**{**values, **changes})


AT = "product.destination_fields"
REFUSED_FIELDS = [
    pytest.param([field(pattern="(?=08)[0-9]{10,13}")], [f"{AT}[0].pattern"], id="lookahead"),
    pytest.param([field(pattern="(?P<n>08)[0-9]+")], [f"{AT}[0].pattern"], id="named group"),
    pytest.param([field(pattern="(?i)08[0-9]+")], [f"{AT}[0].pattern"], id="inline flag"),
    pytest.param([field(pattern="(0)8\\1[0-9]+")], [f"{AT}[0].pattern"], id="backreference"),
    pytest.param([field(pattern="08[0-9")], [f"{AT}[0].pattern"], id="pattern that does not compile"),
    pytest.param([field(pattern="\\s*08[0-9]+")], [f"{AT}[0].pattern"], id="escape outside the subset"),
    pytest.param([field(example="085712345678")], [f"{AT}[0].example"], id="example with another prefix"),
    pytest.param([field(example="0812345")], [f"{AT}[0].example"], id="example too short"),
    pytest.param([field(example="0812345678x")], [f"{AT}[0].example"], id="example breaking the pattern"),
    pytest.param(
        [field(min_length=4, max_length=6, pattern="[0-9]{4,6}", prefixes=["08123456"], example="081234")],
        [f"{AT}[0].prefixes[0]"],
        id="prefix longer than any value",
    ),
    pytest.param([field(min_length=13, max_length=10)], [f"{AT}[0]"], id="min_length above max_length"),
    pytest.param([field(min_length=0)], [f"{AT}[0].min_length"], id="min_length zero"),
    pytest.param([field(), USER_ID, field(name="zone_id", example="1")], [f"{AT}[2].example"], id="third"),
    pytest.param(
        [field(pattern="(?=0)8"), field(name="other", example="0")],
        [f"{AT}[0].pattern", f"{AT}[1].example"],
        id="every problem at once",
    ),
    pytest.param([field(), field()], ["product"], id="a name twice"),
]


@pytest.mark.parametrize(("fields", "violations"), REFUSED_FIELDS)
def test_fields_no_checker_could_use_are_refused_naming_each(
    pulsa: Admin, stub: ProductServiceStub, fields: list[product_pb2.DestinationField], violations: list[str]
) -> None:
    error = refused(
        lambda: pulsa.product(
            "pulsa-baru",
            "pulsa",
            destination_fields=fields,
            delivery_kind=product_pb2.DELIVERY_KIND_PHONE_CREDIT,
        )
    )
    assert (error.code(), violated_fields(error)) == (grpc.StatusCode.INVALID_ARGUMENT, violations)
    missing = refused(lambda: get(stub, "pulsa-baru"))
    assert reason_of(missing) == ErrorReason.Name(ErrorReason.PRODUCT_NOT_FOUND), "nothing was written"


@pytest.mark.parametrize(("fields", "violations"), REFUSED_FIELDS)
def test_an_update_to_such_fields_is_refused_and_changes_nothing(
    pulsa: Admin, stub: ProductServiceStub, fields: list[product_pb2.DestinationField], violations: list[str]
) -> None:
    original = get(stub, "pulsa-nusantara")
    change = product_pb2.Product(id="pulsa-nusantara", destination_fields=fields)
    error = refused(lambda: update_product(pulsa, change, "destination_fields"))
    assert (error.code(), violated_fields(error)) == (grpc.StatusCode.INVALID_ARGUMENT, violations)
    assert get(stub, "pulsa-nusantara") == original


def test_fields_the_mask_leaves_out_are_not_checked(pulsa: Admin, stub: ProductServiceStub) -> None:
    change = product_pb2.Product(
        id="pulsa-nusantara",
        destination_fields=[field(pattern="(?=0)8")],
        delivery_kind=product_pb2.DELIVERY_KIND_DATA_PLAN,
    )
    updated = update_product(pulsa, change, "delivery_kind")
    assert (list(updated.destination_fields), updated.delivery_kind) == (
        [PHONE],
        product_pb2.DELIVERY_KIND_DATA_PLAN,
    )


def test_an_unknown_delivery_kind_is_refused(pulsa: Admin, stub: ProductServiceStub) -> None:
    unknown: product_pb2.DeliveryKind.ValueType = 99  # type: ignore[assignment]
    error = refused(lambda: pulsa.product("pulsa-baru", "pulsa", delivery_kind=unknown))
    assert (error.code(), violated_fields(error)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        ["product.delivery_kind"],
    )
    change = product_pb2.Product(id="pulsa-nusantara", delivery_kind=unknown)
    error = refused(lambda: update_product(pulsa, change, "delivery_kind"))
    assert (error.code(), violated_fields(error)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        ["product.delivery_kind"],
    )
    assert get(stub, "pulsa-nusantara").delivery_kind == product_pb2.DELIVERY_KIND_PHONE_CREDIT
