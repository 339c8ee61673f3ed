"""Seeding a running shop's catalog as an administrator does: through the gateway's admin
routes (REST), or through ProductAdminService (gRPC) when no gateway runs.

A test describes its catalog with :class:`Category`, :class:`Product` and
:class:`Package`; the seeding creates them in that order and fails on any refusal.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import grpc
import requests
from google.protobuf import json_format
from google.protobuf.message import Message

from pasar.product.v1 import product_admin_service_pb2, product_admin_service_pb2_grpc, product_pb2
from pasar_kit.money import rupiah
from pasar_testkit.stack import ADMIN_TOKEN

DEADLINE_SECONDS = 30.0

# The destination fields of the shop-level tests' products: a PLN meter (the demo catalog's
# field and example meter) and a Telkomsel phone number.
METER_NUMBER_FIELD = product_pb2.DestinationField(
    name="meter_number",
    label="Nomor Meter/ID Pelanggan",
    label_en="Meter number or customer ID",
    pattern="[0-9]{11,12}",
    min_length=11,
    max_length=12,
    example="14234567891",
    lookup_supported=True,
)
TELKOMSEL_PHONE_FIELD = product_pb2.DestinationField(
    name="phone_number",
    label="Nomor HP",
    label_en="Phone number",
    pattern="08[0-9]{8,11}",
    min_length=10,
    max_length=13,
    prefixes=["0811", "0812", "0813", "0821", "0822", "0823", "0851", "0852", "0853"],
    example="081234567890",
    lookup_supported=True,
)


@dataclass(frozen=True)
class Category:
    id: str
    display_name: str
    sort_order: int = 0
    display_name_en: str = ""  # empty: shown in Indonesian in English too


@dataclass(frozen=True)
class Package:
    id: str
    display_name: str
    price: int  # rupiah
    stock: int
    sort_order: int = 0
    display_name_en: str = ""


@dataclass(frozen=True)
class Product:
    id: str
    display_name: str
    category_id: str
    packages: Sequence[Package]
    image_url: str = ""
    # What the shopper gives so that it can be delivered, and what a delivery hands over. By
    # default a voucher code for no destination: a product without a delivery kind is not
    # sold (CreateOrder refuses it), and this one can be ordered with no destination at all.
    destination_fields: Sequence[product_pb2.DestinationField] = ()
    delivery_kind: product_pb2.DeliveryKind.ValueType = product_pb2.DELIVERY_KIND_VOUCHER_CODE
    # The English name and description (empty: shown in Indonesian) and the words shoppers
    # type to find it ("pln", "game").
    display_name_en: str = ""
    description_en: str = ""
    search_keywords: Sequence[str] = ()


def category_message(category: Category) -> product_pb2.Category:
    """The category as CreateCategory takes it (over gRPC, or as proto3 JSON over REST)."""
    return product_pb2.Category(
        id=category.id,
        display_name=category.display_name,
        display_name_en=category.display_name_en,
        sort_order=category.sort_order,
    )


def product_message(product: Product) -> product_pb2.Product:
    """The product as CreateProduct takes it, without its packages (created one by one)."""
    return product_pb2.Product(
        id=product.id,
        display_name=product.display_name,
        display_name_en=product.display_name_en,
        description_en=product.description_en,
        search_keywords=product.search_keywords,
        category_id=product.category_id,
        image_url=product.image_url,
        destination_fields=product.destination_fields,
        delivery_kind=product.delivery_kind,
    )


def package_message(package: Package) -> product_pb2.Package:
    """The package as CreatePackage takes it."""
    return product_pb2.Package(
        id=package.id,
        display_name=package.display_name,
        display_name_en=package.display_name_en,
        price=rupiah(package.price),
        stock_available=package.stock,
        sort_order=package.sort_order,
    )


def seed_over_gateway(
    gateway_url: str,
    categories: Sequence[Category],
    products: Sequence[Product],
    *,
    session: requests.Session | None = None,
    admin_token: str = ADMIN_TOKEN,
) -> None:
    """Creates the catalog through the gateway's admin routes (the messages seed_over_grpc
    sends, as proto3 JSON)."""
    http = session or requests.Session()
    headers = {"Authorization": f"Bearer {admin_token}"}

    def post(path: str, message: Message) -> None:
        body = json_format.MessageToDict(message)
        response = http.post(f"{gateway_url}{path}", json=body, headers=headers, timeout=DEADLINE_SECONDS)
        assert response.status_code == 200, f"POST {path}: {response.status_code} {response.text}"

    for category in categories:
        post("/api/v1/admin/categories", category_message(category))
    for product in products:
        post("/api/v1/admin/products", product_message(product))
        for package in product.packages:
            post(f"/api/v1/admin/products/{product.id}/packages", package_message(package))
    if session is None:
        http.close()


def seed_over_grpc(
    channel: grpc.Channel,
    categories: Sequence[Category],
    products: Sequence[Product],
    *,
    admin_token: str = ADMIN_TOKEN,
) -> None:
    """Creates the catalog through the product service's ProductAdminService."""
    admin = product_admin_service_pb2_grpc.ProductAdminServiceStub(channel)
    metadata = (("authorization", f"Bearer {admin_token}"),)
    for category in categories:
        admin.CreateCategory(
            product_admin_service_pb2.CreateCategoryRequest(category=category_message(category)),
            metadata=metadata,
            timeout=DEADLINE_SECONDS,
        )
    for product in products:
        admin.CreateProduct(
            product_admin_service_pb2.CreateProductRequest(product=product_message(product)),
            metadata=metadata,
            timeout=DEADLINE_SECONDS,
        )
        for package in product.packages:
            admin.CreatePackage(
                product_admin_service_pb2.CreatePackageRequest(
                    product_id=product.id, package=package_message(package)
                ),
                metadata=metadata,
                timeout=DEADLINE_SECONDS,
            )
