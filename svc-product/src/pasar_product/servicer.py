"""The RPC handlers: protobuf in, a call to the catalog or stock domain, protobuf out.

Requests arrive already validated against the contract's rules, with a database
connection open, and with the administrator's token checked for ProductAdminService (see
:mod:`pasar_product.admin_auth`); domain errors become statuses in the kit's pipeline.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

import grpc
import peewee

from pasar.product.v1 import (
    product_admin_service_pb2 as admin_pb2,
)
from pasar.product.v1 import (
    product_admin_service_pb2_grpc as admin_pb2_grpc,
)
from pasar.product.v1 import (
    product_pb2,
    product_service_pb2,
    product_service_pb2_grpc,
)
from pasar_kit.money import CURRENCY_CODE, rupiah_amount
from pasar_kit.timestamps import to_timestamp
from pasar_product import catalog
from pasar_product.catalog import PackageView, ProductListing
from pasar_product.catalog_admin import (
    PACKAGE_UPDATABLE_FIELDS,
    PRODUCT_UPDATABLE_FIELDS,
    CatalogAdmin,
    NewPackage,
    NewProduct,
)
from pasar_product.field_masks import fields_to_update
from pasar_product.models import (
    PRODUCT_ACTIVE,
    PRODUCT_ARCHIVED,
    RESERVATION_COMMITTED,
    RESERVATION_RELEASED,
    RESERVATION_RESERVED,
    Category,
)
from pasar_product.stock import HeldStock, Stock, StockLine

PRODUCT_STATES = {
    PRODUCT_ACTIVE: product_pb2.PRODUCT_STATE_ACTIVE,
    PRODUCT_ARCHIVED: product_pb2.PRODUCT_STATE_ARCHIVED,
}
RESERVATION_STATES = {
    RESERVATION_RESERVED: product_pb2.RESERVATION_STATE_RESERVED,
    RESERVATION_COMMITTED: product_pb2.RESERVATION_STATE_COMMITTED,
    RESERVATION_RELEASED: product_pb2.RESERVATION_STATE_RELEASED,
}


def category_message(category: Category) -> product_pb2.Category:
    return product_pb2.Category(
        id=category.id, display_name=category.display_name, sort_order=category.sort_order
    )


def package_fields(package: PackageView) -> dict[str, Any]:
    """A package's message fields (the price as a mapping: no Money message built to be copied)."""
    return {
        "id": package.id,
        "product_id": package.product_id,
        "display_name": package.display_name,
        "description": package.description,
        "price": {"currency_code": CURRENCY_CODE, "amount": package.price},
        "stock_available": package.stock_available,
        "sort_order": package.sort_order,
        "product_display_name": package.product_display_name,
    }


def package_message(package: PackageView) -> product_pb2.Package:
    return product_pb2.Package(**package_fields(package))


def product_message(listing: ProductListing) -> product_pb2.Product:
    product = listing.product
    message = product_pb2.Product(
        id=product.id,
        display_name=product.display_name,
        description=product.description,
        category_id=product.category_id,
        image_url=product.image_url,
        state=PRODUCT_STATES[product.state],
        create_time=to_timestamp(product.create_time),
        update_time=to_timestamp(product.update_time),
    )
    for package in listing.packages:  # built in place rather than copied in
        message.packages.add(**package_fields(package))
    if listing.min_price is not None:
        message.min_price.currency_code, message.min_price.amount = CURRENCY_CODE, listing.min_price
    if listing.max_price is not None:
        message.max_price.currency_code, message.max_price.amount = CURRENCY_CODE, listing.max_price
    return message


def reservation_message(held: HeldStock) -> product_pb2.Reservation:
    return product_pb2.Reservation(
        order_id=held.order_id,
        state=RESERVATION_STATES[held.state],
        lines=[
            product_pb2.StockLine(package_id=line.package_id, quantity=line.quantity) for line in held.lines
        ],
        create_time=to_timestamp(held.create_time),
        update_time=to_timestamp(held.update_time),
        expire_time=to_timestamp(held.expire_time) if held.expire_time else None,
    )


