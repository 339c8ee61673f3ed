"""ProductAdminService: the token, and each change of the catalog with its refusals."""

from __future__ import annotations

import pytest
from google.protobuf import field_mask_pb2

from pasar.product.v1 import product_admin_service_pb2 as admin_pb2
from pasar.product.v1 import product_admin_service_pb2_grpc as admin_grpc
from pasar.product.v1 import product_pb2
from pasar.product.v1 import product_service_pb2 as catalog_pb2
from pasar.product.v1 import product_service_pb2_grpc as catalog_grpc
from pasar.product.v1.error_reason_pb2 import ErrorReason
from pasar_conformance import contract
from pasar_conformance.answers import expect_invalid_argument, expect_reason
from pasar_conformance.product.seed import Catalog, rupiah
from pasar_conformance.product.suite import ADMIN_SERVICE, PRODUCT_SUITE
from pasar_conformance.target import AUTHORIZATION, CALL_TIMEOUT_SECONDS, Target

ADMIN_METHODS = contract.methods([ADMIN_SERVICE])


@pytest.fixture(scope="module")
def admin(target: Target) -> admin_grpc.ProductAdminServiceStub:
    return admin_grpc.ProductAdminServiceStub(target.channel)


@pytest.fixture(scope="module")
def catalog_stub(target: Target) -> catalog_grpc.ProductServiceStub:
    return catalog_grpc.ProductServiceStub(target.channel)


def mask(*paths: str) -> field_mask_pb2.FieldMask:
    return field_mask_pb2.FieldMask(paths=list(paths))


@pytest.mark.parametrize("rpc", ADMIN_METHODS, ids=[m.name for m in ADMIN_METHODS])
def test_an_admin_call_without_the_token_is_unauthenticated(target: Target, rpc: contract.Method) -> None:
    request = PRODUCT_SUITE.request_for(target, rpc)
    expect_reason(
        lambda: target.call(rpc.full_name, request, metadata=()),
        ErrorReason.Name(ErrorReason.ADMIN_TOKEN_MISSING),
    )


@pytest.mark.parametrize("rpc", ADMIN_METHODS, ids=[m.name for m in ADMIN_METHODS])
def test_an_admin_call_with_a_wrong_token_is_permission_denied(target: Target, rpc: contract.Method) -> None:
    request = PRODUCT_SUITE.request_for(target, rpc)
    wrong = ((AUTHORIZATION, f"Bearer {target.run.new('wrong')}"),)
    expect_reason(
        lambda: target.call(rpc.full_name, request, metadata=wrong),
        ErrorReason.Name(ErrorReason.ADMIN_TOKEN_INVALID),
    )


def test_a_category_is_created_once(shop: Catalog, admin: admin_grpc.ProductAdminServiceStub) -> None:
    category = shop.category("Sekali Saja")
    assert category.display_name == "Sekali Saja"
    expect_reason(
        lambda: admin.CreateCategory(
            admin_pb2.CreateCategoryRequest(category=category),
            metadata=shop.target.admin_metadata,
            timeout=CALL_TIMEOUT_SECONDS,
        ),
        ErrorReason.Name(ErrorReason.CATEGORY_EXISTS),
        metadata={"category_id": category.id},
    )


def test_a_product_is_created_active_without_packages_ignoring_output_only_fields(
    shop: Catalog, admin: admin_grpc.ProductAdminServiceStub, target: Target
) -> None:
    category = shop.shared_category()
    product_id = target.run.new("product")
    request = admin_pb2.CreateProductRequest(
        product=product_pb2.Product(
            id=product_id,
            category_id=category,
            display_name="Token Uji",
            description="dibuat",
            image_url="/images/x.svg",
            state=product_pb2.PRODUCT_STATE_ARCHIVED,
            packages=[product_pb2.Package(id=target.run.new("pkg"), display_name="x", price=rupiah(1))],
        )
    )
    created = admin.CreateProduct(
        request, metadata=target.admin_metadata, timeout=CALL_TIMEOUT_SECONDS
    ).product
    shop.archive_later(product_id)
    assert (
        created.id,
        created.category_id,
        created.display_name,
        created.description,
        created.image_url,
    ) == (
        product_id,
        category,
        "Token Uji",
        "dibuat",
        "/images/x.svg",
    )
    assert created.state == product_pb2.PRODUCT_STATE_ACTIVE
    assert not created.packages
    assert created.HasField("create_time")


def test_a_product_id_is_taken_even_when_archived(shop: Catalog) -> None:
    category = shop.shared_category()
    product = shop.product(category)
    for _round in range(2):
        expect_reason(
            lambda: shop.product(category, product_id=product.id),
            ErrorReason.Name(ErrorReason.PRODUCT_EXISTS),
            metadata={"product_id": product.id},
        )
        shop.archive(product.id)


def test_a_product_in_an_unknown_category_is_a_failed_precondition(shop: Catalog, target: Target) -> None:
    unknown = target.run.new("cat")
    expect_reason(
        lambda: shop.product(unknown),
        ErrorReason.Name(ErrorReason.CATEGORY_NOT_FOUND),
        metadata={"category_id": unknown},
    )


