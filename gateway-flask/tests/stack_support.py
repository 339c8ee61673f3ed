"""The real shop behind the gateway, for the tests named test_stack_*: processes on free ports.

The four services and the gateway run as users start them (pasar_testkit.stack.Stack: the
Python ones from their console entry points, svc-fulfillment from its Go build), each
service on a fresh SQLite database (the services' own
suites cover MariaDB). The catalog is created through the gateway's admin routes
(pasar_testkit.catalog), so those are exercised too.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from pasar.product.v1 import product_pb2
from pasar_testkit.catalog import Category, Package, Product, seed_over_gateway
from pasar_testkit.stack import ADMIN_TOKEN, STACK_COMPONENTS, Stack, sqlite_database_urls
from pasar_testkit.waiting import wait_for as wait_until

__all__ = ["wait_until"]  # the stack tests' name for pasar_testkit's one wait helper

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
PRODUCT_ID = "pulsa-nusantara"
PACKAGE_ID = "pulsa-nusantara-25k"
SMALL_PACKAGE_ID = "pulsa-nusantara-5k"
SCARCE_PACKAGE_ID = "token-listrik-1jt"
QRIS = "qris"  # 1.000 to 10.000.000 rupiah
VIRTUAL_ACCOUNT = "bca_va"  # from 10.000 rupiah
METER_PRODUCT_ID = "token-pln"  # a PLN meter number, which can be looked up before paying
PHONE_FIELD = product_pb2.DestinationField(
    name="phone_number",
    label="Nomor HP",
    label_en="Phone number",
    pattern="08[0-9]{8,11}",
    min_length=10,
    max_length=13,
    prefixes=["0811", "0812", "0813", "0821", "0822", "0823", "0851", "0852", "0853"],
    example="081234567890",
    lookup_supported=False,  # here: so that a look-up meets LOOKUP_NOT_SUPPORTED
)
METER_FIELD = product_pb2.DestinationField(
    name="meter_number",
    label="Nomor meter",
    label_en="Meter number",
    pattern="[0-9]{11,12}",
    min_length=11,
    max_length=12,
    example="14234567890",
    lookup_supported=True,
)


@dataclass(frozen=True)
class Shop:
    stack: Stack
    url: str

    def get(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.get(self.url + path, timeout=30, **kwargs)

    def post(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.post(self.url + path, timeout=30, **kwargs)

    def patch(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.patch(self.url + path, timeout=30, **kwargs)

    def delete(self, path: str, **kwargs: Any) -> requests.Response:
        return requests.delete(self.url + path, timeout=30, **kwargs)

    def place_order(
        self, package_id: str = PACKAGE_ID, channel: str = QRIS, **headers: str
    ) -> dict[str, Any]:
        response = self.post(
            "/api/v1/orders",
            json={
                "customerEmail": "budi@example.com",
                "lines": [line(package_id)],
                "paymentChannelCode": channel,
                "languageCode": "id",
            },
            headers=headers,
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


CATEGORIES = [Category("pulsa", "Pulsa", 1), Category("token-listrik", "Token Listrik", 2)]
PRODUCTS = [
    Product(
        PRODUCT_ID,
        "Pulsa Nusantara",
        "pulsa",
        [
            Package(SMALL_PACKAGE_ID, "Pulsa 5.000", 6_000, 1000, 0),
            Package(PACKAGE_ID, "Pulsa 25.000", 25_500, 1000, 1),
        ],
        image_url="/p.svg",
        destination_fields=[PHONE_FIELD],
        delivery_kind=product_pb2.DELIVERY_KIND_PHONE_CREDIT,
    ),
    Product(
        "token-listrik",
        "Token Listrik",
        "token-listrik",
        [Package(SCARCE_PACKAGE_ID, "Token 1.000.000", 1_002_500, 1)],
        destination_fields=[METER_FIELD],
        delivery_kind=product_pb2.DELIVERY_KIND_ELECTRICITY_TOKEN,
    ),
    Product(
        METER_PRODUCT_ID,
        "Token PLN",
        "token-listrik",
        [Package("token-pln-20k", "Token 20.000", 22_500, 1000)],
        destination_fields=[METER_FIELD],
        delivery_kind=product_pb2.DELIVERY_KIND_ELECTRICITY_TOKEN,
    ),
]


def line(package_id: str, quantity: int = 1) -> dict[str, Any]:
    """An order line for package_id, to the destination its product asks for (each field's
    example, which the sandbox biller delivers to)."""
    product = next((p for p in PRODUCTS if any(package.id == package_id for package in p.packages)), None)
    fields = product.destination_fields if product else ()
    destination = {field.name: field.example for field in fields}
    return {"packageId": package_id, "quantity": quantity, **({"destination": destination} if fields else {})}


def running_shop(base: Path, gateway_env: Mapping[str, str] | None = None) -> Iterator[Shop]:
    """Starts the shop, seeds the catalog, yields it, and stops every process it started."""
    gateway = {"PASAR_CORS_ORIGINS": "https://shop.example", **(gateway_env or {})}
    with Stack(base, sqlite_database_urls(base), component_env={"gateway": gateway}) as stack:
        stack.start(*STACK_COMPONENTS)
        seed_over_gateway(stack.gateway_url, CATEGORIES, PRODUCTS)
        yield Shop(stack, stack.gateway_url)
