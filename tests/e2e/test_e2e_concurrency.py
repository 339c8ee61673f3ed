"""Fifty shoppers, ten units: exactly ten orders, stock zero, nothing left behind."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import grpc
from conftest import StartShop

from pasar.order.v1 import order_pb2, order_service_pb2
from pasar.product.v1.error_reason_pb2 import ErrorReason as ProductErrorReason
from pasar_testkit.assertions import reason_of
from pasar_testkit.orders import create_order_request

ATTEMPTS = 50
STOCK = 10


def test_fifty_parallel_orders_for_ten_units(
    start_shop: StartShop, database_kind: str, figures: Callable[[str], None]
) -> None:
    shop = start_shop()
    package_id = shop.add_package(price=15_000, stock=STOCK)

    def buy(shopper: int) -> order_service_pb2.CreateOrderResponse | grpc.RpcError:
        request = create_order_request(
            (package_id, 1), request_id=f"shopper-{shopper}", email=f"pembeli{shopper}@example.co.id"
        )
        try:
            return shop.place(request)
        except grpc.RpcError as error:
            return error

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=ATTEMPTS) as pool:
        outcomes = list(pool.map(buy, range(ATTEMPTS)))
    duration = time.perf_counter() - started

    placed = [outcome for outcome in outcomes if isinstance(outcome, order_service_pb2.CreateOrderResponse)]
    refused = [outcome for outcome in outcomes if isinstance(outcome, grpc.RpcError)]
    refusals = Counter((error.code(), reason_of(error)) for error in refused)
    assert len(placed) == STOCK, refusals
    assert refusals == {
        (
            grpc.StatusCode.FAILED_PRECONDITION,
            ProductErrorReason.Name(ProductErrorReason.OUT_OF_STOCK),
        ): ATTEMPTS - STOCK
    }
    assert shop.stock(package_id) == 0
    assert all(response.order.state == order_pb2.ORDER_STATE_PENDING_PAYMENT for response in placed)
    assert len({response.order.id for response in placed}) == STOCK
    assert len({response.payment.id for response in placed}) == STOCK

    # Nothing is left behind by the refused forty: one order, one reservation and one
    # payment per placed order, and no other.
    order_ids = sorted(response.order.id for response in placed)
    assert sorted(str(row[0]) for row in shop.rows("order", "SELECT id FROM orders")) == order_ids
    assert sorted(shop.rows("product", "SELECT order_id, state FROM reservation")) == [
        (order_id, "RESERVED") for order_id in order_ids
    ]
    assert sorted(shop.rows("payment", "SELECT order_id, state FROM payment")) == [
        (order_id, "PENDING") for order_id in order_ids
    ]
    # How many got as far as ReserveStock (the others were refused on the stock the catalog showed).
    reserve_calls = Counter(
        call["code"] for call in shop.rpc_log("product") if call["method"].endswith("/ReserveStock")
    )
    figures(
        f"concurrency [{database_kind}]: {ATTEMPTS} CreateOrder attempted in parallel for stock {STOCK}: "
        f"{len(placed)} orders created, {len(refused)} OUT_OF_STOCK, final stock {shop.stock(package_id)}, "
        f"{duration:.2f} s (ReserveStock reached {sum(reserve_calls.values())} times: {dict(reserve_calls)})"
    )
