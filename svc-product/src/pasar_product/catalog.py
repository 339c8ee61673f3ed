"""Reading the catalog: categories, active products with their packages, packages by id.

Lists are keyset-paginated (see :mod:`pasar_product.page_tokens`): a page is one index
range read, whatever the catalog's size, and a page of products costs exactly two queries,
one for the products and one for all their packages.

Reads return :class:`ProductView` and :class:`PackageView`, plain values made from tuples
of just the columns shoppers see, rather than peewee models: building a model object per
row (and parsing timestamps nobody shows) was most of the cost of a catalog page. The
tuples are the driver's own rows (:func:`tuples`): of the columns read, only the
timestamps need converting, and peewee's conversion of every value of every row was a
third of an uncached page.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, cast

import peewee

from pasar_kit.prepared import PreparedQuery
from pasar_product import page_tokens, reasons, search
from pasar_product.models import Category, DeliveryKind, Package, Product, ProductState, database_proxy

DEFAULT_CATEGORY_PAGE_SIZE = 50
DEFAULT_PRODUCT_PAGE_SIZE = 20
MAX_PAGE_SIZE = 100


# The stored values read as their enums by a dict lookup (Enum's call costs ten times more,
# once per package of a page).
DELIVERY_KINDS = {kind.value: kind for kind in DeliveryKind}
PRODUCT_STATES = {state.value: state for state in ProductState}


def delivery_kind(stored: str | None) -> DeliveryKind | None:
    """A stored delivery kind read as a DeliveryKind; None when the product has none."""
    return DELIVERY_KINDS[stored] if stored else None


def page_size_or_default(requested: int, default: int) -> int:
    """The contract's rule for page_size: 0 means the default, more than the maximum is capped."""
    if requested <= 0:
        return default
    return min(requested, MAX_PAGE_SIZE)


def search_keywords(stored: str) -> tuple[str, ...]:
    """A product's stored keywords (a JSON list) as a tuple."""
    return tuple(json.loads(stored))


@dataclass(frozen=True, slots=True)
class ProductView:
    """A product as the catalog shows it (no search text); destination_fields is the stored
    JSON list (messages.py reads it). An empty English text means "shown in Indonesian"."""

    id: str
    display_name: str
    display_name_en: str
    description: str
    description_en: str
    search_keywords: tuple[str, ...]
    category_id: str
    image_url: str
    state: ProductState
    create_time: datetime
    update_time: datetime
    destination_fields: str
    delivery_kind: DeliveryKind | None

    @classmethod
    def of(cls, product: Product) -> ProductView:
        return product_view([getattr(product, column.column_name) for column in PRODUCT_COLUMNS])


def product_view(row: Sequence[Any]) -> ProductView:
    """The view of a row of PRODUCT_COLUMNS, its stored keywords, state and kind read."""
    (
        product_id,
        display_name,
        display_name_en,
        description,
        description_en,
        keywords,
        category_id,
        image_url,
        state,
        created,
        updated,
        fields,
        kind,
    ) = row
    return ProductView(
        product_id,
        display_name,
        display_name_en,
        description,
        description_en,
        search_keywords(keywords),
        category_id,
        image_url,
        PRODUCT_STATES[state],
        stored_time(created),
        stored_time(updated),
        fields,
        delivery_kind(kind),
    )


@dataclass(frozen=True, slots=True)
class PackageView:
    """A package as the catalog shows it, with its product's names, destination fields (the
    stored JSON list) and delivery kind: callers that read packages alone need them."""

    id: str
    product_id: str
    display_name: str
    display_name_en: str
    description: str
    description_en: str
    price: int
    stock_available: int
    sort_order: int
    product_display_name: str
    product_display_name_en: str
    destination_fields: str
    delivery_kind: DeliveryKind | None


