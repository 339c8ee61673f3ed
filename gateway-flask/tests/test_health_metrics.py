"""/healthz, /readyz and /metrics."""

from __future__ import annotations

from conftest import AppFactory
from fakes import FakeShop
from flask.testing import FlaskClient

from pasar_gateway.app import gateway_of


def test_healthz_says_the_process_is_up(client: FlaskClient, shop: FakeShop) -> None:
    shop.stop()
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok"}


def test_readyz_reports_each_backend(client: FlaskClient, shop: FakeShop) -> None:
    ready = client.get("/readyz")
    assert ready.status_code == 200
    assert ready.get_json() == {
        "status": "ready",
        "services": {name: {"status": "SERVING"} for name in ("fulfillment", "order", "payment", "product")},
    }
    shop.servers["payment"].stop()
    not_ready = client.get("/readyz")
    assert not_ready.status_code == 503
    body = not_ready.get_json()
    assert body["status"] == "not ready"
    assert body["services"]["payment"]["status"] == "UNREACHABLE"
    assert body["services"]["product"]["status"] == "SERVING"
    assert body["services"]["order"]["status"] == "SERVING"
    assert body["services"]["fulfillment"]["status"] == "SERVING"


def test_readyz_answers_within_its_timeout_when_a_backend_hangs(make_app: AppFactory, shop: FakeShop) -> None:
    import socket
    import time

    with socket.socket() as listener:  # accepts connections, never speaks HTTP/2
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        client = make_app(
            ORDER_ADDRESS=f"127.0.0.1:{listener.getsockname()[1]}", READINESS_TIMEOUT_SECONDS="0.3"
        ).test_client()
        started = time.perf_counter()
        response = client.get("/readyz")
        assert time.perf_counter() - started < 2
    assert response.status_code == 503
    assert response.get_json()["services"]["order"]["status"] == "UNREACHABLE"


def test_metrics_count_requests_backend_errors_and_breaker_states(
    make_app: AppFactory, shop: FakeShop
) -> None:
    client = make_app(BREAKER_FAILURES="1").test_client()
    client.get("/api/v1/products")
    client.get("/api/v1/products/nope")
    shop.servers["order"].stop()
    client.get(f"/api/v1/orders/ord_{'0' * 32}?token=x")
    text = gateway_of(client.application).metrics.exposition().decode()
    assert 'pasar_gateway_http_requests_total{method="GET",route="/api/v1/products",status="200"} 1.0' in text
    assert 'route="/api/v1/products/{id}",status="404"' in text
    assert (
        'pasar_gateway_http_request_duration_seconds_bucket{le="0.25",method="GET",route="/api/v1/products"}'
        in text
    )
    assert 'pasar_gateway_backend_errors_total{code="NOT_FOUND",service="product"} 1.0' in text
    assert 'pasar_gateway_backend_errors_total{code="UNAVAILABLE",service="order"} 1.0' in text
    assert 'pasar_gateway_circuit_breaker_state{service="order"} 2.0' in text
    assert 'pasar_gateway_circuit_breaker_state{service="product"} 0.0' in text
    assert 'pasar_gateway_catalog_cache_total{result="miss"} 1.0' in text


def test_metrics_are_not_served_on_the_public_origin(client: FlaskClient) -> None:
    response = client.get("/metrics")
    assert response.status_code == 404
    assert response.get_json()["error"]["code"] == "NOT_FOUND"
