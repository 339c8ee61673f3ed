"""Every mapping between the catalog's rows and the contract's messages, in both directions.

Rows (and the catalog's views of them) become protobuf messages here, request fields become
the values the domain stores here, and stored states meet the contract's enums here; the
servicer only passes requests in and answers out.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from pasar.product.v1 import product_admin_service_pb2 as admin_pb2
from pasar.product.v1 import product_pb2, product_service_pb2
from pasar_kit.money import CURRENCY_CODE, rupiah_amount
from pasar_kit.timestamps import to_timestamp
from pasar_product import reasons, search
from pasar_product.catalog import PackageView, ProductListing
from pasar_product.catalog_admin import (
    PACKAGE_FIELDS_OF_AN_EMPTY_MASK,
    PACKAGE_UPDATABLE_FIELDS,
    PRODUCT_FIELDS_OF_AN_EMPTY_MASK,
    PRODUCT_UPDATABLE_FIELDS,
    NewCategory,
    NewPackage,
    NewProduct,
)
from pasar_product.destination_fields import destination_field_problems
from pasar_product.field_masks import fields_to_update
from pasar_product.models import Category, DeliveryKind, ProductState, ReservationState
from pasar_product.stock import HeldStock, StockLine

PRODUCT_STATES: dict[ProductState, product_pb2.ProductState.ValueType] = {
    ProductState.ACTIVE: product_pb2.PRODUCT_STATE_ACTIVE,
    ProductState.ARCHIVED: product_pb2.PRODUCT_STATE_ARCHIVED,
}
RESERVATION_STATES: dict[ReservationState, product_pb2.ReservationState.ValueType] = {
    ReservationState.RESERVED: product_pb2.RESERVATION_STATE_RESERVED,
    ReservationState.COMMITTED: product_pb2.RESERVATION_STATE_COMMITTED,
    ReservationState.RELEASED: product_pb2.RESERVATION_STATE_RELEASED,
}
DELIVERY_KINDS: dict[DeliveryKind, product_pb2.DeliveryKind.ValueType] = {
    DeliveryKind.PHONE_CREDIT: product_pb2.DELIVERY_KIND_PHONE_CREDIT,
    DeliveryKind.DATA_PLAN: product_pb2.DELIVERY_KIND_DATA_PLAN,
    DeliveryKind.ELECTRICITY_TOKEN: product_pb2.DELIVERY_KIND_ELECTRICITY_TOKEN,
    DeliveryKind.VOUCHER_CODE: product_pb2.DELIVERY_KIND_VOUCHER_CODE,
    DeliveryKind.ACCOUNT_TOPUP: product_pb2.DELIVERY_KIND_ACCOUNT_TOPUP,
}
STORED_DELIVERY_KINDS = {value: kind for kind, value in DELIVERY_KINDS.items()}
PACKAGE_PRICE_FIELD = "package.price"
DESTINATION_FIELDS_FIELD = "product.destination_fields"
SEARCH_KEYWORDS_FIELD = "product.search_keywords"
# The keys of a stored destination field: the contract's DestinationField field names.
DESTINATION_FIELD_KEYS = (
    "name",
    "label",
    "label_en",
    "hint",
    "hint_en",
    "pattern",
    "min_length",
    "max_length",
    "prefixes",
    "example",
    "lookup_supported",
)


# Rows to messages.


@lru_cache(maxsize=4096)
def destination_field_messages(stored: str) -> tuple[product_pb2.DestinationField, ...]:
    """A product's stored destination fields as messages, read once per text: every package
    of a page carries a copy. Messages given to a constructor are copied, never changed."""
    return tuple(product_pb2.DestinationField(**value) for value in json.loads(stored))


def delivery_kind_value(kind: DeliveryKind | None) -> product_pb2.DeliveryKind.ValueType:
    return DELIVERY_KINDS[kind] if kind is not None else product_pb2.DELIVERY_KIND_UNSPECIFIED


def category_message(category: Category) -> product_pb2.Category:
    return product_pb2.Category(
        id=category.id,
        display_name=category.display_name,
        display_name_en=category.display_name_en,
        sort_order=category.sort_order,
    )


def package_fields(package: PackageView) -> dict[str, Any]:
    """A package's message fields (the price as a mapping: no Money message built to be copied)."""
    return {
        "id": package.id,
        "product_id": package.product_id,
        "display_name": package.display_name,
        "display_name_en": package.display_name_en,
        "description": package.description,
        "description_en": package.description_en,
        "price": {"currency_code": CURRENCY_CODE, "amount": package.price},
        "stock_available": package.stock_available,
        "sort_order": package.sort_order,
        "product_display_name": package.product_display_name,
        "product_display_name_en": package.product_display_name_en,
        "destination_fields": destination_field_messages(package.destination_fields),
        "delivery_kind": delivery_kind_value(package.delivery_kind),
    }


def package_message(package: PackageView) -> product_pb2.Package:
    return product_pb2.Package(**package_fields(package))