# The columns of the views, in their fields' order (a foreign key selects its id column).
PRODUCT_COLUMNS = (
    Product.id,
    Product.display_name,
    Product.display_name_en,
    Product.description,
    Product.description_en,
    Product.search_keywords,
    Product.category,
    Product.image_url,
    Product.state,
    Product.create_time,
    Product.update_time,
    Product.destination_fields,
    Product.delivery_kind,
)
PACKAGE_COLUMNS = (
    Package.id,
    Package.product,
    Package.display_name,
    Package.display_name_en,
    Package.description,
    Package.description_en,
    Package.price,
    Package.stock_available,
    Package.sort_order,
)


@dataclass(frozen=True)
class ProductListing:
    """A product with its packages in display order, as shoppers see it."""

    product: ProductView
    packages: list[PackageView] = field(default_factory=list)

    @property
    def min_price(self) -> int | None:
        return min((package.price for package in self.packages), default=None)

    @property
    def max_price(self) -> int | None:
        return max((package.price for package in self.packages), default=None)


@dataclass(frozen=True)
class CategoryPage:
    categories: list[Category]
    next_page_token: str


@dataclass(frozen=True)
class ProductPage:
    products: list[ProductListing]
    next_page_token: str


def list_categories(page_size: int, page_token: str) -> CategoryPage:
    """A page of categories in display order (sort order, then id)."""
    size = page_size_or_default(page_size, DEFAULT_CATEGORY_PAGE_SIZE)
    query = Category.select()
    if page_token:
        sort_order, category_id = page_tokens.after_category(page_token)
        query = query.where(
            (Category.sort_order > sort_order)
            | ((Category.sort_order == sort_order) & (Category.id > category_id))
        )
    rows = list(query.order_by(Category.sort_order, Category.id).limit(size + 1))
    page, more = rows[:size], len(rows) > size
    next_token = page_tokens.category_page_token(page[-1].sort_order, page[-1].id) if more else ""
    return CategoryPage(page, next_token)


def list_products(page_size: int, page_token: str, category_id: str = "", query: str = "") -> ProductPage:
    """A page of active products ordered by id, optionally of one category or matching query
    (every word of it: see :mod:`pasar_product.search`)."""
    size = page_size_or_default(page_size, DEFAULT_PRODUCT_PAGE_SIZE)
    words = search.query_words(query)
    # A token is bound to the words searched, so "PULSA" and " pulsa " page alike.
    filters = (category_id, " ".join(words))
    after = page_tokens.after_product(page_token, filters) if page_token else ""
    found = (
        tuples(products_after(after, size + 1, category_id, words))
        if words  # a search's LIKE patterns are made of its words: built each time
        else PRODUCT_PAGE.rows(after, size + 1, category_id)
    )
    rows = [product_view(row) for row in found]
    page, more = rows[:size], len(rows) > size
    next_token = page_tokens.product_page_token(page[-1].id, filters) if more else ""
    return ProductPage(with_packages(page), next_token)


def products_after(
    after: str, limit: int, category_id: str = "", words: Sequence[str] = ()
) -> peewee.ModelSelect[Product]:
    """Active products with an id after `after`, by id: one range of the (state, id) index, or of
    (category_id, state, id) for a category, whatever the catalog's size; with words, the
    products of that range that match every one (search.matching)."""
    select = Product.select(*PRODUCT_COLUMNS).where(Product.state == ProductState.ACTIVE)
    if category_id:
        select = select.where(Product.category == category_id)
    if words:
        select = select.where(search.matching(words))
    if after:
        select = select.where(Product.id > after)
    return select.order_by(Product.id).limit(limit)


def packages_of(product_ids: Sequence[str]) -> peewee.ModelSelect[Package]:
    """The packages of these products in display order: one range of (product_id, sort_order, id) each."""
    return (
        Package.select(*PACKAGE_COLUMNS)
        .where(Package.product.in_(list(product_ids)))
        .order_by(Package.product, Package.sort_order, Package.id)
    )


def with_packages(products: Sequence[ProductView]) -> list[ProductListing]:
    """The products with their packages, read in one query for all of them."""
    if not products:
        return []
    by_id = {product.id: product for product in products}
    packages: dict[str, list[PackageView]] = {product.id: [] for product in products}
    for row in PACKAGES_OF.rows(tuple(by_id)):
        product = by_id[row[1]]  # PACKAGE_COLUMNS' second: the product's id
        packages[product.id].append(
            package_view(
                (
                    *row,
                    product.display_name,
                    product.display_name_en,
                    product.destination_fields,
                    product.delivery_kind,
                )
            )
        )
    return [ProductListing(product, packages[product.id]) for product in products]


