"""The administrator's token: read from the bearer metadata, compared exactly, checked first."""

from __future__ import annotations

import grpc
import peewee
import pytest
from support import ADMIN_METADATA, ADMIN_TOKEN, row_counts

from pasar.product.v1 import product_admin_service_pb2 as admin_pb2
from pasar.product.v1 import product_admin_service_pb2_grpc as admin_pb2_grpc
from pasar.product.v1 import product_pb2, product_service_pb2
from pasar.product.v1.error_reason_pb2 import ErrorReason
from pasar.product.v1.product_service_pb2_grpc import ProductServiceStub
from pasar_kit.errors import PermissionDenied, Unauthenticated
from pasar_product.admin_auth import admin_refusal, bearer_token
from pasar_testkit.assertions import reason_of, refused, violated_fields

CATEGORY = product_pb2.Category(id="pulsa", display_name="Pulsa", sort_order=10)


@pytest.mark.parametrize(
    ("metadata", "token"),
    [
        ((("authorization", "Bearer abc"),), "abc"),
        ((("authorization", "bearer abc"),), "abc"),
        ((("authorization", "BEARER   abc  "),), "abc"),
        ((("x-request-id", "1"), ("authorization", "Bearer abc")), "abc"),
        ((("authorization", "Basic YWxhZGRpbjpvcGVuc2VzYW1l"),), None),
        ((("authorization", "Bearer"),), None),
        ((("authorization", "Bearer   "),), None),
        ((("authorization", "abc"),), None),
        ((("x-authorization", "Bearer abc"),), None),
        ((), None),
        (None, None),
    ],
)
def test_the_bearer_token_is_read_from_the_authorization_metadata(
    metadata: tuple[tuple[str, str], ...] | None, token: str | None
) -> None:
    assert bearer_token(metadata) == token


def test_no_token_is_unauthenticated_and_a_wrong_one_permission_denied() -> None:
    assert isinstance(admin_refusal((), "secret"), Unauthenticated)
    assert isinstance(admin_refusal((("authorization", "Bearer secre"),), "secret"), PermissionDenied)
    assert isinstance(admin_refusal((("authorization", "Bearer secret2"),), "secret"), PermissionDenied)
    assert isinstance(admin_refusal((("authorization", "Bearer SECRET"),), "secret"), PermissionDenied)
    assert admin_refusal((("authorization", "Bearer secret"),), "secret") is None


def test_an_admin_call_without_the_token_is_unauthenticated(
    admin_stub: admin_pb2_grpc.ProductAdminServiceStub, database: peewee.Database
) -> None:
    error = refused(lambda: admin_stub.CreateCategory(admin_pb2.CreateCategoryRequest(category=CATEGORY)))
    assert (error.code(), reason_of(error)) == (
        grpc.StatusCode.UNAUTHENTICATED,
        ErrorReason.Name(ErrorReason.ADMIN_TOKEN_MISSING),
    )
    assert row_counts(database)["category"] == 0


@pytest.mark.parametrize(
    "value", ["Bearer wrong-token", f"Bearer {ADMIN_TOKEN}x", f"Bearer {ADMIN_TOKEN[:-1]}"]
)
def test_an_admin_call_with_a_wrong_token_is_permission_denied(
    admin_stub: admin_pb2_grpc.ProductAdminServiceStub, database: peewee.Database, value: str
) -> None:
    request = admin_pb2.CreateCategoryRequest(category=CATEGORY)
    error = refused(lambda: admin_stub.CreateCategory(request, metadata=(("authorization", value),)))
    assert (error.code(), reason_of(error)) == (
        grpc.StatusCode.PERMISSION_DENIED,
        ErrorReason.Name(ErrorReason.ADMIN_TOKEN_INVALID),
    )
    assert ADMIN_TOKEN not in str(error), "the refusal never repeats a token"
    assert row_counts(database)["category"] == 0


def test_every_admin_method_checks_the_token(admin_stub: admin_pb2_grpc.ProductAdminServiceStub) -> None:
    calls = [
        lambda: admin_stub.CreateCategory(admin_pb2.CreateCategoryRequest(category=CATEGORY)),
        lambda: admin_stub.CreateProduct(admin_pb2.CreateProductRequest()),
        lambda: admin_stub.UpdateProduct(admin_pb2.UpdateProductRequest()),
        lambda: admin_stub.DeleteProduct(admin_pb2.DeleteProductRequest(id="pulsa-nusantara")),
        lambda: admin_stub.CreatePackage(admin_pb2.CreatePackageRequest()),
        lambda: admin_stub.UpdatePackage(admin_pb2.UpdatePackageRequest()),
    ]
    for call in calls:
        assert reason_of(refused(call)) == ErrorReason.Name(ErrorReason.ADMIN_TOKEN_MISSING)


def test_the_token_is_checked_before_the_request_is_validated(
    admin_stub: admin_pb2_grpc.ProductAdminServiceStub,
) -> None:
    invalid = admin_pb2.CreateCategoryRequest(category=product_pb2.Category(id="NOT VALID"))
    assert refused(lambda: admin_stub.CreateCategory(invalid)).code() == grpc.StatusCode.UNAUTHENTICATED
    with_token = refused(lambda: admin_stub.CreateCategory(invalid, metadata=ADMIN_METADATA))
    assert with_token.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "category.id" in violated_fields(with_token)


def test_the_right_token_is_let_through(admin_stub: admin_pb2_grpc.ProductAdminServiceStub) -> None:
    response = admin_stub.CreateCategory(
        admin_pb2.CreateCategoryRequest(category=CATEGORY),
        metadata=(("authorization", f"bearer {ADMIN_TOKEN}"),),
    )
    assert response.category == CATEGORY


def test_the_public_service_needs_no_token(stub: ProductServiceStub) -> None:
    assert stub.ListCategories(product_service_pb2.ListCategoriesRequest(), timeout=10).categories == []
