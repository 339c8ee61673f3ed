"""The catalog's generation is an explicit input of create_app, shared by the launcher's workers."""

from __future__ import annotations

from fakes import ADMIN_TOKEN, FakeShop

from pasar_gateway.app import create_app, gateway_of
from pasar_gateway.catalog_cache import LocalGeneration

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
PRODUCT = "/api/v1/products/pulsa-nusantara"


def test_an_admin_write_through_one_application_invalidates_another_sharing_its_generation(
    shop: FakeShop,
) -> None:
    """Two applications given one counter behave as two gunicorn workers: neither serves stale reads."""
    config = {**shop.config(), "ADMIN_TOKEN": ADMIN_TOKEN, "CATALOG_CACHE_TTL_SECONDS": "60"}
    generation = LocalGeneration()
    writer, reader = create_app(config, generation=generation), create_app(config, generation=generation)
    try:
        assert reader.test_client().get(PRODUCT).get_json()["displayName"] == "Pulsa Nusantara"
        changed = writer.test_client().patch(
            f"{PRODUCT}?updateMask=displayName".replace("/products/", "/admin/products/"),
            json={"displayName": "Pulsa Nusantara Baru"},
            headers=ADMIN,
        )
        assert changed.status_code == 200
        assert generation.current() == 1
        assert reader.test_client().get(PRODUCT).get_json()["displayName"] == "Pulsa Nusantara Baru"
    finally:
        gateway_of(writer).close()
        gateway_of(reader).close()


def test_without_a_generation_each_application_counts_its_own(shop: FakeShop) -> None:
    config = {**shop.config(), "ADMIN_TOKEN": ADMIN_TOKEN}
    first, second = create_app(config), create_app(config)
    try:
        assert gateway_of(first).cache.generation is not gateway_of(second).cache.generation
    finally:
        gateway_of(first).close()
        gateway_of(second).close()
