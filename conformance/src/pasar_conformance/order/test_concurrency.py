"""Checkouts at once: a stock of five sells five orders however many shoppers race for it,
stock never goes below zero, and a request_id retried at once places one order."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import grpc

from pasar.order.v1 import order_pb2
from pasar.order.v1 import order_service_pb2 as order_pb
from pasar.product.v1.error_reason_pb2 import ErrorReason as ProductReason
from pasar_conformance.answers import error_info, expect_reason, retrying
from pasar_conformance.order.shop import Shop

OUT_OF_STOCK = ProductReason.Name(ProductReason.OUT_OF_STOCK)
# The race: this many checkouts of one unit each, at once, on a stock of RACE_STOCK.
RACE_CALLS = 20
RACE_STOCK = 5
# Calls at once: every checkout of the race, or every retry of one request.
PARALLEL = RACE_CALLS


class StockWatcher(threading.Thread):
    """Reads a package's stock until stopped, keeping the lowest value seen."""

    def __init__(self, shop: Shop, package_id: str) -> None:
        super().__init__(daemon=True)
        self.shop, self.package_id = shop, package_id
        self.lowest: int | None = None
        self.done = threading.Event()

    def run(self) -> None:
        while not self.done.is_set():
            [units] = self.shop.stock(self.package_id)
            self.lowest = units if self.lowest is None else min(self.lowest, units)

    def __enter__(self) -> StockWatcher:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.done.set()
        self.join(timeout=10)


def checkout(
    shop: Shop, request: order_pb.CreateOrderRequest
) -> order_pb.CreateOrderResponse | grpc.RpcError:
    try:
        return shop.place(request)
    except grpc.RpcError as error:
        return error


def test_twenty_checkouts_of_a_stock_of_five_place_exactly_five_orders(shop: Shop) -> None:
    [package] = shop.packages((RACE_STOCK,))
    requests = [shop.request((package.id, 1)) for _ in range(RACE_CALLS)]
    with StockWatcher(shop, package.id) as watcher, ThreadPoolExecutor(PARALLEL) as pool:
        outcomes = list(pool.map(lambda request: checkout(shop, request), requests))
    placed = [o for o in outcomes if isinstance(o, order_pb.CreateOrderResponse)]
    refusals = [o for o in outcomes if isinstance(o, grpc.RpcError)]
    reasons = Counter(info.reason if (info := error_info(e)) else repr(e) for e in refusals)
    assert len(placed) == RACE_STOCK, f"{len(placed)} orders of a stock of {RACE_STOCK}; refusals {reasons}"
    assert reasons == {OUT_OF_STOCK: RACE_CALLS - RACE_STOCK}, reasons
    for error in refusals:
        expect_reason(error, OUT_OF_STOCK, metadata={"package_id": package.id, "requested": "1"})
    assert len({p.order.id for p in placed}) == RACE_STOCK
    assert all(p.order.state == order_pb2.ORDER_STATE_PENDING_PAYMENT for p in placed)
    assert watcher.lowest is not None
    assert watcher.lowest >= 0, f"stock went down to {watcher.lowest}"
    assert shop.stock(package.id) == [0]
    with ThreadPoolExecutor(RACE_STOCK) as pool:
        list(pool.map(lambda p: retrying(lambda: shop.cancel(p.order.id, p.access_token)), placed))
    shop.stock_becomes(package.id, RACE_STOCK)


def test_one_request_sent_many_times_at_once_places_one_order(shop: Shop) -> None:
    [package] = shop.packages((10,))
    request = shop.request((package.id, 2))
    with ThreadPoolExecutor(PARALLEL) as pool:
        answers = list(pool.map(lambda _n: shop.place(request), range(PARALLEL)))
    assert len({(a.order.id, a.access_token, a.payment.id) for a in answers}) == 1, answers
    assert shop.stock(package.id) == [8]


def test_an_order_cancelled_many_times_at_once_gives_its_stock_back_once(shop: Shop) -> None:
    [package] = shop.packages((10,))
    placed = shop.place(shop.request((package.id, 4)))
    with ThreadPoolExecutor(PARALLEL // 2) as pool:
        orders = list(
            pool.map(
                lambda _n: retrying(lambda: shop.cancel(placed.order.id, placed.access_token)),
                range(PARALLEL // 2),
            )
        )
    assert {order.state for order in orders} == {order_pb2.ORDER_STATE_CANCELLED}
    assert all(order == orders[0] for order in orders), "the cancels answered different orders"
    shop.stock_becomes(package.id, 10)
