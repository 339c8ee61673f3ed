"""A run's own catalog, made through ProductAdminService alone, and archived at the end.

Every id comes from the run's :class:`~pasar_conformance.target.RunIds`; categories sort
last (``sort_order`` 10000) and products are archived when the run ends, so a shop the kit
judged shows shoppers nothing of it (categories cannot be deleted through the contract).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

from google.protobuf import field_mask_pb2

from pasar.common.v1 import money_pb2
from pasar.product.v1 import product_admin_service_pb2 as admin_pb2
from pasar.product.v1 import product_admin_service_pb2_grpc as admin_grpc
from pasar.product.v1 import product_pb2
from pasar_conformance.target import CALL_TIMEOUT_SECONDS, Metadata, Target

LAST_SORT_ORDER = 10_000
# Products of the paging category: one more than the largest page (100).
PAGING_PRODUCTS = 101
# Calls the seeding makes at once: enough to be quick, few enough for a small machine.
SEEDING_CONCURRENCY = 4
CURRENCY = "IDR"


def rupiah(amount: int) -> money_pb2.Money:
    return money_pb2.Money(currency_code=CURRENCY, amount=amount)


class Catalog:
    """Creates categories, products and packages for one run, and remembers the products."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self.admin = admin_grpc.ProductAdminServiceStub(target.channel)
        self._products: list[str] = []
        self._lock = threading.Lock()
        self._paging: tuple[str, list[str]] | None = None
        self._shared_category: str | None = None

    def _metadata(self) -> Metadata:
        return self.target.admin_metadata

    def category(self, display_name: str = "Conformance", display_name_en: str = "") -> product_pb2.Category:
        request = admin_pb2.CreateCategoryRequest(
            category=product_pb2.Category(
                id=self.target.run.new("cat"),
                display_name=display_name,
                display_name_en=display_name_en,
                sort_order=LAST_SORT_ORDER,
            )
        )
        return self.admin.CreateCategory(
            request, metadata=self._metadata(), timeout=CALL_TIMEOUT_SECONDS
        ).category

    def product(
        self,
        category_id: str,
        *,
        product_id: str = "",
        display_name: str = "",
        description: str = "",
        destination_fields: Sequence[product_pb2.DestinationField] = (),
        delivery_kind: product_pb2.DeliveryKind.ValueType = product_pb2.DELIVERY_KIND_UNSPECIFIED,
        display_name_en: str = "",
        description_en: str = "",
        search_keywords: Sequence[str] = (),
    ) -> product_pb2.Product:
        product_id = product_id or self.target.run.new("product")
        request = admin_pb2.CreateProductRequest(
            product=product_pb2.Product(
                id=product_id,
                category_id=category_id,
                display_name=display_name or f"Conformance {product_id}",
                display_name_en=display_name_en,
                description=description or "made by the conformance kit",
                description_en=description_en,
                search_keywords=search_keywords,
                image_url=f"/images/products/{product_id}.svg",
                destination_fields=destination_fields,
                delivery_kind=delivery_kind,
            )
        )
        created = self.admin.CreateProduct(request, metadata=self._metadata(), timeout=CALL_TIMEOUT_SECONDS)
        self.archive_later(product_id)
        return created.product

    def archive_later(self, product_id: str) -> None:
        """Archive product_id when the run ends (for products a test made by hand)."""
        with self._lock:
            self._products.append(product_id)

    def package(
        self,
        product_id: str,
        *,
        stock: int = 10,
        price: int = 10_000,
        sort_order: int = 0,
        display_name_en: str = "",
        description_en: str = "",
    ) -> product_pb2.Package:
        package_id = self.target.run.new("pkg")
        request = admin_pb2.CreatePackageRequest(
            product_id=product_id,
            package=product_pb2.Package(
                id=package_id,
                display_name=f"Paket {package_id}",
                display_name_en=display_name_en,
                description="one unit",
                description_en=description_en,
                price=rupiah(price),
                stock_available=stock,
                sort_order=sort_order,
            ),
        )
        return self.admin.CreatePackage(
            request, metadata=self._metadata(), timeout=CALL_TIMEOUT_SECONDS
        ).package

    def shared_category(self) -> str:
        """The id of the run's category for products whose category does not matter (made once)."""
        with self._lock:
            made = self._shared_category
        if made is None:
            made = self._shared_category = self.category("Conformance run").id
        return made

    def packages(
        self,
        stocks: Sequence[int] = (10,),
        *,
        category_id: str = "",
        delivery_kind: product_pb2.DeliveryKind.ValueType = product_pb2.DELIVERY_KIND_UNSPECIFIED,
    ) -> list[product_pb2.Package]:
        """A new product (in the run's shared category unless one is given, of delivery_kind),
        one package per stock."""
        category = category_id or self.shared_category()
        product = self.product(category, delivery_kind=delivery_kind)
        return [
            self.package(product.id, stock=stock, price=10_000 * (position + 1), sort_order=position)
            for position, stock in enumerate(stocks)
        ]

    def paging_category(self) -> tuple[str, list[str]]:
        """A category of the run's own with PAGING_PRODUCTS products (made once): its id, and
        the product ids in id order."""
        with self._lock:
            made = self._paging
        if made is None:
            category = self.category("Paging").id
            with ThreadPoolExecutor(SEEDING_CONCURRENCY) as pool:
                products = list(pool.map(lambda _n: self.product(category).id, range(PAGING_PRODUCTS)))
            made = self._paging = (category, sorted(products))
        return made

    def update_product(self, product: product_pb2.Product, *paths: str) -> product_pb2.Product:
        """UpdateProduct of the fields paths name (no path: the empty mask's v1.0 fields)."""
        request = admin_pb2.UpdateProductRequest(
            product=product, update_mask=field_mask_pb2.FieldMask(paths=paths)
        )
        return self.admin.UpdateProduct(
            request, metadata=self._metadata(), timeout=CALL_TIMEOUT_SECONDS
        ).product

    def update_package(self, package: product_pb2.Package, *paths: str) -> product_pb2.Package:
        """UpdatePackage of the fields paths name (no path: the empty mask's v1.0 fields)."""
        request = admin_pb2.UpdatePackageRequest(
            package=package, update_mask=field_mask_pb2.FieldMask(paths=paths)
        )
        return self.admin.UpdatePackage(
            request, metadata=self._metadata(), timeout=CALL_TIMEOUT_SECONDS
        ).package

    def set_stock(self, package_id: str, stock: int) -> product_pb2.Package:
        return self.update_package(
            product_pb2.Package(id=package_id, stock_available=stock), "stock_available"
        )

    def archive(self, product_id: str) -> product_pb2.Product:
        request = admin_pb2.DeleteProductRequest(id=product_id)
        return self.admin.DeleteProduct(
            request, metadata=self._metadata(), timeout=CALL_TIMEOUT_SECONDS
        ).product

    def archive_everything(self) -> None:
        """Archives every product the run created (archiving twice is fine: it is idempotent)."""
        with self._lock:
            products, self._products = self._products, []
        for product_id in products:
            self.archive(product_id)


_catalogs: weakref.WeakKeyDictionary[Target, Catalog] = weakref.WeakKeyDictionary()


def catalog(target: Target) -> Catalog:
    """The run's catalog on target (one per target, so the end of the run archives it all)."""
    found = _catalogs.get(target)
    if found is None:
        found = _catalogs[target] = Catalog(target)
    return found
