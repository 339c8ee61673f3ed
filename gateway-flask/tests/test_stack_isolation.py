"""The study's experiment, automated for each service: stop it, its routes answer 503 fast while
every other route keeps answering 200, start it again, and its routes work again through the
same gateway process.

The figures (how long an order route takes to answer 503 with svc-order stopped, first request
and later ones) are printed; run with ``-s`` to see them.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass

import pytest
import requests
from fakes import DEPENDENCY_UNAVAILABLE, error_info
from stack_support import (
    METER_PRODUCT_ID,
    PACKAGE_ID,
    PRODUCT_ID,
    QRIS,
    Shop,
    line,
    running_shop,
    wait_until,
)

# Every gateway worker has its own breaker: a few requests reach each before all are open.
REQUESTS_WHILE_DOWN = 20
FAST = 1.0  # seconds: the slowest acceptable 503, even on a loaded machine (typical: a few ms)
BREAKER_RESET_SECONDS = "1"
CACHE_TTL_SECONDS = "1"


@dataclass(frozen=True)
class Route:
    method: str
    path: str
    body: Mapping[str, object] | None = None
    # Other services the route needs: placing an order reads prices and creates the payment,
    # a destination look-up reads the product's destination fields.
    needs: frozenset[str] = frozenset()


@pytest.fixture(scope="module")
def shop(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shop]:
    yield from running_shop(
        tmp_path_factory.mktemp("stack"),
        {
            "PASAR_BREAKER_RESET_SECONDS": BREAKER_RESET_SECONDS,
            "PASAR_CATALOG_CACHE_TTL_SECONDS": CACHE_TTL_SECONDS,
            "PASAR_ORDER_RATE_LIMIT": "off",
        },
    )


@pytest.fixture(scope="module")
def routes(shop: Shop) -> dict[str, list[Route]]:
    """The routes of each service, with ids of records that exist."""
    placed = shop.place_order()
    order_id, token, payment_id = placed["order"]["id"], placed["accessToken"], placed["order"]["paymentId"]
    order_body = {
        "customerEmail": "budi@example.com",
        "lines": [line(PACKAGE_ID)],
        "paymentChannelCode": QRIS,
    }
    return {
        "product": [
            Route("GET", "/api/v1/products"),
            Route("GET", f"/api/v1/products/{PRODUCT_ID}"),
            Route("GET", f"/api/v1/product/{PRODUCT_ID}"),
            Route("GET", "/api/v1/categories"),
        ],
        "payment": [
            Route("GET", "/api/v1/payment-channels"),
            Route("GET", "/api/v1/payments"),
            Route("GET", f"/api/v1/payments/{payment_id}"),
            Route("GET", f"/api/v1/payment/{payment_id}"),
        ],
        "order": [
            Route("GET", f"/api/v1/orders/{order_id}?token={token}"),
            Route("GET", f"/api/v1/order/{order_id}?token={token}"),
            Route("POST", "/api/v1/orders", order_body, needs=frozenset({"product", "payment"})),
        ],
        "fulfillment": [
            Route(
                "POST",
                "/api/v1/destinations:lookup",
                {"productId": METER_PRODUCT_ID, "destination": {"meter_number": "14234567890"}},
                needs=frozenset({"product"}),
            ),
        ],
    }


def call(shop: Shop, route: Route) -> tuple[requests.Response, float]:
    started = time.perf_counter()
    response = requests.request(route.method, shop.url + route.path, json=route.body, timeout=30)
    return response, time.perf_counter() - started


def answers(shop: Shop, route: Route, status: int) -> Callable[[], bool]:
    return lambda: call(shop, route)[0].status_code == status


def recovered(shop: Shop, route: Route) -> Callable[[], bool]:
    """Several answers in a row: every gateway worker's breaker has closed again."""
    return lambda: all(call(shop, route)[0].status_code == 200 for _ in range(6))


