"""Bad input of every kind gets INVALID_ARGUMENT naming the field, and leaves no row behind."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import grpc
import peewee
import pytest
from google.protobuf import message
from support import ADMIN_METADATA, Admin, row_counts

from pasar.common.v1 import money_pb2
from pasar.product.v1 import product_admin_service_pb2 as admin_pb2
from pasar.product.v1 import product_pb2
from pasar.product.v1 import product_service_pb2 as service_pb2
from pasar.product.v1.error_reason_pb2 import ErrorReason
from pasar.product.v1.product_admin_service_pb2_grpc import ProductAdminServiceStub
from pasar.product.v1.product_service_pb2_grpc import ProductServiceStub
from pasar_kit.money import rupiah
from pasar_testkit.assertions import error_metadata, reason_of, refused, violated_fields

Line = product_pb2.StockLine


@dataclass(frozen=True)
class BadRequest:
    method: str
    request: message.Message
    field: str

    def __str__(self) -> str:
        return f"{self.method}-{self.field}"


def valid_package(**fields: Any) -> product_pb2.Package:
    package = product_pb2.Package(id="pulsa-nusantara-5k", display_name="Pulsa 5.000", price=rupiah(6_500))
    for name, value in fields.items():
        if isinstance(value, message.Message):
            getattr(package, name).CopyFrom(value)
        else:
            setattr(package, name, value)
    return package


def valid_product(**fields: Any) -> product_pb2.Product:
    product = product_pb2.Product(id="pulsa-samudra", display_name="Pulsa Samudra", category_id="pulsa")
    for name, value in fields.items():
        setattr(product, name, value)
    return product


def reserve(order_id: str = "ord_1", *lines: Line) -> service_pb2.ReserveStockRequest:
    return service_pb2.ReserveStockRequest(order_id=order_id, lines=list(lines))


ONE_LINE = Line(package_id="pulsa-nusantara-10k", quantity=1)

PUBLIC_CASES = [
    BadRequest("GetProduct", service_pb2.GetProductRequest(id=""), "id"),
    BadRequest("GetProduct", service_pb2.GetProductRequest(id="Pulsa-Nusantara"), "id"),
    BadRequest("GetProduct", service_pb2.GetProductRequest(id="pulsa--nusantara"), "id"),
    BadRequest("GetProduct", service_pb2.GetProductRequest(id="p" * 64), "id"),
    BadRequest("GetProduct", service_pb2.GetProductRequest(id="pulsa'; DROP TABLE product; --"), "id"),
    BadRequest("ListProducts", service_pb2.ListProductsRequest(page_size=-1), "page_size"),
    BadRequest("ListProducts", service_pb2.ListProductsRequest(page_size=101), "page_size"),
    BadRequest("ListProducts", service_pb2.ListProductsRequest(query="q" * 101), "query"),
    BadRequest("ListProducts", service_pb2.ListProductsRequest(category_id="Token Listrik"), "category_id"),
    BadRequest("ListProducts", service_pb2.ListProductsRequest(page_token="t" * 513), "page_token"),
    BadRequest("ListCategories", service_pb2.ListCategoriesRequest(page_size=2**31 - 1), "page_size"),
    BadRequest("BatchGetPackages", service_pb2.BatchGetPackagesRequest(ids=[]), "ids"),
    BadRequest("BatchGetPackages", service_pb2.BatchGetPackagesRequest(ids=["a", "a"]), "ids"),
    BadRequest(
        "BatchGetPackages", service_pb2.BatchGetPackagesRequest(ids=[f"p{n}" for n in range(101)]), "ids"
    ),
    BadRequest("BatchGetPackages", service_pb2.BatchGetPackagesRequest(ids=["ok", "NOT OK"]), "ids[1]"),
    BadRequest("ReserveStock", reserve("", ONE_LINE), "order_id"),
    BadRequest("ReserveStock", reserve("ord 1", ONE_LINE), "order_id"),
    BadRequest("ReserveStock", reserve("o" * 65, ONE_LINE), "order_id"),
    BadRequest("ReserveStock", reserve("ord_1"), "lines"),
    BadRequest(
        "ReserveStock",
        reserve("ord_1", Line(package_id="pulsa-nusantara-10k", quantity=0)),
        "lines[0].quantity",
    ),
    BadRequest(
        "ReserveStock",
        reserve("ord_1", Line(package_id="pulsa-nusantara-10k", quantity=-5)),
        "lines[0].quantity",
    ),
    BadRequest(
        "ReserveStock",
        reserve("ord_1", Line(package_id="pulsa-nusantara-10k", quantity=101)),
        "lines[0].quantity",
    ),
    BadRequest(
        "ReserveStock",
        reserve("ord_1", ONE_LINE, Line(package_id="pulsa-nusantara-10k", quantity=2**31 - 1)),
        "lines[1].quantity",
    ),
    BadRequest("ReserveStock", reserve("ord_1", Line(quantity=1)), "lines[0].package_id"),
    BadRequest("ReserveStock", reserve("ord_1", ONE_LINE, ONE_LINE), "ReserveStockRequest"),
    BadRequest(
        "ReserveStock", reserve("ord_1", *[Line(package_id=f"p{n}", quantity=1) for n in range(21)]), "lines"
    ),
    BadRequest("CommitReservation", service_pb2.CommitReservationRequest(order_id=""), "order_id"),
    BadRequest("ReleaseReservation", service_pb2.ReleaseReservationRequest(order_id="ord/1"), "order_id"),
]

ADMIN_CASES = [
    BadRequest("CreateCategory", admin_pb2.CreateCategoryRequest(), "category"),
    BadRequest(
        "CreateCategory",
        admin_pb2.CreateCategoryRequest(
            category=product_pb2.Category(id="pulsa-baru", display_name="x" * 81)
        ),
        "category.display_name",
    ),
    BadRequest(
        "CreateCategory",
        admin_pb2.CreateCategoryRequest(
            category=product_pb2.Category(id="baru", display_name="Baru", sort_order=-1)
        ),
        "category.sort_order",
    ),
    BadRequest("CreateProduct", admin_pb2.CreateProductRequest(), "product"),
    BadRequest(
        "CreateProduct", admin_pb2.CreateProductRequest(product=valid_product(id="Pulsa")), "product.id"
    ),
    BadRequest(
        "CreateProduct",
        admin_pb2.CreateProductRequest(product=valid_product(display_name="")),
        "product.display_name",
    ),
    BadRequest(
        "CreateProduct",
        admin_pb2.CreateProductRequest(product=valid_product(display_name="n" * 121)),
        "product.display_name",
    ),
    BadRequest(
        "CreateProduct",
        admin_pb2.CreateProductRequest(product=valid_product(description="d" * 100_000)),
        "product.description",
    ),
    BadRequest(
        "CreateProduct",
        admin_pb2.CreateProductRequest(product=valid_product(image_url="/" * 501)),
        "product.image_url",
    ),
    BadRequest(
        "CreateProduct",
        admin_pb2.CreateProductRequest(product=valid_product(category_id="")),
        "product.category_id",
    ),
    BadRequest("UpdateProduct", admin_pb2.UpdateProductRequest(product=valid_product(id="")), "product.id"),
    BadRequest("DeleteProduct", admin_pb2.DeleteProductRequest(id="PULSA"), "id"),
    BadRequest(
        "CreatePackage", admin_pb2.CreatePackageRequest(product_id="", package=valid_package()), "product_id"
    ),
    BadRequest(
        "CreatePackage",
        admin_pb2.CreatePackageRequest(
            product_id="pulsa-nusantara", package=product_pb2.Package(id="x", display_name="x")
        ),
        "package.price",
    ),
    BadRequest(
        "CreatePackage",
        admin_pb2.CreatePackageRequest(
            product_id="pulsa-nusantara",
            package=valid_package(price=money_pb2.Money(currency_code="IDR", amount=-1)),
        ),
        "package.price.amount",
    ),
    BadRequest(
        "CreatePackage",
        admin_pb2.CreatePackageRequest(
            product_id="pulsa-nusantara",
            package=valid_package(price=money_pb2.Money(currency_code="idr", amount=1)),
        ),
        "package.price.currency_code",
    ),
    BadRequest(
        "CreatePackage",
        admin_pb2.CreatePackageRequest(
            product_id="pulsa-nusantara", package=valid_package(stock_available=-1)
        ),
        "package.stock_available",
    ),
    BadRequest(
        "CreatePackage",
        admin_pb2.CreatePackageRequest(
            product_id="pulsa-nusantara", package=valid_package(stock_available=2**31 - 1)
        ),
        "package.stock_available",
    ),
    BadRequest(
        "CreatePackage",
        admin_pb2.CreatePackageRequest(
            product_id="pulsa-nusantara", package=valid_package(description="d" * 501)
        ),
        "package.description",
    ),
    BadRequest(
        "CreatePackage",
        admin_pb2.CreatePackageRequest(
            product_id="pulsa-nusantara", package=valid_package(sort_order=10_001)
        ),
        "package.sort_order",
    ),
    BadRequest("UpdatePackage", admin_pb2.UpdatePackageRequest(), "package"),
]


@pytest.fixture
def seeded(admin: Admin, database: peewee.Database) -> dict[str, int]:
    """A small catalog, and its row counts before the bad call."""
    admin.category("pulsa")
    admin.product("pulsa-nusantara", "pulsa")
    admin.package("pulsa-nusantara", "pulsa-nusantara-10k", stock=5)
    return row_counts(database)


def check_refused(
    call: Callable[[], object], case: BadRequest, database: peewee.Database, before: dict[str, int]
) -> None:
    error = refused(call)
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error
    assert case.field in violated_fields(error), error
    assert row_counts(database) == before


@pytest.mark.parametrize("case", PUBLIC_CASES, ids=str)
def test_bad_catalog_requests_are_invalid_argument(
    stub: ProductServiceStub, seeded: dict[str, int], database: peewee.Database, case: BadRequest
) -> None:
    method = getattr(stub, case.method)
    check_refused(lambda: method(case.request, timeout=10), case, database, seeded)


@pytest.mark.parametrize("case", ADMIN_CASES, ids=str)
def test_bad_admin_requests_are_invalid_argument(
    admin: Admin, seeded: dict[str, int], database: peewee.Database, case: BadRequest
) -> None:
    method = getattr(admin.stub, case.method)
    check_refused(lambda: method(case.request, metadata=ADMIN_METADATA, timeout=10), case, database, seeded)


def test_a_request_larger_than_the_server_accepts_is_refused_whole(
    admin_stub: ProductAdminServiceStub, seeded: dict[str, int], database: peewee.Database
) -> None:
    request = admin_pb2.CreateProductRequest(product=valid_product(description="d" * (5 * 1024 * 1024)))
    error = refused(lambda: admin_stub.CreateProduct(request, metadata=ADMIN_METADATA, timeout=10))
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert row_counts(database) == seeded


def test_huge_quantities_within_the_rules_are_out_of_stock_not_errors(
    stub: ProductServiceStub, seeded: dict[str, int], database: peewee.Database
) -> None:
    request = reserve("ord_1", Line(package_id="pulsa-nusantara-10k", quantity=100))
    error = refused(lambda: stub.ReserveStock(request, timeout=10))
    assert (error.code(), reason_of(error), error_metadata(error)) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        ErrorReason.Name(ErrorReason.OUT_OF_STOCK),
        {"package_id": "pulsa-nusantara-10k", "requested": "100", "available": "5"},
    )
    assert row_counts(database) == seeded


@pytest.mark.parametrize("text", ["\u0000", "💳🧾", "Ω" * 120, "<script>alert(1)</script>", "' OR 1=1 --"])
def test_unusual_text_within_the_rules_is_stored_as_given(admin: Admin, text: str) -> None:
    admin.category("pulsa")
    created = admin.product("pulsa-aneh", "pulsa", display_name=text, description=text * 2)
    assert (created.display_name, created.description) == (text, text * 2)