class ProductServicer(product_service_pb2_grpc.ProductServiceServicer):
    """ProductService: the catalog for the storefront, prices and stock for the order service."""

    def __init__(self, stock: Stock) -> None:
        self.stock = stock

    def ListCategories(
        self, request: product_service_pb2.ListCategoriesRequest, context: grpc.ServicerContext
    ) -> product_service_pb2.ListCategoriesResponse:
        page = catalog.list_categories(request.page_size, request.page_token)
        return product_service_pb2.ListCategoriesResponse(
            categories=[category_message(category) for category in page.categories],
            next_page_token=page.next_page_token,
        )

    def ListProducts(
        self, request: product_service_pb2.ListProductsRequest, context: grpc.ServicerContext
    ) -> product_service_pb2.ListProductsResponse:
        page = catalog.list_products(
            request.page_size, request.page_token, request.category_id, request.query
        )
        return product_service_pb2.ListProductsResponse(
            products=[product_message(listing) for listing in page.products],
            next_page_token=page.next_page_token,
        )

    def GetProduct(
        self, request: product_service_pb2.GetProductRequest, context: grpc.ServicerContext
    ) -> product_service_pb2.GetProductResponse:
        return product_service_pb2.GetProductResponse(
            product=product_message(catalog.get_product(request.id))
        )

    def BatchGetPackages(
        self, request: product_service_pb2.BatchGetPackagesRequest, context: grpc.ServicerContext
    ) -> product_service_pb2.BatchGetPackagesResponse:
        packages = catalog.batch_get_packages(list(request.ids))
        return product_service_pb2.BatchGetPackagesResponse(
            packages=[package_message(package) for package in packages]
        )

    def ReserveStock(
        self, request: product_service_pb2.ReserveStockRequest, context: grpc.ServicerContext
    ) -> product_service_pb2.ReserveStockResponse:
        lines = [StockLine(line.package_id, line.quantity) for line in request.lines]
        expire_time = request.expire_time.ToDatetime(tzinfo=UTC) if request.HasField("expire_time") else None
        held = self.stock.reserve(request.order_id, lines, expire_time)
        return product_service_pb2.ReserveStockResponse(reservation=reservation_message(held))

    def CommitReservation(
        self, request: product_service_pb2.CommitReservationRequest, context: grpc.ServicerContext
    ) -> product_service_pb2.CommitReservationResponse:
        held = self.stock.commit(request.order_id)
        return product_service_pb2.CommitReservationResponse(reservation=reservation_message(held))

    def ReleaseReservation(
        self, request: product_service_pb2.ReleaseReservationRequest, context: grpc.ServicerContext
    ) -> product_service_pb2.ReleaseReservationResponse:
        held = self.stock.release(request.order_id)
        return product_service_pb2.ReleaseReservationResponse(reservation=reservation_message(held))


class ProductAdminServicer(admin_pb2_grpc.ProductAdminServiceServicer):
    """ProductAdminService: the catalog's changes. Output-only fields of the input are ignored."""

    def __init__(self, database: peewee.Database) -> None:
        self.admin = CatalogAdmin(database)

    def CreateCategory(
        self, request: admin_pb2.CreateCategoryRequest, context: grpc.ServicerContext
    ) -> admin_pb2.CreateCategoryResponse:
        given = request.category
        category = self.admin.create_category(given.id, given.display_name, given.sort_order)
        return admin_pb2.CreateCategoryResponse(category=category_message(category))

    def CreateProduct(
        self, request: admin_pb2.CreateProductRequest, context: grpc.ServicerContext
    ) -> admin_pb2.CreateProductResponse:
        given = request.product
        listing = self.admin.create_product(
            NewProduct(
                id=given.id,
                display_name=given.display_name,
                description=given.description,
                category_id=given.category_id,
                image_url=given.image_url,
            )
        )
        return admin_pb2.CreateProductResponse(product=product_message(listing))

    def UpdateProduct(
        self, request: admin_pb2.UpdateProductRequest, context: grpc.ServicerContext
    ) -> admin_pb2.UpdateProductResponse:
        fields = fields_to_update(request.update_mask, PRODUCT_UPDATABLE_FIELDS)
        changes = {name: getattr(request.product, name) for name in fields}
        listing = self.admin.update_product(request.product.id, changes)
        return admin_pb2.UpdateProductResponse(product=product_message(listing))

    def DeleteProduct(
        self, request: admin_pb2.DeleteProductRequest, context: grpc.ServicerContext
    ) -> admin_pb2.DeleteProductResponse:
        return admin_pb2.DeleteProductResponse(
            product=product_message(self.admin.archive_product(request.id))
        )

    def CreatePackage(
        self, request: admin_pb2.CreatePackageRequest, context: grpc.ServicerContext
    ) -> admin_pb2.CreatePackageResponse:
        given = request.package
        package = self.admin.create_package(
            request.product_id,
            NewPackage(
                id=given.id,
                display_name=given.display_name,
                description=given.description,
                price=rupiah_amount(given.price, "package.price"),
                stock_available=given.stock_available,
                sort_order=given.sort_order,
            ),
        )
        return admin_pb2.CreatePackageResponse(package=package_message(package))

    def UpdatePackage(
        self, request: admin_pb2.UpdatePackageRequest, context: grpc.ServicerContext
    ) -> admin_pb2.UpdatePackageResponse:
        fields = fields_to_update(request.update_mask, PACKAGE_UPDATABLE_FIELDS)
        changes = {
            name: rupiah_amount(request.package.price, "package.price")
            if name == "price"
            else getattr(request.package, name)
            for name in fields
        }
        package = self.admin.update_package(request.package.id, changes)
        return admin_pb2.UpdatePackageResponse(package=package_message(package))