def product_message(listing: ProductListing) -> product_pb2.Product:
    product = listing.product
    message = product_pb2.Product(
        id=product.id,
        display_name=product.display_name,
        display_name_en=product.display_name_en,
        description=product.description,
        description_en=product.description_en,
        search_keywords=product.search_keywords,
        category_id=product.category_id,
        image_url=product.image_url,
        state=PRODUCT_STATES[product.state],
        create_time=to_timestamp(product.create_time),
        update_time=to_timestamp(product.update_time),
        destination_fields=destination_field_messages(product.destination_fields),
        delivery_kind=delivery_kind_value(product.delivery_kind),
    )
    add_package = message.packages.add
    for package in listing.packages:  # built in place rather than copied in
        add_package(**package_fields(package))
    prices = [package.price for package in listing.packages]
    if prices:
        message.min_price.currency_code, message.min_price.amount = CURRENCY_CODE, min(prices)
        message.max_price.currency_code, message.max_price.amount = CURRENCY_CODE, max(prices)
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


# Requests to the values the domain stores.


def stock_lines(lines: Sequence[product_pb2.StockLine]) -> list[StockLine]:
    return [StockLine(line.package_id, line.quantity) for line in lines]


def requested_expire_time(request: product_service_pb2.ReserveStockRequest) -> datetime | None:
    """The expiry the caller asked for, or None for the service's default."""
    return request.expire_time.ToDatetime(tzinfo=UTC) if request.HasField("expire_time") else None


def stored_destination_fields(fields: Sequence[product_pb2.DestinationField]) -> str:
    """The destination fields of a request as stored (a JSON list), once every one of them
    can be used; INVALID_ARGUMENT naming each problem otherwise."""
    problems = destination_field_problems(fields, DESTINATION_FIELDS_FIELD)
    if problems:
        raise reasons.invalid_fields(problems)
    return json.dumps(
        [
            {
                key: list(field.prefixes) if key == "prefixes" else getattr(field, key)
                for key in DESTINATION_FIELD_KEYS
            }
            for field in fields
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )


def stored_delivery_kind(kind: product_pb2.DeliveryKind.ValueType) -> DeliveryKind | None:
    """The delivery kind of a request as stored; None for DELIVERY_KIND_UNSPECIFIED (not set)."""
    return STORED_DELIVERY_KINDS.get(kind)


def given_search_keywords(keywords: Sequence[str]) -> tuple[str, ...]:
    """The keywords of a request as stored (trimmed, see search.trimmed_keywords), once none is
    blank or a repeat of another; INVALID_ARGUMENT naming each one that is."""
    problems = search.keyword_problems(keywords, SEARCH_KEYWORDS_FIELD)
    if problems:
        raise reasons.invalid_fields(problems)
    return search.trimmed_keywords(keywords)


def new_category(given: product_pb2.Category) -> NewCategory:
    return NewCategory(
        id=given.id,
        display_name=given.display_name,
        sort_order=given.sort_order,
        display_name_en=given.display_name_en,
    )


def new_product(given: product_pb2.Product) -> NewProduct:
    """The product to create; its output-only fields (state, packages, prices, times) are ignored."""
    return NewProduct(
        id=given.id,
        display_name=given.display_name,
        description=given.description,
        category_id=given.category_id,
        image_url=given.image_url,
        destination_fields=stored_destination_fields(given.destination_fields),
        delivery_kind=stored_delivery_kind(given.delivery_kind),
        display_name_en=given.display_name_en,
        description_en=given.description_en,
        search_keywords=given_search_keywords(given.search_keywords),
    )


def new_package(given: product_pb2.Package) -> NewPackage:
    return NewPackage(
        id=given.id,
        display_name=given.display_name,
        description=given.description,
        price=rupiah_amount(given.price, PACKAGE_PRICE_FIELD),
        stock_available=given.stock_available,
        sort_order=given.sort_order,
        display_name_en=given.display_name_en,
        description_en=given.description_en,
    )


def product_changes(request: admin_pb2.UpdateProductRequest) -> dict[str, Any]:
    """The product fields update_mask names (the four of v1.0 when empty), with their new
    values as stored."""
    fields = fields_to_update(request.update_mask, PRODUCT_UPDATABLE_FIELDS, PRODUCT_FIELDS_OF_AN_EMPTY_MASK)
    changes: dict[str, Any] = {}
    for name in fields:
        if name == "destination_fields":
            changes[name] = stored_destination_fields(request.product.destination_fields)
        elif name == "delivery_kind":
            changes[name] = stored_delivery_kind(request.product.delivery_kind)
        elif name == "search_keywords":
            changes[name] = given_search_keywords(request.product.search_keywords)
        else:
            changes[name] = getattr(request.product, name)
    return changes


def package_changes(request: admin_pb2.UpdatePackageRequest) -> dict[str, Any]:
    """The package fields update_mask names (the five of v1.0 when empty), the price in rupiah."""
    fields = fields_to_update(request.update_mask, PACKAGE_UPDATABLE_FIELDS, PACKAGE_FIELDS_OF_AN_EMPTY_MASK)
    return {
        name: rupiah_amount(request.package.price, PACKAGE_PRICE_FIELD)
        if name == "price"
        else getattr(request.package, name)
        for name in fields
    }
