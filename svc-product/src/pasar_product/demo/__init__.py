"""The demo catalog: Indonesian digital goods (pulsa, paket data, token listrik, game
vouchers, e-money top-ups) under generic names, with an SVG image per product.

``pasar-product load-demo`` loads it, and the embedded default (``scripts/run``) calls
that. Loading is idempotent: what already exists is left exactly as it is (an
administrator's edits and stock sold since are kept), and a second run changes nothing;
the exceptions fill what older versions could not store: a demo product loaded before
products declared their destination (no delivery kind, no destination fields) gets the
demo's, since without a delivery kind it cannot be ordered; and a demo category, product
or package loaded before the catalog spoke English (v1.3: no English text, no keywords)
gets the demo's English names, descriptions and keywords.

Everything is written in Indonesian and English (``display_name_en``, ``description_en``),
and each product has the words shoppers type for it (``search_keywords``: "pln" and
"listrik" on the electricity token, "game" on every game voucher, the operator a generic
phone brand stands for on its credit and data, such as "telkomsel" on Nusantara).

Every product declares what the shopper gives (``destination_fields``: the phone number
with its operator's prefixes, the PLN meter number, a game's player and zone id, a card
number; none for a voucher code, which is shown and e-mailed) and what a delivery hands
over (``delivery_kind``, the contract's enum value name). Each field's example is a value
the sandbox biller delivers to.
The data lives in ``catalog.json`` beside this module, the images in ``images/``, named
``<product-id>.svg``; the storefront serves them at ``/images/products/``.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from importlib import resources
from importlib.abc import Traversable
from typing import Any

import peewee

from pasar.product.v1 import product_pb2
from pasar_kit.timestamps import utc_now
from pasar_product import messages, search
from pasar_product.catalog_admin import stored_keywords
from pasar_product.catalog_version import catalog_write
from pasar_product.models import Category, Package, Product, ProductState

log = logging.getLogger(__name__)

IMAGE_URL_PREFIX = "/images/products/"
# Packages are placed 10 apart, so an administrator can slot one in between.
SORT_ORDER_STEP = 10


def catalog_data() -> dict[str, Any]:
    """The demo catalog as written in catalog.json."""
    data: dict[str, Any] = json.loads(resources.files(__name__).joinpath("catalog.json").read_text("utf-8"))
    return data


def images() -> Traversable:
    """The folder of product images, ``<product-id>.svg`` each."""
    return resources.files(__name__).joinpath("images")


def image_url(product_id: str) -> str:
    return f"{IMAGE_URL_PREFIX}{product_id}.svg"


@dataclass(frozen=True)
class LoadSummary:
    """How many rows a load added; zeros when the catalog was already there."""

    categories: int
    products: int
    packages: int
    # Demo products loaded before destinations existed, given the demo's destination fields.
    declared: int = 0
    # Demo rows loaded before the catalog spoke English, given the demo's English and keywords.
    translated: int = 0


def load_demo_catalog(database: peewee.Database) -> LoadSummary:
    """Adds the demo categories, products and packages that are missing, in one transaction."""
    data = catalog_data()
    now = utc_now()
    categories = [
        {
            **category,
            "search_text": search.category_search_text(category["display_name"], category["display_name_en"]),
            "create_time": now,
            "update_time": now,
        }
        for category in data["categories"]
    ]
    products = []
    packages = []
    for product in data["products"]:
        products.append(
            {
                "id": product["id"],
                "category": product["category_id"],
                "display_name": product["display_name"],
                "display_name_en": product["display_name_en"],
                "description": product["description"],
                "description_en": product["description_en"],
                **search_columns(product),
                "image_url": image_url(product["id"]),
                **destination_columns(product),
                "state": ProductState.ACTIVE,
                "create_time": now,
                "update_time": now,
            }
        )
        for position, package in enumerate(product["packages"], start=1):
            packages.append(
                {
                    **package,
                    "product": product["id"],
                    "sort_order": position * SORT_ORDER_STEP,
                    "create_time": now,
                    "update_time": now,
                }
            )
    with database.connection_context():
        try:
            summary = _load(database, categories, products, packages)
        except peewee.IntegrityError:
            # Another process loaded the same rows between our read and our insert (MariaDB);
            # ours rolled back whole, and a second pass finds them there.
            summary = _load(database, categories, products, packages)
    log.info(
        "demo catalog loaded",
        extra={
            "added_categories": summary.categories,
            "added_products": summary.products,
            "added_packages": summary.packages,
            "declared_destinations": summary.declared,
            "translated": summary.translated,
        },
    )
    return summary


def _load(
    database: peewee.Database,
    categories: list[dict[str, Any]],
    products: list[dict[str, Any]],
    packages: list[dict[str, Any]],
) -> LoadSummary:
    with catalog_write(database) as write:
        summary = LoadSummary(
            categories=_insert_missing(Category, categories),
            products=_insert_missing(Product, products),
            packages=_insert_missing(Package, packages),
            declared=_declare_missing_destinations(products),
            translated=_translate_untranslated(categories, products, packages),
        )
        if summary == LoadSummary(0, 0, 0):
            write.changed_nothing()
        return summary


def search_columns(product: dict[str, Any]) -> dict[str, Any]:
    """A demo product's keywords (checked as an administrator's would be) and search text, as stored."""
    keywords = messages.given_search_keywords(product["search_keywords"])
    return {
        "search_keywords": stored_keywords(keywords),
        "search_text": search.product_search_text(
            product["display_name"], product["display_name_en"], keywords
        ),
    }


def destination_columns(product: dict[str, Any]) -> dict[str, Any]:
    """A demo product's destination fields and delivery kind as stored (checked as an
    administrator's would be)."""
    fields = [product_pb2.DestinationField(**field) for field in product["destination_fields"]]
    return {
        "destination_fields": messages.stored_destination_fields(fields),
        "delivery_kind": messages.stored_delivery_kind(
            product_pb2.DeliveryKind.Value(product["delivery_kind"])
        ),
    }


