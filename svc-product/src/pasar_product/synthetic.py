"""A large generated catalog for the benchmarks: ``pasar-product load-synthetic --products N``.

Products ``sintetis-000001`` ... spread over ten categories, each with three to five
packages whose names, prices and stock follow from the product's number, so a load is
reproducible and running it again adds only what is missing. Each product declares the
destination fields, delivery kind and search keywords of the demo product its name's first
word stands for (a "Pulsa" product asks for a Nusantara phone number, a "Token" one for a
meter number and is found by "pln"), and an English name, so benchmarks order and search
them as shoppers order and search the demo's. Rows go in through the
driver's ``executemany`` in chunks of one transaction each: 100,000 products (about
400,000 packages) load in well under a minute on SQLite.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import peewee

from pasar_kit.timestamps import utc_now
from pasar_product import search
from pasar_product.catalog_version import catalog_write
from pasar_product.demo import catalog_data, destination_columns, image_url, search_columns
from pasar_product.models import Category, Package, Product, ProductState

log = logging.getLogger(__name__)

CATEGORY_COUNT = 10
CHUNK_PRODUCTS = 2_000
# Words that start product names, so that searches in the benchmarks match a share of them.
NAME_WORDS = ("Pulsa", "Data", "Token", "Voucher", "Saldo", "Koin", "Permata", "Paket")
# The demo product whose destination fields and delivery kind each first word takes.
DEMO_PRODUCT_OF_WORD = {
    "Pulsa": "pulsa-nusantara",
    "Data": "data-nusantara",
    "Token": "token-listrik",
    "Voucher": "voucher-game-universal",
    "Saldo": "saldo-dompet-digital",
    "Koin": "voucher-koin-petualang",
    "Permata": "voucher-permata-arena",
    "Paket": "data-samudra",
}
# Each first word in English.
ENGLISH_WORDS = {
    "Pulsa": "Credit",
    "Data": "Data",
    "Token": "Token",
    "Voucher": "Voucher",
    "Saldo": "Balance",
    "Koin": "Coins",
    "Permata": "Diamonds",
    "Paket": "Plan",
}


@dataclass(frozen=True)
class SyntheticSummary:
    products: int
    packages: int
    seconds: float


def category_id(number: int) -> str:
    return f"sintetis-{number:02d}"


def product_id(number: int) -> str:
    return f"sintetis-{number:06d}"


def packages_of(number: int) -> int:
    """How many packages product number has: 3, 4 or 5."""
    return 3 + number % 3


def destinations_by_word() -> dict[str, dict[str, Any]]:
    """The stored destination columns and the keywords (stored, and folded into one text)
    each first word of a name stands for, read and checked once."""
    demo = {product["id"]: product for product in catalog_data()["products"]}
    by_word: dict[str, dict[str, Any]] = {}
    for word, demo_id in DEMO_PRODUCT_OF_WORD.items():
        keywords = search_columns({**demo[demo_id], "display_name": "", "display_name_en": ""})
        by_word[word] = {**destination_columns(demo[demo_id]), **keywords}
    return by_word


def load_synthetic_catalog(database: peewee.Database, products: int) -> SyntheticSummary:
    """Adds the first `products` synthetic products that are missing, with their packages."""
    started = time.perf_counter()
    now = utc_now()
    destinations = destinations_by_word()
    added_products = added_packages = 0
    with database.connection_context():
        with catalog_write(database) as write:
            if not _add_categories(now):
                write.changed_nothing()
        for first in range(1, products + 1, CHUNK_PRODUCTS):
            numbers = range(first, min(first + CHUNK_PRODUCTS, products + 1))
            with catalog_write(database) as write:
                taken = {
                    row.id
                    for row in Product.select(Product.id).where(
                        Product.id.between(product_id(numbers[0]), product_id(numbers[-1]))
                    )
                }
                missing = [number for number in numbers if product_id(number) not in taken]
                if not missing:
                    write.changed_nothing()
                product_rows = [_product_row(number, now, destinations) for number in missing]
                package_rows = [row for number in missing for row in _package_rows(number, now)]
                _bulk_insert(database, Product, product_rows)
                _bulk_insert(database, Package, package_rows)
            added_products += len(product_rows)
            added_packages += len(package_rows)
    summary = SyntheticSummary(added_products, added_packages, round(time.perf_counter() - started, 2))
    log.info(
        "synthetic catalog loaded",
        extra={
            "added_products": summary.products,
            "added_packages": summary.packages,
            "seconds": summary.seconds,
        },
    )
    return summary


def _add_categories(now: datetime) -> int:
    """Adds the synthetic categories that are missing; returns how many."""
    wanted = {category_id(number) for number in range(1, CATEGORY_COUNT + 1)}
    taken = {row.id for row in Category.select(Category.id).where(Category.id.in_(list(wanted)))}
    rows = [
        {
            "id": category_id(number),
            "display_name": f"Kategori Sintetis {number}",
            "display_name_en": f"Synthetic Category {number}",
            "search_text": search.category_search_text(
                f"Kategori Sintetis {number}", f"Synthetic Category {number}"
            ),
            "sort_order": 1000 + number,
            "create_time": now,
            "update_time": now,
        }
        for number in range(1, CATEGORY_COUNT + 1)
        if category_id(number) not in taken
    ]
    if rows:
        Category.insert_many(rows).execute()
    return len(rows)


def _product_row(number: int, now: datetime, destinations: dict[str, dict[str, Any]]) -> dict[str, Any]:
    word = NAME_WORDS[number % len(NAME_WORDS)]
    display_name = f"{word} Sintetis {number:06d}"
    display_name_en = f"Synthetic {ENGLISH_WORDS[word]} {number:06d}"
    demo = destinations[word]
    return {
        "id": product_id(number),
        "category": category_id(number % CATEGORY_COUNT + 1),
        "display_name": display_name,
        "display_name_en": display_name_en,
        "description": f"Produk buatan untuk uji beban nomor {number}.",
        "description_en": f"A product made for load test number {number}.",
        **demo,
        # The demo product's keywords, folded once, after this product's names.
        "search_text": search.search_key(f"{display_name} {display_name_en} ") + demo["search_text"],
        "image_url": image_url(product_id(number)),
        "state": ProductState.ACTIVE,
        "create_time": now,
        "update_time": now,
    }


def _package_rows(number: int, now: datetime) -> Iterator[dict[str, Any]]:
    base_price = (number * 7919 % 200 + 1) * 1_000
    for position in range(1, packages_of(number) + 1):
        yield {
            "id": f"{product_id(number)}-{position}",
            "product": product_id(number),
            "display_name": f"Paket {position}",
            "display_name_en": f"Package {position}",
            "description": f"Paket {position} dari produk sintetis {number}.",
            "description_en": f"Package {position} of synthetic product {number}.",
            "price": base_price * position + 500,
            "stock_available": 50 + (number * 31 + position * 17) % 451,
            "sort_order": position * 10,
            "create_time": now,
            "update_time": now,
        }


def _bulk_insert(
    database: peewee.Database, model: type[peewee.Model], rows: Sequence[dict[str, Any]]
) -> None:
    """Inserts rows with one executemany: peewee writes the statement, the driver batches the rows."""
    if not rows:
        return
    fields = [model._meta.fields[name] for name in rows[0]]
    values = [tuple(field.db_value(row[field.name]) for field in fields) for row in rows]
    statement, _ = model.insert_many(values[:1], fields=fields).sql()
    database.cursor().executemany(statement, values)
