"""Catalog reads are cached for a short time, carry a strong ETag, and admin writes invalidate them."""

from __future__ import annotations

import time

from conftest import AppFactory
from fakes import ADMIN_TOKEN, METER_PRODUCT_ID, FakeShop

from pasar.fulfillment.v1 import fulfillment_service_pb2
from pasar_gateway.catalog_cache import (
    LocalGeneration,
    ResponseCache,
    SharedGeneration,
    entity_tag,
    is_cacheable,
)

ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def calls(shop: FakeShop, method: str) -> int:
    return len(shop.product.metadata(method))


def test_a_repeated_read_is_answered_from_the_cache(make_app: AppFactory, shop: FakeShop) -> None:
    client = make_app(CATALOG_CACHE_TTL_SECONDS="60").test_client()
    first = client.get("/api/v1/products")
    second = client.get("/api/v1/products?pageSize=0")  # the same request message
    study = client.get("/api/v1/product/pulsa-nusantara")
    canonical = client.get("/api/v1/products/pulsa-nusantara")
    assert first.status_code == second.status_code == 200
    assert first.data == second.data
    assert study.data == canonical.data
    assert calls(shop, "ListProducts") == 1
    assert calls(shop, "GetProduct") == 1
    assert first.headers["ETag"] == entity_tag(first.data)
    assert first.headers["Cache-Control"] == "no-cache"


def test_a_destination_lookup_is_never_kept(make_app: AppFactory, shop: FakeShop) -> None:
    """A look-up is a read (NO_SIDE_EFFECTS) but no catalog read: its request is a shopper's
    meter or phone number and its answer the name on it (personal data)."""
    client = make_app(CATALOG_CACHE_TTL_SECONDS="60").test_client()
    body = {"productId": METER_PRODUCT_ID, "destination": {"meter_number": "12345678901"}}
    answers = [client.post("/api/v1/destinations:lookup", json=body) for _ in range(2)]
    assert [answer.status_code for answer in answers] == [200, 200]
    assert len(shop.fulfillment.metadata("LookupDestination")) == 2
    assert all(answer.headers["Cache-Control"] == "no-store" for answer in answers)
    assert all("ETag" not in answer.headers for answer in answers)
    method = fulfillment_service_pb2.DESCRIPTOR.services_by_name["FulfillmentService"]
    assert not is_cacheable(method.methods_by_name["LookupDestination"])


def test_if_none_match_is_answered_304(make_app: AppFactory, shop: FakeShop) -> None:
    client = make_app().test_client()
    etag = client.get("/api/v1/categories").headers["ETag"]
    assert etag.startswith('"')
    assert etag.endswith('"')
    unchanged = client.get("/api/v1/categories", headers={"If-None-Match": etag})
    assert unchanged.status_code == 304
    assert unchanged.data == b""
    assert unchanged.headers["ETag"] == etag
    assert client.get("/api/v1/categories", headers={"If-None-Match": f"W/{etag}"}).status_code == 304
    assert client.get("/api/v1/categories", headers={"If-None-Match": '"other"'}).status_code == 200
    assert client.get("/api/v1/categories", headers={"If-None-Match": "*"}).status_code == 304


def test_entries_expire_after_the_ttl(make_app: AppFactory, shop: FakeShop) -> None:
    client = make_app(CATALOG_CACHE_TTL_SECONDS="0.2").test_client()
    client.get("/api/v1/payment-channels")
    client.get("/api/v1/payments")
    assert len(shop.payment.metadata("ListPaymentChannels")) == 1
    time.sleep(0.3)
    client.get("/api/v1/payment-channels")
    assert len(shop.payment.metadata("ListPaymentChannels")) == 2


def test_an_admin_write_invalidates_the_catalog(make_app: AppFactory, shop: FakeShop) -> None:
    client = make_app(CATALOG_CACHE_TTL_SECONDS="60").test_client()
    before = client.get("/api/v1/products/pulsa-nusantara")
    assert before.get_json()["displayName"] == "Pulsa Nusantara"
    changed = client.patch(
        "/api/v1/admin/products/pulsa-nusantara?updateMask=displayName",
        json={"displayName": "Pulsa Nusantara Baru"},
        headers=ADMIN,
    )
    assert changed.status_code == 200
    after = client.get("/api/v1/products/pulsa-nusantara", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200
    assert after.get_json()["displayName"] == "Pulsa Nusantara Baru"
    assert after.headers["ETag"] != before.headers["ETag"]
    deleted = client.delete("/api/v1/admin/products/pulsa-nusantara", headers=ADMIN)
    assert deleted.status_code == 200
    assert client.get("/api/v1/products/pulsa-nusantara").status_code == 404


def test_the_cache_can_be_turned_off(make_app: AppFactory, shop: FakeShop) -> None:
    client = make_app(CATALOG_CACHE="false").test_client()
    first = client.get("/api/v1/categories")
    second = client.get("/api/v1/categories", headers={"If-None-Match": first.headers["ETag"]})
    assert second.status_code == 304  # ETags still work; every read asks the service
    assert calls(shop, "ListCategories") == 2


def test_failures_are_not_cached(make_app: AppFactory, shop: FakeShop) -> None:
    client = make_app().test_client()
    assert client.get("/api/v1/products/nope").status_code == 404
    assert client.get("/api/v1/products/nope").status_code == 404
    assert calls(shop, "GetProduct") == 2


def test_a_read_that_raced_a_change_is_not_stored() -> None:
    generation = LocalGeneration()
    cache = ResponseCache(60, 10, generation)
    started_at = generation.current()
    cache.invalidate()  # an admin write lands while the read is in flight
    cache.put(b"key", b"old", started_at)
    assert cache.get(b"key") is None


def test_the_cache_is_bounded() -> None:
    cache = ResponseCache(60, 2, LocalGeneration())
    for key in (b"a", b"b", b"c"):
        cache.put(key, key, 0)
    assert len(cache) == 2
    assert cache.get(b"a") is None
    assert cache.get(b"c") is not None


def test_the_shared_generation_is_seen_by_forked_workers() -> None:
    import os

    generation = SharedGeneration()
    pid = os.fork()
    if pid == 0:  # a worker process bumps it
        generation.bump()
        os._exit(0)
    os.waitpid(pid, 0)
    assert generation.current() == 1
