"""The real shop behind the gateway, for the tests named test_stack_*: processes on free ports.

The three services and the gateway run from their console entry points (pasar_kit's
Stack), each service on a fresh SQLite database (the services' own suites cover MariaDB).
The catalog is created through the gateway's admin routes, so those are exercised too.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from pasar_testkit.stack import ADMIN_TOKEN, SERVICES, Stack

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
PRODUCT_ID = "pulsa-nusantara"
PACKAGE_ID = "pulsa-nusantara-25k"
SMALL_PACKAGE_ID = "pulsa-nusantara-5k"
SCARCE_PACKAGE_ID = "token-listrik-1jt"
QRIS = "qris"  # 1.000 to 10.000.000 rupiah
VIRTUAL_ACCOUNT = "bca_va"  # from 10.000 rupiah


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
                "lines": [{"packageId": package_id, "quantity": 1}],
                "paymentChannelCode": channel,
                "languageCode": "id",
            },
            headers=headers,
        )
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body


def running_shop(base: Path, gateway_env: Mapping[str, str] | None = None) -> Iterator[Shop]:
    """Starts the shop, seeds the catalog, yields it, and stops every process it started."""
    stack = Stack(
        base,
        {name: f"sqlite:///{base / name}.db" for name in SERVICES},
        component_env={"gateway": {"PASAR_CORS_ORIGINS": "https://shop.example", **(gateway_env or {})}},
    )
    try:
        stack.start(*SERVICES, "gateway")
        shop = Shop(stack, stack.gateway_url)
        seed_catalog(shop)
        yield shop
    except BaseException:
        print(stack.logs())
        raise
    finally:
        stack.stop()


def seed_catalog(shop: Shop) -> None:
    for category in (
        {"id": "pulsa", "displayName": "Pulsa", "sortOrder": 1},
        {"id": "token-listrik", "displayName": "Token Listrik", "sortOrder": 2},
    ):
        assert shop.post("/api/v1/admin/categories", json=category, headers=ADMIN).status_code == 200
    for product, packages in (
        (
            {"id": PRODUCT_ID, "displayName": "Pulsa Nusantara", "categoryId": "pulsa", "imageUrl": "/p.svg"},
            [(SMALL_PACKAGE_ID, "Pulsa 5.000", 6_000, 1000), (PACKAGE_ID, "Pulsa 25.000", 25_500, 1000)],
        ),
        (
            {"id": "token-listrik", "displayName": "Token Listrik", "categoryId": "token-listrik"},
            [(SCARCE_PACKAGE_ID, "Token 1.000.000", 1_002_500, 1)],
        ),
    ):
        response = shop.post("/api/v1/admin/products", json=product, headers=ADMIN)
        assert response.status_code == 200, response.text
        for index, (package_id, name, price, stock) in enumerate(packages):
            response = shop.post(
                f"/api/v1/admin/products/{product['id']}/packages",
                json={
                    "id": package_id,
                    "displayName": name,
                    "price": {"currencyCode": "IDR", "amount": str(price)},
                    "stockAvailable": stock,
                    "sortOrder": index,
                },
                headers=ADMIN,
            )
            assert response.status_code == 200, response.text


def wait_until(condition: Any, timeout: float = 15.0, interval: float = 0.1) -> Any:
    """Polls condition until it returns something truthy; fails after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true after {timeout}s: {condition}")
        time.sleep(interval)
