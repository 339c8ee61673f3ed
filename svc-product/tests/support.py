"""Helpers shared by the catalog's tests: counting rows, building a catalog through the admin API.

(A failed call is read with pasar_testkit's refused, reason_of, error_metadata and violated_fields.)
"""

from __future__ import annotations

from collections.abc import Sequence

import peewee
from google.protobuf import field_mask_pb2

from pasar.product.v1 import product_admin_service_pb2 as admin_pb2
from pasar.product.v1 import product_admin_service_pb2_grpc as admin_pb2_grpc
from pasar.product.v1 import product_pb2
from pasar_kit.money import rupiah
from pasar_product.models import MODELS, CatalogChange

ADMIN_TOKEN = "test-admin-token"
ADMIN_METADATA = (("authorization", f"Bearer {ADMIN_TOKEN}"),)


def row_counts(database: peewee.Database) -> dict[str, int]:
    """The number of rows in each of the service's data tables (not the catalog's change
    log: every catalog write, archiving too, adds to it, and old versions leave it)."""
    with database.connection_context():
        return {
            model._meta.table_name: model.select().count() for model in MODELS if model is not CatalogChange
        }


class Admin:
    """ProductAdminService with the administrator's token on every call, and shortcuts to fill a catalog."""

    def __init__(self, stub: admin_pb2_grpc.ProductAdminServiceStub) -> None:
        self.stub = stub

    def category(
        self, category_id: str, sort_order: int = 0, display_name: str = "", display_name_en: str = ""
    ) -> product_pb2.Category:
        request = admin_pb2.CreateCategoryRequest(
            category=product_pb2.Category(
                id=category_id,
                display_name=display_name or category_id.title(),
                display_name_en=display_name_en,
                sort_order=sort_order,
            )
        )
        return self.stub.CreateCategory(request, metadata=ADMIN_METADATA, timeout=10).category

    def product(
        self,
        product_id: str,
        category_id: str,
        display_name: str = "",
        description: str = "",
        *,
        destination_fields: Sequence[product_pb2.DestinationField] = (),
        delivery_kind: product_pb2.DeliveryKind.ValueType = product_pb2.DELIVERY_KIND_UNSPECIFIED,
        display_name_en: str = "",
        description_en: str = "",
        search_keywords: Sequence[str] = (),
    ) -> product_pb2.Product:
        request = admin_pb2.CreateProductRequest(
            product=product_pb2.Product(
                id=product_id,
                category_id=category_id,
                display_name=display_name or product_id.replace("-", " ").title(),
                display_name_en=display_name_en,
                description=description,
                description_en=description_en,
                search_keywords=search_keywords,
                image_url=f"/images/products/{product_id}.svg",
                destination_fields=destination_fields,
                delivery_kind=delivery_kind,
            )
        )
        return self.stub.CreateProduct(request, metadata=ADMIN_METADATA, timeout=10).product

    def package(
        self,
        product_id: str,
        package_id: str,
        *,
        price: int = 10_000,
        stock: int = 10,
        sort_order: int = 0,
        display_name: str = "",
        display_name_en: str = "",
        description_en: str = "",
    ) -> product_pb2.Package:
        request = admin_pb2.CreatePackageRequest(
            product_id=product_id,
            package=product_pb2.Package(
                id=package_id,
                display_name=display_name or package_id,
                display_name_en=display_name_en,
                description_en=description_en,
                price=rupiah(price),
                stock_available=stock,
                sort_order=sort_order,
            ),
        )
        return self.stub.CreatePackage(request, metadata=ADMIN_METADATA, timeout=10).package

    def product_with_packages(
        self, product_id: str, category_id: str, stocks: Sequence[int] = (10,), price: int = 10_000
    ) -> list[str]:
        """A product with one package per stock figure; returns the package ids."""
        self.product(product_id, category_id)
        package_ids = [f"{product_id}-p{position}" for position in range(1, len(stocks) + 1)]
        for position, (package_id, stock) in enumerate(zip(package_ids, stocks, strict=True)):
            self.package(
                product_id, package_id, price=price * (position + 1), stock=stock, sort_order=position
            )
        return package_ids

    def update_product(self, product: product_pb2.Product, *paths: str) -> product_pb2.Product:
        request = admin_pb2.UpdateProductRequest(
            product=product, update_mask=field_mask_pb2.FieldMask(paths=list(paths))
        )
        return self.stub.UpdateProduct(request, metadata=ADMIN_METADATA, timeout=10).product

    def update_package(self, package: product_pb2.Package, *paths: str) -> product_pb2.Package:
        request = admin_pb2.UpdatePackageRequest(
            package=package, update_mask=field_mask_pb2.FieldMask(paths=list(paths))
        )
        return self.stub.UpdatePackage(request, metadata=ADMIN_METADATA, timeout=10).package

    def archive(self, product_id: str) -> product_pb2.Product:
        request = admin_pb2.DeleteProductRequest(id=product_id)
        return self.stub.DeleteProduct(request, metadata=ADMIN_METADATA, timeout=10).product
