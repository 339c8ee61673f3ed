"""From "Beli" to delivery: the time a purchase takes to be delivered, and checkout with
fulfillment in the path.

A purchase is what the storefront does: ``POST /api/v1/orders`` through the gateway (one
electricity token to a PLN meter), ``POST /api/v1/payments/{id}:simulate`` (the sandbox
payment), then ``GET /api/v1/orders/{id}`` until the order is ``ORDER_STATE_FULFILLED``:
the order service has asked svc-fulfillment (Go) through its outbox, the sandbox biller
has answered (at once: ``PASAR_SANDBOX_BILLER_DELAY_SECONDS=0``) and the order service has
read the fulfillment event. Two figures:

- purchase to delivery: purchases one after another (no queueing in the figure), each
  timed from the order's POST to the GET that first shows it FULFILLED (polled every
  10 ms); p50 and p99 over the samples (target: p99 under 2 s).
- checkout with fulfillment: shoppers on threads order and pay for a fixed time (a
  closed loop, like wrk's connections); every purchase is then awaited until delivered.
  Requests per second (the order's POST and the payment's) beside the servers' CPU
  milliseconds per request: the user and system time, from /proc, of the gateway's
  processes, the three Python services and svc-fulfillment from the start of the load
  until every purchase is FULFILLED (read from the order database, which costs the
  servers nothing), so the deliveries' work is counted. The client's own CPU share is
  reported too: it is Python, on the same two cores.
"""

from __future__ import annotations

import statistics
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import grpc
import requests

from bench.cpu import cpu_seconds
from bench.stock_check import rows
from pasar.product.v1 import product_pb2
from pasar_testkit.catalog import METER_NUMBER_FIELD, Category, Package, Product, seed_over_grpc

PRODUCT_ID, PACKAGE_ID = "token-bench", "token-bench-20k"
METER = {"meter_number": METER_NUMBER_FIELD.example}  # the demo catalog's example meter: delivered
CHANNEL = "qris"
POLL_SECONDS = 0.01
DELIVERY_TIMEOUT_SECONDS = 30.0
FULFILLED = "ORDER_STATE_FULFILLED"


class DeliveryError(RuntimeError):
    """A purchase was refused or not delivered in time."""


def seed_delivered_product(product_address: str, stock: int = 1_000_000) -> None:
    """The electricity token the scenarios buy, with its meter-number field."""
    product = Product(
        PRODUCT_ID,
        "Token Listrik Bench",
        "bench-kirim",
        [Package(PACKAGE_ID, "Token 20.000", 20_000, stock)],
        destination_fields=[METER_NUMBER_FIELD],
        delivery_kind=product_pb2.DELIVERY_KIND_ELECTRICITY_TOKEN,
    )
    with grpc.insecure_channel(product_address) as channel:
        seed_over_grpc(channel, [Category("bench-kirim", "Bench", 99)], [product])


@dataclass(frozen=True)
class Placed:
    order_id: str
    token: str
    started: float


def buy(session: requests.Session, base_url: str) -> Placed:
    """Places the order and pays it, as the storefront's "Beli" and the sandbox's pay button."""
    started = time.perf_counter()
    answer = session.post(
        f"{base_url}/api/v1/orders",
        json={
            "customerEmail": "pembeli@example.co.id",
            "lines": [{"packageId": PACKAGE_ID, "quantity": 1, "destination": METER}],
            "paymentChannelCode": CHANNEL,
        },
        headers={"Idempotency-Key": uuid.uuid4().hex},
        timeout=10,
    )
    if answer.status_code != 200:
        raise DeliveryError(f"POST /api/v1/orders: {answer.status_code} {answer.text[:300]}")
    placed = answer.json()
    paid = session.post(f"{base_url}/api/v1/payments/{placed['payment']['id']}:simulate", timeout=10)
    if paid.status_code != 200:
        raise DeliveryError(f"simulate: {paid.status_code} {paid.text[:300]}")
    return Placed(placed["order"]["id"], placed["accessToken"], started)


