"""One service down or slow affects only its own routes; they recover by themselves (fake services)."""

from __future__ import annotations

import time

import grpc
import pytest
from conftest import AppFactory
from fakes import DEPENDENCY_UNAVAILABLE, FakeShop, error_info
from flask.testing import FlaskClient

from pasar_gateway.app import gateway_of
from pasar_gateway.breaker import BreakerState

ORDER_BODY = {
    "customerEmail": "budi@example.com",
    "lines": [{"packageId": "pulsa-nusantara-10k", "quantity": 1}],
    "paymentChannelCode": "bca_va",
}


def test_a_stopped_service_answers_503_fast_and_the_others_keep_answering(
    make_app: AppFactory, shop: FakeShop
) -> None:
    app = make_app(CATALOG_CACHE="false", BREAKER_FAILURES="2", BREAKER_RESET_SECONDS="30")
    client = app.test_client()
    assert client.post("/api/v1/orders", json=ORDER_BODY).status_code == 200
    shop.servers["order"].stop()

    durations = []
    for _ in range(5):
        started = time.perf_counter()
        response = client.post("/api/v1/orders", json=ORDER_BODY)
        durations.append(time.perf_counter() - started)
        assert response.status_code == 503
        error = response.get_json()["error"]
        assert error["code"] == "UNAVAILABLE"
        info = error_info(response.get_json())
        assert info["reason"] == DEPENDENCY_UNAVAILABLE
        assert info["metadata"] == {"service": "pasar.order.v1.OrderService"}
    assert gateway_of(app).backends["order"].breaker.state == BreakerState.OPEN
    assert max(durations[2:]) < 0.05  # the breaker answers without touching the network
    assert client.post("/api/v1/orders", json=ORDER_BODY).headers["Retry-After"]

    assert client.get("/api/v1/products").status_code == 200
    assert client.get("/api/v1/payment-channels").status_code == 200


def test_a_lookup_with_the_fulfillment_service_down_is_503_and_orders_still_go_through(
    make_app: AppFactory, shop: FakeShop
) -> None:
    """Delivery is the one part that waits: shoppers still browse and order without svc-fulfillment."""
    client = make_app(CATALOG_CACHE="false").test_client()
    shop.servers["fulfillment"].stop()
    lookup = {"productId": "token-pln", "destination": {"meter_number": "12345678901"}}
    response = client.post("/api/v1/destinations:lookup", json=lookup)
    assert response.status_code == 503
    assert response.get_json()["error"]["code"] == "UNAVAILABLE"
    assert error_info(response.get_json())["metadata"] == {
        "service": "pasar.fulfillment.v1.FulfillmentService"
    }
    assert client.get("/api/v1/products/token-pln").status_code == 200
    assert client.post("/api/v1/orders", json=ORDER_BODY).status_code == 200
    assert client.get("/readyz").get_json()["services"]["fulfillment"]["status"] == "UNREACHABLE"


def test_the_routes_recover_when_the_service_returns(make_app: AppFactory, shop: FakeShop) -> None:
    app = make_app(BREAKER_FAILURES="1", BREAKER_RESET_SECONDS="0.2")
    client = app.test_client()
    shop.servers["order"].stop()
    assert client.post("/api/v1/orders", json=ORDER_BODY).status_code == 503
    shop.servers["order"].start()
    deadline = time.monotonic() + 10
    status = 0
    while time.monotonic() < deadline:
        status = client.post("/api/v1/orders", json=ORDER_BODY).status_code
        if status == 200:
            break
        time.sleep(0.1)
    assert status == 200
    assert gateway_of(app).backends["order"].breaker.state == BreakerState.CLOSED


def test_a_slow_service_answers_504_within_its_deadline(make_app: AppFactory, shop: FakeShop) -> None:
    app = make_app(PAYMENT_DEADLINE_SECONDS="0.2", CATALOG_CACHE="false")
    client = app.test_client()
    shop.payment.delay = 1.0
    started = time.perf_counter()
    response = client.get("/api/v1/payment-channels")
    assert time.perf_counter() - started < 0.9
    assert response.status_code == 504
    error = response.get_json()["error"]
    assert error["code"] == "DEADLINE_EXCEEDED"
    assert "payment service" in error["message"]
    assert client.get("/api/v1/products").status_code == 200


def test_a_service_that_answers_unavailable_itself_does_not_open_its_breaker(
    make_app: AppFactory, shop: FakeShop
) -> None:
    """The order service answering UNAVAILABLE (say, the catalog behind it is down) is up."""
    app = make_app(BREAKER_FAILURES="1")
    client = app.test_client()
    shop.order.fail_with = grpc.StatusCode.UNAVAILABLE
    for _ in range(3):
        response = client.post("/api/v1/orders", json=ORDER_BODY)
        assert response.status_code == 503
        assert "told to fail" in response.get_json()["error"]["message"]
    assert gateway_of(app).backends["order"].breaker.state == BreakerState.CLOSED
    shop.order.fail_with = None
    assert client.post("/api/v1/orders", json=ORDER_BODY).status_code == 200


@pytest.mark.parametrize("backend", ["product", "payment", "order"])
def test_each_backend_has_its_own_channel_and_breaker(app: object, backend: str) -> None:
    import flask

    assert isinstance(app, flask.Flask)
    backends = gateway_of(app).backends
    others = [other for name, other in backends.items() if name != backend]
    assert all(backends[backend].channel is not other.channel for other in others)
    assert all(backends[backend].breaker is not other.breaker for other in others)


def test_request_id_travels_to_the_service_and_back(client: FlaskClient, shop: FakeShop) -> None:
    response = client.get("/api/v1/products", headers={"X-Request-Id": "req-abc.123"})
    assert response.headers["X-Request-Id"] == "req-abc.123"
    assert shop.product.metadata("ListProducts")[-1]["x-request-id"] == "req-abc.123"
    made_up = client.get("/api/v1/categories", headers={"X-Request-Id": "bad id\u00e9 with spaces"})
    request_id = made_up.headers["X-Request-Id"]
    assert request_id != "bad id\u00e9 with spaces"
    assert len(request_id) == 32
    assert shop.product.metadata("ListCategories")[-1]["x-request-id"] == request_id