def get_product(product_id: str) -> ProductListing:
    """An active product with its packages; archived and unknown ids are PRODUCT_NOT_FOUND."""
    rows = ACTIVE_PRODUCT.rows(product_id)
    if not rows:
        raise reasons.product_not_found(product_id)
    return with_packages([product_view(rows[0])])[0]


def active_product(product_id: str) -> Product:
    try:
        product: Product = Product.get((Product.id == product_id) & (Product.state == ProductState.ACTIVE))
    except peewee.DoesNotExist:
        raise reasons.product_not_found(product_id) from None
    return product


def batch_get_packages(package_ids: Sequence[str]) -> list[PackageView]:
    """Packages of active products in the order of package_ids; the first unknown id is NOT_FOUND."""
    found = packages_by_id(package_ids)
    for package_id in package_ids:
        if package_id not in found:
            raise reasons.package_not_found(package_id)
    return [found[package_id] for package_id in package_ids]


def package(package_id: str) -> PackageView:
    """A package of an active product; PACKAGE_NOT_FOUND otherwise."""
    found = packages_by_id([package_id])
    if package_id not in found:
        raise reasons.package_not_found(package_id)
    return found[package_id]


def packages_by_id(package_ids: Sequence[str]) -> dict[str, PackageView]:
    """The packages of active products among package_ids, by id, in one query."""
    return {row[0]: package_view(row) for row in ACTIVE_PACKAGES.rows(tuple(package_ids))}


def active_packages(package_ids: Sequence[str]) -> peewee.ModelSelect[Package]:
    """The packages of active products among package_ids, with their products' names,
    fields and kind."""
    return (
        Package.select(
            *PACKAGE_COLUMNS,
            Product.display_name,
            Product.display_name_en,
            Product.destination_fields,
            Product.delivery_kind,
        )
        .join(Product)
        .where(Package.id.in_(list(package_ids)) & (Product.state == ProductState.ACTIVE))
    )


def package_view(row: Sequence[Any]) -> PackageView:
    """The view of a row of PACKAGE_COLUMNS and the product's names, fields and kind (as
    stored, or already read: listings build their packages from their products' views)."""
    (
        package_id,
        product_id,
        name,
        name_en,
        description,
        description_en,
        price,
        stock,
        sort_order,
        product_name,
        product_name_en,
        fields,
        kind,
    ) = row
    return PackageView(
        package_id,
        product_id,
        name,
        name_en,
        description,
        description_en,
        price,
        stock,
        sort_order,
        product_name,
        product_name_en,
        fields,
        delivery_kind(kind),
    )


def tuples(query: peewee.ModelSelect[Any]) -> list[tuple[Any, ...]]:
    """The rows of query as the driver returns them: strings and integers as they are (the
    views read the rest: stored_time for timestamps, the enums and JSON texts)."""
    cursor = query.model._meta.database.execute(query)
    return list(cast(Iterable[tuple[Any, ...]], cursor.fetchall()))


def stored_time(value: Any) -> datetime:
    """A timestamp column's value as the driver returns it (SQLite: text; MySQL: a naive
    datetime), read as models read it."""
    converted: datetime = Product.create_time.python_value(value)
    return converted


# The catalog's hot queries, their SQL built once per shape (pasar_kit.prepared).
PRODUCT_PAGE = PreparedQuery(database_proxy, products_after)  # (after, limit, category_id)
PACKAGES_OF = PreparedQuery(database_proxy, lambda product_ids: packages_of(list(product_ids)))
ACTIVE_PRODUCT = PreparedQuery(
    database_proxy,
    lambda product_id: Product.select(*PRODUCT_COLUMNS).where(
        (Product.id == product_id) & (Product.state == ProductState.ACTIVE)
    ),
)
ACTIVE_PACKAGES = PreparedQuery(database_proxy, active_packages)