def _declare_missing_destinations(products: list[dict[str, Any]]) -> int:
    """Gives the demo's destination to demo products stored without any (loaded before
    v1.2): no delivery kind and no fields. An administrator's choice is kept."""
    declared = 0
    for row in products:
        declared += (
            Product.update(
                destination_fields=row["destination_fields"],
                delivery_kind=row["delivery_kind"],
                update_time=row["update_time"],
            )
            .where(
                (Product.id == row["id"])
                & Product.delivery_kind.is_null()
                & (Product.destination_fields == "[]")
            )
            .execute()
        )
    return declared


def _translate_untranslated(
    categories: list[dict[str, Any]], products: list[dict[str, Any]], packages: list[dict[str, Any]]
) -> int:
    """Gives the demo's English text (and a product its keywords) to demo rows stored without
    any (loaded before v1.3). A row an administrator gave English or keywords to is kept."""
    translated = 0
    for row in categories:
        translated += (
            Category.update(display_name_en=row["display_name_en"], search_text=row["search_text"])
            .where((Category.id == row["id"]) & (Category.display_name_en == ""))
            .execute()
        )
    for row in products:
        translated += (
            Product.update(
                display_name_en=row["display_name_en"],
                description_en=row["description_en"],
                search_keywords=row["search_keywords"],
                search_text=row["search_text"],
            )
            .where(
                (Product.id == row["id"])
                & (Product.display_name_en == "")
                & (Product.description_en == "")
                & (Product.search_keywords == "[]")
                # Its Indonesian name is the demo's: the search text is made from the demo's.
                & (Product.display_name == row["display_name"])
            )
            .execute()
        )
    for row in packages:
        translated += (
            Package.update(display_name_en=row["display_name_en"], description_en=row["description_en"])
            .where(
                (Package.id == row["id"]) & (Package.display_name_en == "") & (Package.description_en == "")
            )
            .execute()
        )
    return translated


def _insert_missing(model: type[Category] | type[Product] | type[Package], rows: list[dict[str, Any]]) -> int:
    """Inserts the rows whose id is not taken yet; returns how many."""
    taken = {row.id for row in model.select(model.id).where(model.id.in_([row["id"] for row in rows]))}
    missing = [row for row in rows if row["id"] not in taken]
    if missing:
        model.insert_many(missing).execute()
    return len(missing)
