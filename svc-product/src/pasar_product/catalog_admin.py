"""Changing the catalog: what ProductAdminService does once the caller is authorised.

Each change is one transaction that reads what it depends on first (``catalog_write``:
``atomic_write`` that moves the catalog's version last, so cached answers go), so
two administrators racing on the same id get one success and one ALREADY_EXISTS, never a
half-written product. A product's ``update_time`` moves when the product or one of its
packages is changed here; stock moving through reservations does not touch it.
Archived products have left the catalog: they can no longer be changed or given packages.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import peewee

from pasar_kit.database import for_update
from pasar_kit.timestamps import utc_now
from pasar_product import catalog, reasons, search
from pasar_product.catalog import PackageView, ProductListing, ProductView
from pasar_product.catalog_version import catalog_write
from pasar_product.models import Category, DeliveryKind, Package, Product, ProductState

# The fields each update may change, as the contract's update_mask comments list them.
PRODUCT_UPDATABLE_FIELDS = (
    "display_name",
    "description",
    "category_id",
    "image_url",
    "destination_fields",
    "delivery_kind",
    "display_name_en",
    "description_en",
    "search_keywords",
)
# What an empty mask changes: the product fields v1.0 had (UpdateProductRequest.update_mask),
# so that a client built then clears nothing it never knew.
PRODUCT_FIELDS_OF_AN_EMPTY_MASK = PRODUCT_UPDATABLE_FIELDS[:4]
PACKAGE_UPDATABLE_FIELDS = (
    "display_name",
    "description",
    "price",
    "stock_available",
    "sort_order",
    "display_name_en",
    "description_en",
)
# An empty package mask changes every field v1.0 had (all it had then).
PACKAGE_FIELDS_OF_AN_EMPTY_MASK = PACKAGE_UPDATABLE_FIELDS[:5]
# The product fields its search text is made of.
SEARCHED_PRODUCT_FIELDS = ("display_name", "display_name_en", "search_keywords")


@dataclass(frozen=True)
class NewCategory:
    id: str
    display_name: str
    sort_order: int
    display_name_en: str = ""


@dataclass(frozen=True)
class NewProduct:
    id: str
    display_name: str
    description: str
    category_id: str
    image_url: str
    destination_fields: str = "[]"  # the stored JSON list (messages.py writes it)
    delivery_kind: DeliveryKind | None = None
    display_name_en: str = ""
    description_en: str = ""
    search_keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class NewPackage:
    id: str
    display_name: str
    description: str
    price: int
    stock_available: int
    sort_order: int
    display_name_en: str = ""
    description_en: str = ""


def stored_keywords(keywords: Sequence[str]) -> str:
    """Keywords as stored: a JSON list, in the order given."""
    return json.dumps(list(keywords), ensure_ascii=False, separators=(",", ":"))


class CatalogAdmin:
    """The catalog's write side, on the service's database."""

    def __init__(self, database: peewee.Database) -> None:
        self.database = database

    def create_category(self, new: NewCategory) -> Category:
        now = utc_now()
        try:
            with catalog_write(self.database):
                if Category.get_or_none(Category.id == new.id) is not None:
                    raise reasons.category_exists(new.id)
                Category.insert(
                    id=new.id,
                    display_name=new.display_name,
                    display_name_en=new.display_name_en,
                    search_text=search.category_search_text(new.display_name, new.display_name_en),
                    sort_order=new.sort_order,
                    create_time=now,
                    update_time=now,
                ).execute()
        except peewee.IntegrityError:  # another call created it between our read and our insert
            raise reasons.category_exists(new.id) from None
        category: Category = Category.get_by_id(new.id)
        return category

    def create_product(self, new: NewProduct) -> ProductListing:
        now = utc_now()
        try:
            with catalog_write(self.database):
                if Product.get_or_none(Product.id == new.id) is not None:
                    raise reasons.product_exists(new.id)
                self._require_category(new.category_id)
                Product.insert(
                    id=new.id,
                    category=new.category_id,
                    display_name=new.display_name,
                    display_name_en=new.display_name_en,
                    description=new.description,
                    description_en=new.description_en,
                    search_keywords=stored_keywords(new.search_keywords),
                    search_text=search.product_search_text(
                        new.display_name, new.display_name_en, new.search_keywords
                    ),
                    image_url=new.image_url,
                    destination_fields=new.destination_fields,
                    delivery_kind=new.delivery_kind,
                    state=ProductState.ACTIVE,
                    create_time=now,
                    update_time=now,
                ).execute()
        except peewee.IntegrityError:
            raise reasons.product_exists(new.id) from None
        return catalog.get_product(new.id)

    def update_product(self, product_id: str, changes: Mapping[str, Any]) -> ProductListing:
        """Sets the fields in changes (names from PRODUCT_UPDATABLE_FIELDS; keywords as a
        sequence of strings) on an active product, and its search text when a name or the
        keywords change."""
        values: dict[Any, Any] = {Product.update_time: utc_now()}
        for name, value in changes.items():
            if name == "category_id":
                values[Product.category] = value
            elif name == "search_keywords":
                values[Product.search_keywords] = stored_keywords(value)
            else:
                values[getattr(Product, name)] = value
        with catalog_write(self.database):
            # Locked (MariaDB): a concurrent update of the other searched fields waits, so
            # the search text is made from the values that end up stored.
            current = ProductView.of(self._locked_active_product(product_id))
            if "category_id" in changes:
                self._require_category(changes["category_id"])
            if any(name in changes for name in SEARCHED_PRODUCT_FIELDS):
                values[Product.search_text] = search.product_search_text(
                    changes.get("display_name", current.display_name),
                    changes.get("display_name_en", current.display_name_en),
                    changes.get("search_keywords", current.search_keywords),
                )
            Product.update(values).where(Product.id == product_id).execute()
        return catalog.get_product(product_id)

    def archive_product(self, product_id: str) -> ProductListing:
        """Takes a product out of the catalog; archiving an archived product changes nothing."""
        with catalog_write(self.database):
            product = Product.get_or_none(Product.id == product_id)
            if product is None:
                raise reasons.product_not_found(product_id)
            if product.state != ProductState.ARCHIVED:
                Product.update(state=ProductState.ARCHIVED, update_time=utc_now()).where(
                    Product.id == product_id
                ).execute()
            archived: Product = Product.get_by_id(product_id)
        return catalog.with_packages([ProductView.of(archived)])[0]

    def create_package(self, product_id: str, new: NewPackage) -> PackageView:
        now = utc_now()
        try:
            with catalog_write(self.database):
                catalog.active_product(product_id)
                if Package.get_or_none(Package.id == new.id) is not None:
                    raise reasons.package_exists(new.id)
                _touch_product(product_id, now)
                Package.insert(
                    id=new.id,
                    product=product_id,
                    display_name=new.display_name,
                    display_name_en=new.display_name_en,
                    description=new.description,
                    description_en=new.description_en,
                    price=new.price,
                    stock_available=new.stock_available,
                    sort_order=new.sort_order,
                    create_time=now,
                    update_time=now,
                ).execute()
        except peewee.IntegrityError:
            raise reasons.package_exists(new.id) from None
        return catalog.package(new.id)

    def update_package(self, package_id: str, changes: Mapping[str, Any]) -> PackageView:
        """Sets the fields in changes (names from PACKAGE_UPDATABLE_FIELDS) on a package.

        A new stock_available is the number of units available from now on; units held
        by reservations stay held and are not part of it.
        """
        now = utc_now()
        values: dict[Any, Any] = {getattr(Package, name): value for name, value in changes.items()}
        values[Package.update_time] = now
        with catalog_write(self.database):
            package = catalog.package(package_id)
            _touch_product(package.product_id, now)
            Package.update(values).where(Package.id == package_id).execute()
        return catalog.package(package_id)

    def _locked_active_product(self, product_id: str) -> Product:
        query = Product.select().where((Product.id == product_id) & (Product.state == ProductState.ACTIVE))
        product: Product | None = for_update(query, self.database).first()
        if product is None:
            raise reasons.product_not_found(product_id)
        return product

    @staticmethod
    def _require_category(category_id: str) -> None:
        if Category.get_or_none(Category.id == category_id) is None:
            raise reasons.category_not_found(category_id)


def _touch_product(product_id: str, now: datetime) -> None:
    """Moves the product's update_time for a change to one of its packages.

    Done before the package is written, so every change of a product's packages locks the
    product row first and two of them (on MariaDB) queue rather than deadlock.
    """
    Product.update(update_time=now).where(Product.id == product_id).execute()
