"""The RPC handlers: a request in, a call to the catalog or stock domain, an answer out (the
mapping both ways is :mod:`pasar_product.messages`).

Requests arrive already validated against the contract's rules, with a database
connection open, and with the administrator's token checked for ProductAdminService (see
:mod:`pasar_product.admin_auth`); domain errors become statuses in the kit's pipeline.
The catalog's reads answer from :mod:`pasar_product.catalog_cache` while nothing they show
has changed; the answers they return are shared and must not be changed.
"""

from __future__ import annotations

import grpc
import peewee

from pasar.product.v1 import product_admin_service_pb2 as admin_pb2
from pasar.product.v1 import product_admin_service_pb2_grpc as admin_pb2_grpc
from pasar.product.v1 import product_service_pb2, product_service_pb2_grpc
from pasar_product import catalog, messages
from pasar_product.catalog_admin import CatalogAdmin
from pasar_product.catalog_cache import CatalogAnswers
from pasar_product.stock import Stock


# The packages whose stock each catalog answer shows: the cache keeps an answer through the
# versions that change only other packages' stock.
def no_packages(answer: product_service_pb2.ListCategoriesResponse) -> tuple[str, ...]:
    return ()


def packages_listed(answer: product_service_pb2.ListProductsResponse) -> list[str]:
    return [package.id for product in answer.products for package in product.packages]


def packages_of_product(answer: product_service_pb2.GetProductResponse) -> list[str]:
    return [package.id for package in answer.product.packages]


def packages_got(answer: product_service_pb2.BatchGetPackagesResponse) -> list[str]:
    return [package.id for package in answer.packages]


class ProductServicer(product_service_pb2_grpc.ProductServiceServicer):
    """ProductService: the catalog for the storefront, prices and stock for the order service."""

    def __init__(self, stock: Stock, answers: CatalogAnswers | None = None) -> None:
        """answers: the catalog's cached answers (by default a cache of the default size on
        the stock's database)."""
        self.stock = stock
        self.answers = CatalogAnswers(stock.database) if answers is None else answers

    def ListCategories(
        self, request: product_service_pb2.ListCategoriesRequest, context: grpc.ServicerContext
    ) -> product_service_pb2.ListCategoriesResponse:
        def build() -> product_service_pb2.ListCategoriesResponse:
            page = catalog.list_categories(request.page_size, request.page_token)
            return product_service_pb2.ListCategoriesResponse(
                categories=[messages.category_message(category) for category in page.categories],
                next_page_token=page.next_page_token,
            )

        return self.answers.answer("ListCategories", request, build, stock_of=no_packages)

    def ListProducts(
        self, request: product_service_pb2.ListProductsRequest, context: grpc.ServicerContext
    ) -> product_service_pb2.ListProductsResponse:
        def build() -> product_service_pb2.ListProductsResponse:
            page = catalog.list_products(
                request.page_size, request.page_token, request.category_id, request.query
            )
            return product_service_pb2.ListProductsResponse(
                products=[messages.product_message(listing) for listing in page.products],
                next_page_token=page.next_page_token,
            )

        return self.answers.answer("ListProducts", request, build, stock_of=packages_listed)

    def GetProduct(
        self, request: product_service_pb2.GetProductRequest, context: grpc.ServicerContext
    ) -> product_service_pb2.GetProductResponse:
        def build() -> product_service_pb2.GetProductResponse:
            return product_service_pb2.GetProductResponse(
                product=messages.product_message(catalog.get_product(request.id))
            )

        return self.answers.answer("GetProduct", request, build, stock_of=packages_of_product)

    def BatchGetPackages(
        self, request: product_service_pb2.BatchGetPackagesRequest, context: grpc.ServicerContext
    ) -> product_service_pb2.BatchGetPackagesResponse:
        def build() -> product_service_pb2.BatchGetPackagesResponse:
            packages = catalog.batch_get_packages(list(request.ids))
            return product_service_pb2.BatchGetPackagesResponse(
                packages=[messages.package_message(package) for package in packages]
            )

        return self.answers.answer("BatchGetPackages", request, build, stock_of=packages_got)

    def ReserveStock(
        self, request: product_service_pb2.ReserveStockRequest, context: grpc.ServicerContext
    ) -> product_service_pb2.ReserveStockResponse:
        held = self.stock.reserve(
            request.order_id, messages.stock_lines(request.lines), messages.requested_expire_time(request)
        )
        return product_service_pb2.ReserveStockResponse(reservation=messages.reservation_message(held))

    def CommitReservation(
        self, request: product_service_pb2.CommitReservationRequest, context: grpc.ServicerContext
    ) -> product_service_pb2.CommitReservationResponse:
        held = self.stock.commit(request.order_id)
        return product_service_pb2.CommitReservationResponse(reservation=messages.reservation_message(held))

    def ReleaseReservation(
        self, request: product_service_pb2.ReleaseReservationRequest, context: grpc.ServicerContext
    ) -> product_service_pb2.ReleaseReservationResponse:
        held = self.stock.release(request.order_id)
        return product_service_pb2.ReleaseReservationResponse(reservation=messages.reservation_message(held))


class ProductAdminServicer(admin_pb2_grpc.ProductAdminServiceServicer):
    """ProductAdminService: the catalog's changes. Output-only fields of the input are ignored."""

    def __init__(self, database: peewee.Database) -> None:
        self.admin = CatalogAdmin(database)

    def CreateCategory(
        self, request: admin_pb2.CreateCategoryRequest, context: grpc.ServicerContext
    ) -> admin_pb2.CreateCategoryResponse:
        category = self.admin.create_category(messages.new_category(request.category))
        return admin_pb2.CreateCategoryResponse(category=messages.category_message(category))

    def CreateProduct(
        self, request: admin_pb2.CreateProductRequest, context: grpc.ServicerContext
    ) -> admin_pb2.CreateProductResponse:
        listing = self.admin.create_product(messages.new_product(request.product))
        return admin_pb2.CreateProductResponse(product=messages.product_message(listing))

    def UpdateProduct(
        self, request: admin_pb2.UpdateProductRequest, context: grpc.ServicerContext
    ) -> admin_pb2.UpdateProductResponse:
        listing = self.admin.update_product(request.product.id, messages.product_changes(request))
        return admin_pb2.UpdateProductResponse(product=messages.product_message(listing))

    def DeleteProduct(
        self, request: admin_pb2.DeleteProductRequest, context: grpc.ServicerContext
    ) -> admin_pb2.DeleteProductResponse:
        return admin_pb2.DeleteProductResponse(
            product=messages.product_message(self.admin.archive_product(request.id))
        )

    def CreatePackage(
        self, request: admin_pb2.CreatePackageRequest, context: grpc.ServicerContext
    ) -> admin_pb2.CreatePackageResponse:
        package = self.admin.create_package(request.product_id, messages.new_package(request.package))
        return admin_pb2.CreatePackageResponse(package=messages.package_message(package))

    def UpdatePackage(
        self, request: admin_pb2.UpdatePackageRequest, context: grpc.ServicerContext
    ) -> admin_pb2.UpdatePackageResponse:
        package = self.admin.update_package(request.package.id, messages.package_changes(request))
        return admin_pb2.UpdatePackageResponse(package=messages.package_message(package))
