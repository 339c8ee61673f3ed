"""The catalog's contract as the common checks see it: services, a probe, valid requests."""

from __future__ import annotations

from google.protobuf import field_mask_pb2, message

from pasar.common.v1.error_reason_pb2 import ErrorReason as CommonReason
from pasar.product.v1 import product_admin_service_pb2 as admin_pb2
from pasar.product.v1 import product_pb2
from pasar.product.v1 import product_service_pb2 as catalog_pb2
from pasar_conformance.common import Suite
from pasar_conformance.product.seed import catalog, rupiah
from pasar_conformance.target import Target

PACKAGE = "pasar.product.v1"
PRODUCT_SERVICE = "pasar.product.v1.ProductService"
ADMIN_SERVICE = "pasar.product.v1.ProductAdminService"


def rpc(service: str, name: str) -> str:
    return f"{service}/{name}"


# Valid requests, seeding what they need (the common checks repeat them, and send the
# internal ones without a credential).
def _list_categories(_target: Target) -> message.Message:
    return catalog_pb2.ListCategoriesRequest(page_size=100)


def _list_products(target: Target) -> message.Message:
    category = catalog(target).category()
    for _ in range(2):
        catalog(target).packages(category_id=category.id)
    return catalog_pb2.ListProductsRequest(category_id=category.id, page_size=10)


def _full_page(target: Target) -> message.Message:
    category_id, _products = catalog(target).paging_category()
    return catalog_pb2.ListProductsRequest(category_id=category_id, page_size=100)


def _get_product(target: Target) -> message.Message:
    [package] = catalog(target).packages()
    return catalog_pb2.GetProductRequest(id=package.product_id)


def _batch_get_packages(target: Target) -> message.Message:
    packages = catalog(target).packages((3, 4))
    return catalog_pb2.BatchGetPackagesRequest(ids=[p.id for p in packages])


def _reserve_stock(target: Target) -> catalog_pb2.ReserveStockRequest:
    [package] = catalog(target).packages((5,))
    return catalog_pb2.ReserveStockRequest(
        order_id=target.run.new("order"), lines=[product_pb2.StockLine(package_id=package.id, quantity=2)]
    )


def _reserved(target: Target) -> str:
    """The order id of a new reservation."""
    request = _reserve_stock(target)
    target.call(rpc(PRODUCT_SERVICE, "ReserveStock"), request)
    return request.order_id


def _commit(target: Target) -> message.Message:
    return catalog_pb2.CommitReservationRequest(order_id=_reserved(target))


def _release(target: Target) -> message.Message:
    return catalog_pb2.ReleaseReservationRequest(order_id=_reserved(target))


def _delete_product(target: Target) -> message.Message:
    [package] = catalog(target).packages()
    return admin_pb2.DeleteProductRequest(id=package.product_id)


# Admin requests that are valid but never run: the admin checks send them with no token
# or a wrong one.
def _create_category(target: Target) -> message.Message:
    return admin_pb2.CreateCategoryRequest(
        category=product_pb2.Category(id=target.run.new("cat"), display_name="Never made")
    )


def _create_product(target: Target) -> message.Message:
    return admin_pb2.CreateProductRequest(
        product=product_pb2.Product(
            id=target.run.new("product"), display_name="Never made", category_id=target.run.new("cat")
        )
    )


def _update_product(target: Target) -> message.Message:
    return admin_pb2.UpdateProductRequest(
        product=product_pb2.Product(id=target.run.new("product"), display_name="Never changed"),
        update_mask=field_mask_pb2.FieldMask(paths=["display_name"]),
    )


def _create_package(target: Target) -> message.Message:
    return admin_pb2.CreatePackageRequest(
        product_id=target.run.new("product"),
        package=product_pb2.Package(id=target.run.new("pkg"), display_name="Never made", price=rupiah(1000)),
    )


def _update_package(target: Target) -> message.Message:
    return admin_pb2.UpdatePackageRequest(
        package=product_pb2.Package(id=target.run.new("pkg"), display_name="Never changed"),
        update_mask=field_mask_pb2.FieldMask(paths=["display_name"]),
    )


PRODUCT_SUITE = Suite(
    package=PACKAGE,
    services=(PRODUCT_SERVICE, ADMIN_SERVICE),
    probe=(rpc(PRODUCT_SERVICE, "ListCategories"), lambda: catalog_pb2.ListCategoriesRequest(page_size=1)),
    heavy=(rpc(PRODUCT_SERVICE, "ListProducts"), _full_page),
    requests={
        rpc(PRODUCT_SERVICE, "ListCategories"): _list_categories,
        rpc(PRODUCT_SERVICE, "ListProducts"): _list_products,
        rpc(PRODUCT_SERVICE, "GetProduct"): _get_product,
        rpc(PRODUCT_SERVICE, "BatchGetPackages"): _batch_get_packages,
        rpc(PRODUCT_SERVICE, "ReserveStock"): _reserve_stock,
        rpc(PRODUCT_SERVICE, "CommitReservation"): _commit,
        rpc(PRODUCT_SERVICE, "ReleaseReservation"): _release,
        rpc(ADMIN_SERVICE, "CreateCategory"): _create_category,
        rpc(ADMIN_SERVICE, "CreateProduct"): _create_product,
        rpc(ADMIN_SERVICE, "UpdateProduct"): _update_product,
        rpc(ADMIN_SERVICE, "DeleteProduct"): _delete_product,
        rpc(ADMIN_SERVICE, "CreatePackage"): _create_package,
        rpc(ADMIN_SERVICE, "UpdatePackage"): _update_package,
    },
    also_checks=(
        CommonReason.Name(CommonReason.INVALID_PAGE_TOKEN),
        CommonReason.Name(CommonReason.CALLER_CREDENTIAL_MISSING),
        CommonReason.Name(CommonReason.CALLER_CREDENTIAL_INVALID),
    ),
)
