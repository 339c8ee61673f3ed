"""CORS, body size, rate limit, admin token, security headers."""

from __future__ import annotations

import io
import json

from conftest import AppFactory
from fakes import ADMIN_TOKEN, FakeShop
from flask.testing import FlaskClient

ORDER_BODY = {
    "customerEmail": "budi@example.com",
    "lines": [{"packageId": "pulsa-nusantara-10k", "quantity": 1}],
    "paymentChannelCode": "bca_va",
}
NEW_PRODUCT = {"id": "voucher-game", "displayName": "Voucher Game", "categoryId": "pulsa"}


def test_cors_preflight_from_an_allowed_origin(client: FlaskClient) -> None:
    """W3C Trace Context's headers too: the storefront starts each action's trace."""
    response = client.options(
        "/api/v1/orders",
        headers={
            "Origin": "https://shop.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "Content-Type, Idempotency-Key, traceparent, tracestate",
        },
    )
    assert response.status_code == 200
    assert response.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert "POST" in response.headers["Access-Control-Allow-Methods"]
    allowed = {name.strip().lower() for name in response.headers["Access-Control-Allow-Headers"].split(",")}
    assert {"content-type", "idempotency-key", "traceparent", "tracestate"} <= allowed
    assert int(response.headers["Access-Control-Max-Age"]) > 0


def test_cors_refuses_other_origins(client: FlaskClient) -> None:
    preflight = client.options(
        "/api/v1/orders", headers={"Origin": "https://evil.example", "Access-Control-Request-Method": "POST"}
    )
    assert "Access-Control-Allow-Origin" not in preflight.headers
    simple = client.get("/api/v1/products", headers={"Origin": "https://evil.example"})
    assert simple.status_code == 200
    assert "Access-Control-Allow-Origin" not in simple.headers


def test_cors_headers_expose_the_request_id(client: FlaskClient) -> None:
    response = client.get("/api/v1/products", headers={"Origin": "https://shop.example"})
    assert response.headers["Access-Control-Allow-Origin"] == "https://shop.example"
    assert "X-Request-Id" in response.headers["Access-Control-Expose-Headers"]
    assert "Origin" in response.headers["Vary"]  # shared caches keep one copy per origin
    assert "Access-Control-Allow-Credentials" not in response.headers


def test_cors_is_off_without_origins(make_app: AppFactory) -> None:
    client = make_app(CORS_ORIGINS="").test_client()  # empty: same-origin only (dev default: Vite's)
    response = client.get("/api/v1/products", headers={"Origin": "http://127.0.0.1:5173"})
    assert response.headers.get("Access-Control-Allow-Origin") == "http://127.0.0.1:5173"
    production = make_app(ENV="production", CORS_ORIGINS=None).test_client()
    response = production.get("/api/v1/products", headers={"Origin": "http://127.0.0.1:5173"})
    assert "Access-Control-Allow-Origin" not in response.headers


def test_a_body_over_the_limit_is_413(make_app: AppFactory, shop: FakeShop) -> None:
    client = make_app(MAX_BODY_BYTES="4096").test_client()
    body = {**ORDER_BODY, "customerEmail": "x" * 5000 + "@example.com"}
    response = client.post("/api/v1/orders", json=body)
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "RESOURCE_EXHAUSTED"
    assert shop.order.metadata("CreateOrder") == []


def test_a_chunked_body_over_the_limit_is_413_not_cut(make_app: AppFactory, shop: FakeShop) -> None:
    """Without a Content-Length, the first 4 KiB of a longer body were read and accepted."""
    client = make_app(MAX_BODY_BYTES="4096").test_client()
    valid_prefix = json.dumps(ORDER_BODY).encode()
    body = valid_prefix + b" " * (4096 - len(valid_prefix)) + b"x" * 2000
    response = client.post(
        "/api/v1/orders",
        input_stream=io.BytesIO(body),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},  # as gunicorn sets it for chunked bodies
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "RESOURCE_EXHAUSTED"
    assert shop.order.metadata("CreateOrder") == []


def test_a_chunked_body_of_exactly_the_limit_is_accepted(make_app: AppFactory) -> None:
    client = make_app(MAX_BODY_BYTES="4096").test_client()
    valid_prefix = json.dumps(ORDER_BODY).encode()
    body = valid_prefix + b" " * (4096 - len(valid_prefix))
    response = client.post(
        "/api/v1/orders",
        input_stream=io.BytesIO(body),
        headers={"Content-Type": "application/json", "Transfer-Encoding": "chunked"},
        environ_overrides={"wsgi.input_terminated": True},
    )
    assert response.status_code == 200


def test_order_creation_is_rate_limited(make_app: AppFactory, shop: FakeShop) -> None:
    client = make_app(ORDER_RATE_LIMIT="3/minute").test_client()
    statuses = [client.post("/api/v1/orders", json=ORDER_BODY).status_code for _ in range(4)]
    assert statuses == [200, 200, 200, 429]
    limited = client.post("/api/v1/orders", json=ORDER_BODY)
    assert limited.status_code == 429
    error = limited.get_json()["error"]
    assert error["code"] == "RESOURCE_EXHAUSTED"
    assert "too many orders" in error["message"]
    assert int(limited.headers["Retry-After"]) > 0
    assert len(shop.order.metadata("CreateOrder")) == 3
    assert client.get("/api/v1/products").status_code == 200  # reads are not limited
    other_client = client.post("/api/v1/orders", json=ORDER_BODY, environ_base={"REMOTE_ADDR": "10.0.0.9"})
    assert other_client.status_code == 200  # the limit is per client address


def test_admin_routes_need_the_token(client: FlaskClient, shop: FakeShop) -> None:
    missing = client.post("/api/v1/admin/products", json=NEW_PRODUCT)
    assert missing.status_code == 401
    assert missing.get_json()["error"]["code"] == "UNAUTHENTICATED"
    assert missing.headers["WWW-Authenticate"].startswith("Bearer")
    wrong = client.post("/api/v1/admin/products", json=NEW_PRODUCT, headers={"Authorization": "Bearer nope"})
    assert wrong.status_code == 403
    assert wrong.get_json()["error"]["code"] == "PERMISSION_DENIED"
    basic = client.post("/api/v1/admin/products", json=NEW_PRODUCT, headers={"Authorization": "Basic eDp5"})
    assert basic.status_code == 401
    assert shop.product.metadata("CreateProduct") == []  # refused at the gateway
    created = client.post(
        "/api/v1/admin/products", json=NEW_PRODUCT, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}
    )
    assert created.status_code == 200
    assert created.get_json()["id"] == "voucher-game"
    assert shop.product.metadata("CreateProduct")[-1]["authorization"] == f"Bearer {ADMIN_TOKEN}"


def test_security_headers_on_api_and_pages(client: FlaskClient) -> None:
    api = client.get("/api/v1/products")
    for response in (api, client.get("/api/v1/docs")):
        assert response.headers["X-Content-Type-Options"] == "nosniff"
        assert response.headers["X-Frame-Options"] == "DENY"
        assert response.headers["Referrer-Policy"] == "no-referrer"
        assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert api.headers["Content-Security-Policy"].startswith("default-src 'none'")
    page = client.get("/api/v1/docs")
    assert "script-src 'self'" in page.headers["Content-Security-Policy"]
