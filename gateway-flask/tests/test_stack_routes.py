"""Every route of the design's REST table, against the real services behind the real gateway."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import requests
from openapi_spec_validator import validate
from stack_support import (
    ADMIN,
    METER_PRODUCT_ID,
    PACKAGE_ID,
    PRODUCT_ID,
    QRIS,
    SCARCE_PACKAGE_ID,
    SMALL_PACKAGE_ID,
    VIRTUAL_ACCOUNT,
    Shop,
    line,
    running_shop,
    wait_until,
)

from pasar.common.v1.error_reason_pb2 import ErrorReason as CommonErrorReason
from pasar.fulfillment.v1.error_reason_pb2 import ErrorReason as FulfillmentErrorReason
from pasar.payment.v1.error_reason_pb2 import ErrorReason as PaymentErrorReason
from pasar.product.v1.error_reason_pb2 import ErrorReason as ProductErrorReason

SECURITY_HEADERS = ("X-Content-Type-Options", "X-Frame-Options", "Referrer-Policy", "Content-Security-Policy")


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    yield from running_shop(tmp_path_factory.mktemp("stack"))


def assert_json_answer(response: requests.Response, status: int = 200) -> None:
    assert response.status_code == status, response.text
    assert response.headers["Content-Type"] == "application/json"
    assert response.headers["X-Request-Id"]
    for header in SECURITY_HEADERS:
        assert header in response.headers


def test_products_list_and_get_study_and_canonical(shop: Shop) -> None:
    listed = shop.get("/api/v1/products")
    assert_json_answer(listed)
    assert listed.headers["ETag"]
    body = listed.json()
    assert set(body) == {"products", "nextPageToken"}
    product = next(p for p in body["products"] if p["id"] == PRODUCT_ID)
    assert set(product) >= {"id", "displayName", "description", "categoryId", "imageUrl", "state", "packages"}
    assert product["state"] == "PRODUCT_STATE_ACTIVE"
    assert product["minPrice"] == {"currencyCode": "IDR", "amount": "6000"}
    assert [p["id"] for p in product["packages"]] == [SMALL_PACKAGE_ID, PACKAGE_ID]

    canonical = shop.get(f"/api/v1/products/{PRODUCT_ID}")
    study = shop.get(f"/api/v1/product/{PRODUCT_ID}")
    assert_json_answer(canonical)
    assert_json_answer(study)
    assert canonical.content == study.content
    assert canonical.json()["id"] == PRODUCT_ID
    assert (
        shop.get(
            f"/api/v1/product/{PRODUCT_ID}", headers={"If-None-Match": study.headers["ETag"]}
        ).status_code
        == 304
    )

    paged = shop.get("/api/v1/products", params={"pageSize": 1})
    assert len(paged.json()["products"]) == 1
    assert paged.json()["nextPageToken"]
    in_category = shop.get("/api/v1/products", params={"category_id": "token-listrik"}).json()
    assert [p["id"] for p in in_category["products"]] == ["token-listrik", METER_PRODUCT_ID]
    categories = shop.get("/api/v1/categories")
    assert_json_answer(categories)
    assert [c["id"] for c in categories.json()["categories"]] == ["pulsa", "token-listrik"]


def test_payment_channels_study_and_canonical(shop: Shop) -> None:
    canonical = shop.get("/api/v1/payment-channels")
    study = shop.get("/api/v1/payments")
    assert_json_answer(canonical)
    assert_json_answer(study)
    assert canonical.content == study.content
    channels = canonical.json()["paymentChannels"]
    assert {QRIS, VIRTUAL_ACCOUNT} <= {channel["code"] for channel in channels}
    assert all(channel["kind"].startswith("PAYMENT_CHANNEL_KIND_") for channel in channels)


def test_checkout_order_and_payment_routes(shop: Shop) -> None:
    placed = shop.place_order(**{"Idempotency-Key": "beli-route-test"})
    assert set(placed) == {"order", "accessToken", "payment"}
    retried = shop.place_order(**{"Idempotency-Key": "beli-route-test"})
    assert retried["order"]["id"] == placed["order"]["id"]  # a retried POST returns the same order
    assert retried["accessToken"] == placed["accessToken"]
    order_id, token, payment_id = placed["order"]["id"], placed["accessToken"], placed["order"]["paymentId"]
    order = placed["order"]
    assert order["subtotal"] == {"currencyCode": "IDR", "amount": "25500"}  # the catalog's price
    assert int(order["total"]["amount"]) == 25_500 + int(order["fee"]["amount"])

    canonical = shop.get(f"/api/v1/orders/{order_id}", params={"token": token})
    study = shop.get(f"/api/v1/order/{order_id}", params={"token": token})
    by_header = shop.get(f"/api/v1/orders/{order_id}", headers={"X-Order-Token": token})
    for response in (canonical, study, by_header):
        assert_json_answer(response)
        assert response.headers["Cache-Control"] == "no-store"
    assert canonical.content == study.content == by_header.content
    assert canonical.json()["state"] == "ORDER_STATE_PENDING_PAYMENT"
    wrong = shop.get(f"/api/v1/orders/{order_id}", params={"token": "not-the-token"})
    assert_json_answer(wrong, 404)
    assert wrong.json()["error"]["code"] == "NOT_FOUND"
    missing = shop.get(f"/api/v1/order/{order_id}")
    assert_json_answer(missing, 400)
    assert missing.json()["error"]["details"][0]["fieldViolations"][0]["field"] == "token"

    payment = shop.get(f"/api/v1/payments/{payment_id}")
    study_payment = shop.get(f"/api/v1/payment/{payment_id}")
    assert_json_answer(payment)
    assert payment.content == study_payment.content
    assert payment.json()["qris"]["qrString"]
    assert payment.json()["state"] == "PAYMENT_STATE_PENDING"

    settled = shop.post(f"/api/v1/payments/{payment_id}:simulate")
    assert_json_answer(settled)
    assert settled.json()["state"] == "PAYMENT_STATE_PAID"
    # Paid, then delivered through svc-fulfillment's sandbox biller a moment later.
    delivered = wait_until(
        lambda: (
            current
            if (current := shop.get(f"/api/v1/order/{order_id}", params={"token": token}).json())["state"]
            == "ORDER_STATE_FULFILLED"
            else None
        )
    )
    (fulfilled_line,) = delivered["lines"]
    assert fulfilled_line["destination"] == line(PACKAGE_ID)["destination"]
    assert fulfilled_line["fulfillment"]["state"] == "FULFILLMENT_STATE_SUCCEEDED"
    assert fulfilled_line["fulfillment"]["deliveries"][0]["serialNumber"]


def test_cancelling_an_order(shop: Shop) -> None:
    placed = shop.place_order(SMALL_PACKAGE_ID)
    order_id, token = placed["order"]["id"], placed["accessToken"]
    cancelled = shop.post(f"/api/v1/orders/{order_id}:cancel", json={"token": token})
    assert_json_answer(cancelled)
    assert cancelled.json()["state"] == "ORDER_STATE_CANCELLED"
    again = shop.post(f"/api/v1/orders/{order_id}:cancel", headers={"X-Order-Token": token})
    assert_json_answer(again)
    assert again.json()["state"] == "ORDER_STATE_CANCELLED"


def test_checkout_failures_have_the_error_shape(shop: Shop) -> None:
    body = {"customerEmail": "budi@example.com", "paymentChannelCode": QRIS}
    unknown = shop.post("/api/v1/orders", json={**body, "lines": [line("no-such-package")]})
    assert_json_answer(unknown, 404)
    assert unknown.json()["error"]["details"][0]["reason"] == ProductErrorReason.Name(
        ProductErrorReason.PACKAGE_NOT_FOUND
    )
    too_many = shop.post("/api/v1/orders", json={**body, "lines": [line(SCARCE_PACKAGE_ID, 2)]})
    assert_json_answer(too_many, 409)
    assert too_many.json()["error"]["code"] == "FAILED_PRECONDITION"
    assert too_many.json()["error"]["details"][0]["reason"] == ProductErrorReason.Name(
        ProductErrorReason.OUT_OF_STOCK
    )
    too_small = shop.post(
        "/api/v1/orders",
        json={
            "customerEmail": "budi@example.com",
            "paymentChannelCode": VIRTUAL_ACCOUNT,
            "lines": [line(SMALL_PACKAGE_ID)],
        },
    )
    assert_json_answer(too_small, 422)
    assert too_small.json()["error"]["details"][0]["reason"] == PaymentErrorReason.Name(
        PaymentErrorReason.AMOUNT_OUT_OF_RANGE
    )
    bad_email = shop.post(
        "/api/v1/orders",
        json={**body, "customerEmail": "not-an-email", "lines": [line(PACKAGE_ID)]},
    )
    assert_json_answer(bad_email, 400)
    fields = [v["field"] for v in bad_email.json()["error"]["details"][0]["fieldViolations"]]
    assert "customer_email" in fields
    unknown_field = shop.post("/api/v1/orders", json={**body, "coupon": "GRATIS"})
    assert_json_answer(unknown_field, 400)
    assert unknown_field.json()["error"]["details"][0]["fieldViolations"][0]["field"] == "coupon"


def test_admin_routes_change_the_catalog_and_refresh_the_cache(shop: Shop) -> None:
    assert shop.post("/api/v1/admin/products", json={"id": "x"}).status_code == 401
    assert (
        shop.post(
            "/api/v1/admin/products", json={"id": "x"}, headers={"Authorization": "Bearer no"}
        ).status_code
        == 403
    )
    before = shop.get(f"/api/v1/products/{PRODUCT_ID}")
    renamed = shop.patch(
        f"/api/v1/admin/products/{PRODUCT_ID}",
        params={"updateMask": "displayName"},
        # The contract validates the whole product, mask or not: send every required field.
        json={"displayName": "Pulsa Nusantara Plus", "categoryId": "pulsa"},
        headers=ADMIN,
    )
    assert_json_answer(renamed)
    assert renamed.json()["displayName"] == "Pulsa Nusantara Plus"
    after = shop.get(f"/api/v1/products/{PRODUCT_ID}", headers={"If-None-Match": before.headers["ETag"]})
    assert after.status_code == 200  # not the cached copy
    assert after.json()["displayName"] == "Pulsa Nusantara Plus"
    restocked = shop.patch(
        f"/api/v1/admin/packages/{PACKAGE_ID}",
        params={"update_mask": "stock_available"},
        json={
            "displayName": "Pulsa 25.000",
            "price": {"currencyCode": "IDR", "amount": "25500"},
            "stockAvailable": 500,
        },
        headers=ADMIN,
    )
    assert_json_answer(restocked)
    assert restocked.json()["stockAvailable"] == 500
    created = shop.post(
        "/api/v1/admin/products",
        json={"id": "voucher-game", "displayName": "Voucher Game", "categoryId": "pulsa"},
        headers=ADMIN,
    )
    assert_json_answer(created)
    assert "voucher-game" in [p["id"] for p in shop.get("/api/v1/products").json()["products"]]
    deleted = shop.delete("/api/v1/admin/products/voucher-game", headers=ADMIN)
    assert_json_answer(deleted)
    assert deleted.json()["product"]["state"] == "PRODUCT_STATE_ARCHIVED"
    assert shop.get("/api/v1/products/voucher-game").status_code == 404
    duplicate = shop.post(
        "/api/v1/admin/categories", json={"id": "pulsa", "displayName": "Pulsa"}, headers=ADMIN
    )
    assert_json_answer(duplicate, 409)


def test_a_destination_is_looked_up_before_paying(shop: Shop) -> None:
    """POST /api/v1/destinations:lookup through svc-fulfillment (the sandbox biller's rules)."""

    def lookup(product_id: str, destination: dict[str, str]) -> requests.Response:
        return shop.post(
            "/api/v1/destinations:lookup", json={"productId": product_id, "destination": destination}
        )

    found = lookup(METER_PRODUCT_ID, {"meter_number": "14234567890"})
    assert_json_answer(found)
    assert found.headers["Cache-Control"] == "no-store"
    assert found.json()["customerName"]
    assert found.json()["matchesProduct"] is True

    unknown = lookup(METER_PRODUCT_ID, {"meter_number": "14234560000"})
    assert_json_answer(unknown, 404)
    reasons = [d.get("reason") for d in unknown.json()["error"]["details"]]
    assert FulfillmentErrorReason.Name(FulfillmentErrorReason.DESTINATION_NOT_FOUND) in reasons

    invalid = lookup(METER_PRODUCT_ID, {"meter_number": "1423"})
    assert_json_answer(invalid, 400)
    details = invalid.json()["error"]["details"]
    assert CommonErrorReason.Name(CommonErrorReason.INVALID_DESTINATION) in [d.get("reason") for d in details]
    violations = [v["field"] for d in details for v in d.get("fieldViolations", [])]
    assert violations == ['destination["meter_number"]']

    no_lookup = lookup(PRODUCT_ID, {"phone_number": "081234567890"})
    assert_json_answer(no_lookup, 422)  # pulsa-nusantara's phone number has no look-up here
    assert no_lookup.json()["error"]["code"] == "FAILED_PRECONDITION"
    no_lookup_reasons = [d.get("reason") for d in no_lookup.json()["error"]["details"]]
    assert FulfillmentErrorReason.Name(FulfillmentErrorReason.LOOKUP_NOT_SUPPORTED) in no_lookup_reasons
    for value in ("14234567890", "14234560000", "081234567890"):
        assert value not in shop.stack["gateway"].log_path.read_text()


def test_health_readiness_openapi_and_request_ids(shop: Shop) -> None:
    assert shop.get("/healthz").json() == {"status": "ok"}
    ready = shop.get("/readyz")
    assert ready.status_code == 200
    assert {name: s["status"] for name, s in ready.json()["services"].items()} == {
        "product": "SERVING",
        "payment": "SERVING",
        "order": "SERVING",
        "fulfillment": "SERVING",
    }
    validate(shop.get("/api/v1/openapi.json").json())
    assert shop.get("/api/v1/docs").status_code == 200
    shop.get(f"/api/v1/products/{PRODUCT_ID}", headers={"X-Request-Id": "trace-me-42"})
    wait_until(lambda: '"trace-me-42"' in shop.stack["product"].log_path.read_text())


def test_cors_preflight_against_the_real_gateway(shop: Shop) -> None:
    preflight = requests.options(
        shop.url + "/api/v1/orders",
        headers={"Origin": "https://shop.example", "Access-Control-Request-Method": "POST"},
        timeout=10,
    )
    assert preflight.headers["Access-Control-Allow-Origin"] == "https://shop.example"
