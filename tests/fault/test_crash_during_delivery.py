"""Crash during delivery: kill -9 svc-fulfillment and svc-order while paid orders are delivered.

A bounded set of orders is placed over gRPC, each line with a destination the sandbox
biller delivers to, fails (endings 0000, 0001, 0002) or answers late (0009, a few seconds
here); some orders have one line of each. While the payments settle one after another
through the sandbox, svc-fulfillment (Go) and svc-order are killed with SIGKILL by PID,
in turn, several times, and started again. Once every order is final, the audit
(:mod:`delivery_audit`) reads the order, payment and fulfillment databases and the mail
folder: every paid line delivered exactly once or refunded once after a failed delivery,
never both and never neither; no refund without a failed delivery; every order final;
every delivery and refund e-mailed exactly once. Its counts go to the run's figures.

Runs on SQLite and on MariaDB (``PASAR_TEST_DATABASES`` narrows it).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import grpc
import pytest
from delivery_audit import audit_deliveries, unsettled_deliveries
from fault_shop import Databases, kill_component, make_stack

from pasar.order.v1 import order_service_pb2, order_service_pb2_grpc
from pasar.payment.v1 import payment_service_pb2, payment_service_pb2_grpc
from pasar.product.v1 import product_pb2
from pasar_testkit.callers import as_order_service
from pasar_testkit.catalog import (
    METER_NUMBER_FIELD,
    TELKOMSEL_PHONE_FIELD,
    Category,
    Package,
    Product,
    seed_over_grpc,
)
from pasar_testkit.failure_logs import FailureLogs
from pasar_testkit.stack import Stack
from pasar_testkit.waiting import wait_for

SERVICES_UNDER_TEST = ("product", "payment", "order", "fulfillment")
VICTIMS = ("fulfillment", "order")
ROUNDS = 4  # each victim is killed this many times
DOWN_SECONDS = 1.0
BETWEEN_SECONDS = 1.5
ORDERS = 36
PAY_INTERVAL_SECONDS = 0.4  # the payments settle across the kills
SETTLE_SECONDS = 120.0
LATE_SECONDS = 3  # the sandbox biller's answer to a destination ending in 0009
FULFILLMENT_ENV = {
    "PASAR_SANDBOX_BILLER_DELAY_SECONDS": "0.2",
    "PASAR_SANDBOX_BILLER_LATE_SECONDS": str(LATE_SECONDS),
    "PASAR_FULFILLMENT_EVENT_POLL_SECONDS": "0.2",
}

TOKEN_PACKAGE, CREDIT_PACKAGE = "token-listrik-uji-20k", "pulsa-uji-10k"
CATALOG = [
    Product(
        "token-listrik-uji",
        "Token Listrik Uji",
        "uji",
        [Package(TOKEN_PACKAGE, "Token 20.000", 20_000, 500)],
        destination_fields=[METER_NUMBER_FIELD],
        delivery_kind=product_pb2.DELIVERY_KIND_ELECTRICITY_TOKEN,
    ),
    Product(
        "pulsa-uji",
        "Pulsa Uji",
        "uji",
        [Package(CREDIT_PACKAGE, "Pulsa 10.000", 11_500, 500)],
        destination_fields=[TELKOMSEL_PHONE_FIELD],
        delivery_kind=product_pb2.DELIVERY_KIND_PHONE_CREDIT,
    ),
]
# The orders, in turn: per line, (package, the destination's last four digits).
# "1234" is delivered at once, "0009" late; 0000, 0001 and 0002 fail.
MIXES = [
    [(TOKEN_PACKAGE, "1234")],
    [(CREDIT_PACKAGE, "0000")],
    [(TOKEN_PACKAGE, "0009")],
    [(TOKEN_PACKAGE, "1234"), (CREDIT_PACKAGE, "0001")],
    [(CREDIT_PACKAGE, "0009"), (TOKEN_PACKAGE, "5678")],
    [(TOKEN_PACKAGE, "0002"), (CREDIT_PACKAGE, "0000")],
]
FAILING_ENDINGS = ("0000", "0001", "0002")


def destination(package_id: str, number: int, ending: str) -> dict[str, str]:
    """A destination of the package's product, unique to the order, ending as asked."""
    if package_id == TOKEN_PACKAGE:
        return {"meter_number": f"14{number:05d}{ending}"}
    return {"phone_number": f"0812{number:04d}{ending}"}


@pytest.fixture
def delivery_stack(
    service_databases: dict[str, str], tmp_path: Path, failure_logs: FailureLogs
) -> Iterator[Stack]:
    with make_stack(tmp_path / "shop", service_databases, fulfillment=FULFILLMENT_ENV) as stack:
        failure_logs.add("the shop", stack.logs)
        stack.start(*SERVICES_UNDER_TEST)
        yield stack