def wait_delivered(session: requests.Session, base_url: str, placed: Placed) -> float:
    """Polls the order until it is FULFILLED; returns when that was seen (perf_counter)."""
    deadline = time.monotonic() + DELIVERY_TIMEOUT_SECONDS
    state = ""
    while time.monotonic() < deadline:
        answer = session.get(
            f"{base_url}/api/v1/orders/{placed.order_id}", params={"token": placed.token}, timeout=10
        )
        state = answer.json().get("state", "") if answer.status_code == 200 else f"HTTP {answer.status_code}"
        if state == FULFILLED:
            return time.perf_counter()
        if state in ("ORDER_STATE_REFUNDED", "ORDER_STATE_CANCELLED", "ORDER_STATE_EXPIRED"):
            break
        time.sleep(POLL_SECONDS)
    raise DeliveryError(f"order {placed.order_id} not delivered: last state {state or 'unknown'}")


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (share in 0..1) of values."""
    ordered = sorted(values)
    rank = max(1, min(len(ordered), round(share * len(ordered) + 0.5)))
    return ordered[rank - 1]


def purchase_to_delivery(base_url: str, purchases: int) -> dict[str, Any]:
    """Purchases one after another, each timed from "Beli" to FULFILLED."""
    durations: list[float] = []
    with requests.Session() as session:
        for _ in range(purchases):
            placed = buy(session, base_url)
            durations.append((wait_delivered(session, base_url, placed) - placed.started) * 1000)
    return {
        "purchase_to_delivery_p50_ms": round(statistics.median(durations), 1),
        "purchase_to_delivery_p99_ms": round(percentile(durations, 0.99), 1),
        "purchase_to_delivery_max_ms": round(max(durations), 1),
        "purchase_to_delivery_samples": len(durations),
    }


@dataclass
class CheckoutLoad:
    """Shoppers on threads buying (order and pay) until the time is up."""

    base_url: str
    shoppers: int
    placed: list[Placed] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def run(self, seconds: float) -> None:
        lock, deadline = threading.Lock(), time.monotonic() + seconds

        def shop() -> None:
            with requests.Session() as session:
                while time.monotonic() < deadline:
                    try:
                        placed = buy(session, self.base_url)
                    except (DeliveryError, requests.RequestException) as error:
                        with lock:
                            self.errors.append(str(error))
                        continue
                    with lock:
                        self.placed.append(placed)

        threads = [threading.Thread(target=shop, name=f"buyer-{n}") for n in range(self.shoppers)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()


def fulfilled_orders(order_url: str, order_ids: list[str]) -> int:
    """How many of the orders are FULFILLED, read from the order database (no server work)."""
    fulfilled = {str(row[0]) for row in rows(order_url, "SELECT id FROM orders WHERE state = 'FULFILLED'")}
    return sum(1 for order_id in order_ids if order_id in fulfilled)


def checkout_with_fulfillment(
    base_url: str, order_url: str, server_pids: Callable[[], Mapping[str, int]], seconds: float, shoppers: int
) -> dict[str, Any]:
    """Checkout throughput, and the servers' CPU per request until every purchase is delivered."""
    pids = dict(server_pids())
    servers_before, client_before = cpu_seconds(pids), time.process_time()
    started = time.monotonic()
    load = CheckoutLoad(base_url, shoppers)
    load.run(seconds)
    elapsed = time.monotonic() - started
    client_cpu = time.process_time() - client_before
    order_ids = [placed.order_id for placed in load.placed]
    deadline = time.monotonic() + DELIVERY_TIMEOUT_SECONDS
    while (delivered := fulfilled_orders(order_url, order_ids)) < len(
        order_ids
    ) and time.monotonic() < deadline:
        time.sleep(0.2)
    drained = time.monotonic() - started - elapsed
    servers_cpu = cpu_seconds(pids) - servers_before
    requests_made = 2 * len(load.placed)  # the order's POST and the payment's
    return {
        "checkout_with_fulfillment_rps": round(requests_made / elapsed, 1),
        "checkout_with_fulfillment_purchases_per_s": round(len(load.placed) / elapsed, 1),
        "checkout_with_fulfillment_cpu_ms_per_request": (
            round(servers_cpu * 1000 / requests_made, 2) if requests_made else None
        ),
        "checkout_with_fulfillment_client_cpu_cores": round(client_cpu / elapsed, 3),
        "checkout_with_fulfillment_shoppers": shoppers,
        "checkout_with_fulfillment_seconds": round(elapsed, 1),
        "checkout_with_fulfillment_delivery_drain_seconds": round(drained, 1),
        "checkout_with_fulfillment_purchases": len(load.placed),
        "checkout_with_fulfillment_delivered": delivered,
        "checkout_with_fulfillment_errors": len(load.errors),
        "checkout_with_fulfillment_first_errors": load.errors[:5],
    }