@pytest.mark.parametrize("service", ["order", "product", "payment", "fulfillment"])
def test_stopping_a_service_takes_down_only_its_own_routes(
    shop: Shop, routes: dict[str, list[Route]], service: str
) -> None:
    gateway_pid = shop.stack["gateway"].process.pid  # type: ignore[union-attr]
    for route in (route for routes_of in routes.values() for route in routes_of):
        response = call(shop, route)[0]
        assert response.status_code == 200, (route, response.text)

    shop.stack[service].stop()
    stopped_at = time.perf_counter()
    time.sleep(float(CACHE_TTL_SECONDS))  # let cached catalog reads expire: then nothing hides the outage
    own = routes[service]
    timings = []
    for index in range(REQUESTS_WHILE_DOWN):
        route = own[index % len(own)]
        response, seconds = call(shop, route)
        timings.append(seconds)
        assert response.status_code == 503, (route, response.text)
        error = response.json()["error"]
        assert error["code"] == "UNAVAILABLE"
        info = error_info(response.json())
        assert info["reason"] == DEPENDENCY_UNAVAILABLE
        assert info["metadata"]["service"].startswith(f"pasar.{service}.v1."), info
        assert seconds < FAST, (route, seconds)
    for other, other_routes in routes.items():
        if other == service:
            continue
        for route in other_routes:
            response, seconds = call(shop, route)
            if service in route.needs:
                # The order service answers itself, DEPENDENCY_UNAVAILABLE naming the peer,
                # without the peer's internal address; its breaker stays closed.
                assert response.status_code == 503, (service, route, response.text)
                info = error_info(response.json())
                assert info["reason"] == DEPENDENCY_UNAVAILABLE
                assert info["metadata"]["service"].startswith(f"pasar.{service}.v1."), info
                assert "127.0.0.1" not in response.json()["error"]["message"]
            else:
                assert response.status_code == 200, (service, route, response.text)
            assert seconds < FAST
    readiness = requests.get(shop.url + "/readyz", timeout=10)
    assert readiness.status_code == 503
    assert readiness.json()["services"][service]["status"] != "SERVING"
    print(
        f"\n{service} stopped: first 503 after {timings[0] * 1000:.1f} ms, later ones median "
        f"{statistics.median(timings[1:]) * 1000:.1f} ms, max {max(timings[1:]) * 1000:.1f} ms "
        f"({len(timings)} requests, {time.perf_counter() - stopped_at:.1f} s after the stop)"
    )

    shop.stack.start(service)
    # Its own routes, and those of services that call it (the order service's channel to a
    # restarted peer reconnects after its own backoff), work again.
    for route in (*own, *(r for routes_of in routes.values() for r in routes_of if service in r.needs)):
        wait_until(recovered(shop, route), timeout=20)
    assert shop.stack["gateway"].process.pid == gateway_pid  # type: ignore[union-attr]  # no restart


@pytest.mark.parametrize("which", [0, 2], ids=["GET order", "POST orders"])
def test_the_first_order_request_after_the_stop_is_fast(
    shop: Shop, routes: dict[str, list[Route]], which: int
) -> None:
    """The study's measure: an order route right after svc-order stopped, then later ones."""
    for route in routes["order"]:
        wait_until(recovered(shop, route), timeout=20)
    shop.stack["order"].stop()
    try:
        route = routes["order"][which]
        first_response, first = call(shop, route)
        later = [call(shop, route) for _ in range(REQUESTS_WHILE_DOWN)]
        assert first_response.status_code == 503
        assert all(response.status_code == 503 for response, _ in later)
        later_seconds = [seconds for _, seconds in later]
        assert first < FAST
        assert max(later_seconds) < FAST
        print(
            f"\n{route.method} {route.path.split('?')[0]} with svc-order stopped: "
            f"first {first * 1000:.1f} ms; "
            f"next {len(later)}: median {statistics.median(later_seconds) * 1000:.1f} ms, "
            f"max {max(later_seconds) * 1000:.1f} ms"
        )
    finally:
        shop.stack.start("order")
    for route in routes["order"]:
        wait_until(recovered(shop, route), timeout=20)