def place_orders(stack: Stack) -> tuple[list[str], dict[tuple[str, str], bool]]:
    """The orders' payment ids, and per line (order id, package id) whether it must fail."""
    payment_ids: list[str] = []
    expected_failures: dict[tuple[str, str], bool] = {}
    with grpc.insecure_channel(stack.address("order")) as channel:
        orders = order_service_pb2_grpc.OrderServiceStub(channel)
        for number in range(ORDERS):
            mix = MIXES[number % len(MIXES)]
            placed: order_service_pb2.CreateOrderResponse = orders.CreateOrder(
                order_service_pb2.CreateOrderRequest(
                    customer_email=f"pembeli{number}@example.co.id",
                    lines=[
                        order_service_pb2.CreateOrderLine(
                            package_id=package,
                            quantity=1 + number % 2,
                            destination=destination(package, number, ending),
                        )
                        for package, ending in mix
                    ],
                    payment_channel_code="qris",
                ),
                timeout=15,
            )
            payment_ids.append(placed.payment.id)
            for package, ending in mix:
                expected_failures[(placed.order.id, package)] = ending in FAILING_ENDINGS
    return payment_ids, expected_failures


def pay_gradually(stack: Stack, payment_ids: list[str], stop: threading.Event, paid_at: list[float]) -> None:
    """Settles the payments through the sandbox, one every PAY_INTERVAL_SECONDS; paid_at
    gets the time of each (time.monotonic)."""
    with grpc.insecure_channel(stack.address("payment")) as channel:
        payments = payment_service_pb2_grpc.PaymentServiceStub(as_order_service(channel))
        for payment_id in payment_ids:
            payments.SimulatePayment(payment_service_pb2.SimulatePaymentRequest(id=payment_id), timeout=15)
            paid_at.append(time.monotonic())
            if stop.wait(PAY_INTERVAL_SECONDS):
                return


def test_every_paid_line_is_delivered_once_or_refunded_when_services_crash(
    delivery_stack: Stack,
    service_databases: dict[str, str],
    database_kind: str,
    figures: Callable[[str], None],
    tally: Callable[..., None],
) -> None:
    stack = delivery_stack
    with grpc.insecure_channel(stack.address("product")) as channel:
        seed_over_grpc(channel, [Category("uji", "Uji", 1)], CATALOG)
    payment_ids, expected_failures = place_orders(stack)
    databases = Databases(service_databases)

    stop, paid_at, down = threading.Event(), list[float](), list[tuple[str, float, float]]()
    payer = threading.Thread(target=pay_gradually, args=(stack, payment_ids, stop, paid_at), name="payer")
    started = time.monotonic()
    payer.start()
    kills = 0
    try:
        for _ in range(ROUNDS):
            for victim in VICTIMS:
                time.sleep(BETWEEN_SECONDS)
                killed = time.monotonic()
                kill_component(stack, victim)  # SIGKILL by the PID this test started
                kills += 1
                time.sleep(DOWN_SECONDS)
                stack[victim].start()
                down.append((victim, killed, time.monotonic()))
    except BaseException:
        stop.set()
        raise
    finally:
        payer.join(timeout=60)
    load_seconds = time.monotonic() - started

    try:
        wait_for(lambda: not unsettled_deliveries(databases), SETTLE_SECONDS, "the deliveries to settle", 0.5)
    except AssertionError:
        raise AssertionError(
            f"not settled within {SETTLE_SECONDS}s: {unsettled_deliveries(databases)}"
        ) from None
    settled_seconds = time.monotonic() - started
    found = audit_deliveries(databases, stack.mail_dir, expected_failures)
    paid_while_down = {
        victim: sum(
            1 for paid in paid_at for name, start, end in down if name == victim and start <= paid <= end
        )
        for victim in VICTIMS
    }

    figures(
        f"crash during delivery ({database_kind}): svc-fulfillment and svc-order killed with SIGKILL "
        f"{kills} times in {load_seconds:.0f} s while {ORDERS} orders were paid (paid while down: "
        f"{paid_while_down}); all final after {settled_seconds:.0f} s; {found.figures()}; "
        f"inconsistencies found {len(found.problems)}"
    )
    tally({"orders placed": ORDERS, "faults injected": kills, "inconsistencies found": len(found.problems)})
    assert not found.problems, "\n".join(found.problems[:50])
    assert found.counts["lines delivered"] == sum(not fails for fails in expected_failures.values())
    assert found.counts["lines refunded"] == sum(expected_failures.values())
