"""A payment settled while svc-order is down: when it returns, the order is paid and mailed."""

from __future__ import annotations

import time
from collections.abc import Callable

from conftest import StartShop

from pasar.order.v1 import order_pb2
from pasar.payment.v1 import payment_pb2
from pasar_testkit.orders import create_order_request
from pasar_testkit.waiting import wait_for


def test_the_order_service_catches_up_after_an_outage(
    start_shop: StartShop, database_kind: str, figures: Callable[[str], None]
) -> None:
    shop = start_shop()
    package_id = shop.add_package(price=20_000, stock=3)
    placed = shop.place(create_order_request((package_id, 1), channel="bni_va"))
    wait_for(lambda: shop.mails(placed.order.id, "order_created"), what="the first e-mail")

    shop.stack["order"].kill()  # a crash: no shutdown code runs
    paid = shop.simulate(placed.payment.id)
    assert paid.state == payment_pb2.PAYMENT_STATE_PAID
    assert shop.rows("order", "SELECT state FROM orders") == [("PENDING_PAYMENT",)]

    restarted = time.perf_counter()
    shop.stack.start("order")
    serving = time.perf_counter()
    order = shop.wait_until_paid(placed.order.id, placed.access_token)
    paid_at = time.perf_counter()
    [mail] = wait_for(lambda: shop.mails(placed.order.id, "payment_received"), what="the payment e-mail")
    mailed_at = time.perf_counter()

    assert order.paid_time == paid.paid_time
    assert mail["To"] == "budi@example.co.id"
    wait_for(
        lambda: (
            shop.rows("product", "SELECT state FROM reservation WHERE order_id = ?", (order.id,))
            == [("COMMITTED",)]
        ),
        what="the reservation is committed",
    )
    assert shop.stock(package_id) == 2
    shop.wait_for_order_state(order.id, placed.access_token, order_pb2.ORDER_STATE_FULFILLED)
    wait_for(lambda: shop.mails(order.id, "delivered"), what="the delivery e-mail")
    kinds = [mail["X-Pasar-Email-Kind"] for mail in shop.mails(order.id)]
    assert kinds == ["order_created", "payment_received", "delivered"]  # "order created" was not sent again
    figures(
        f"outage [{database_kind}]: svc-order killed, payment settled, restarted: serving after "
        f"{serving - restarted:.2f} s, order PAID after {paid_at - restarted:.2f} s, "
        f'"payment received" e-mail written after {mailed_at - restarted:.2f} s (from the restart command)'
    )