def test_update_changes_only_the_masked_fields(
    shop: Catalog, admin: admin_grpc.ProductAdminServiceStub, catalog_stub: catalog_grpc.ProductServiceStub
) -> None:
    other = shop.category()
    product = shop.product(shop.shared_category(), display_name="Nama Lama", description="lama")
    request = admin_pb2.UpdateProductRequest(
        product=product_pb2.Product(
            id=product.id, display_name="Nama Baru", description="", category_id=other.id
        ),
        update_mask=mask("display_name", "category_id"),
    )
    updated = admin.UpdateProduct(request, metadata=shop.target.admin_metadata, timeout=CALL_TIMEOUT_SECONDS)
    assert (updated.product.display_name, updated.product.description, updated.product.category_id) == (
        "Nama Baru",
        "lama",
        other.id,
    )
    read = catalog_stub.GetProduct(catalog_pb2.GetProductRequest(id=product.id), timeout=CALL_TIMEOUT_SECONDS)
    assert read.product.display_name == "Nama Baru"


def test_updating_an_unknown_product_or_into_an_unknown_category_is_refused(
    shop: Catalog, admin: admin_grpc.ProductAdminServiceStub, target: Target
) -> None:
    unknown = target.run.new("product")
    request = admin_pb2.UpdateProductRequest(
        product=product_pb2.Product(id=unknown, display_name="x"), update_mask=mask("display_name")
    )
    expect_reason(
        lambda: admin.UpdateProduct(request, metadata=target.admin_metadata, timeout=CALL_TIMEOUT_SECONDS),
        ErrorReason.Name(ErrorReason.PRODUCT_NOT_FOUND),
        metadata={"product_id": unknown},
    )
    product = shop.product(shop.shared_category())
    unknown_category = target.run.new("cat")
    moving = admin_pb2.UpdateProductRequest(
        product=product_pb2.Product(id=product.id, category_id=unknown_category),
        update_mask=mask("category_id"),
    )
    expect_reason(
        lambda: admin.UpdateProduct(moving, metadata=target.admin_metadata, timeout=CALL_TIMEOUT_SECONDS),
        ErrorReason.Name(ErrorReason.CATEGORY_NOT_FOUND),
        metadata={"category_id": unknown_category},
    )


def test_a_mask_naming_a_field_that_cannot_change_is_invalid(
    shop: Catalog, admin: admin_grpc.ProductAdminServiceStub
) -> None:
    product = shop.product(shop.shared_category())
    request = admin_pb2.UpdateProductRequest(
        product=product_pb2.Product(id=product.id, state=product_pb2.PRODUCT_STATE_ARCHIVED),
        update_mask=mask("state"),
    )
    expect_invalid_argument(
        lambda: admin.UpdateProduct(
            request, metadata=shop.target.admin_metadata, timeout=CALL_TIMEOUT_SECONDS
        )
    )


def test_delete_archives_the_product_and_unknown_ids_are_not_found(
    shop: Catalog, admin: admin_grpc.ProductAdminServiceStub, target: Target
) -> None:
    product = shop.product(shop.shared_category())
    archived = shop.archive(product.id)
    assert (archived.id, archived.state) == (product.id, product_pb2.PRODUCT_STATE_ARCHIVED)
    assert shop.archive(product.id) == archived
    unknown = target.run.new("product")
    expect_reason(
        lambda: admin.DeleteProduct(
            admin_pb2.DeleteProductRequest(id=unknown),
            metadata=target.admin_metadata,
            timeout=CALL_TIMEOUT_SECONDS,
        ),
        ErrorReason.Name(ErrorReason.PRODUCT_NOT_FOUND),
        metadata={"product_id": unknown},
    )


def test_a_package_is_created_once_across_the_catalog(shop: Catalog) -> None:
    category = shop.shared_category()
    first, second = shop.product(category), shop.product(category)
    package = shop.package(first.id, stock=4, price=12_500, sort_order=2)
    assert (package.product_id, package.stock_available, package.price.amount, package.sort_order) == (
        first.id,
        4,
        12_500,
        2,
    )
    request = admin_pb2.CreatePackageRequest(product_id=second.id, package=package)
    expect_reason(
        lambda: shop.admin.CreatePackage(
            request, metadata=shop.target.admin_metadata, timeout=CALL_TIMEOUT_SECONDS
        ),
        ErrorReason.Name(ErrorReason.PACKAGE_EXISTS),
        metadata={"package_id": package.id},
    )


def test_a_package_for_an_unknown_product_is_not_found(shop: Catalog, target: Target) -> None:
    unknown = target.run.new("product")
    expect_reason(
        lambda: shop.package(unknown),
        ErrorReason.Name(ErrorReason.PRODUCT_NOT_FOUND),
        metadata={"product_id": unknown},
    )


def test_update_package_changes_only_the_masked_fields(
    shop: Catalog, admin: admin_grpc.ProductAdminServiceStub, target: Target
) -> None:
    [package] = shop.packages((5,))
    request = admin_pb2.UpdatePackageRequest(
        package=product_pb2.Package(
            id=package.id, display_name="Paket Baru", price=rupiah(99_000), stock_available=1
        ),
        update_mask=mask("price", "stock_available"),
    )
    updated = admin.UpdatePackage(
        request, metadata=target.admin_metadata, timeout=CALL_TIMEOUT_SECONDS
    ).package
    assert (updated.display_name, updated.price.amount, updated.stock_available) == (
        package.display_name,
        99_000,
        1,
    )


def test_updating_an_unknown_package_is_not_found(
    admin: admin_grpc.ProductAdminServiceStub, target: Target
) -> None:
    unknown = target.run.new("pkg")
    request = admin_pb2.UpdatePackageRequest(
        package=product_pb2.Package(id=unknown, stock_available=1), update_mask=mask("stock_available")
    )
    expect_reason(
        lambda: admin.UpdatePackage(request, metadata=target.admin_metadata, timeout=CALL_TIMEOUT_SECONDS),
        ErrorReason.Name(ErrorReason.PACKAGE_NOT_FOUND),
        metadata={"package_id": unknown},
    )
