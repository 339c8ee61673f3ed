"""Delivery across the Go and Python services: a paid line is delivered, or its price goes back.

The shop runs svc-fulfillment (Go, its sandbox biller) beside the three Python services.
A purchase is placed through OrderService with the line's destination, paid through the
sandbox, and followed to its end: FULFILLED with what the biller delivered, or REFUNDED
with the payment's refunds, the e-mail telling either, and the fulfillment service's own
rows. The sandbox biller fails any destination ending in 0000 (DESTINATION_NOT_FOUND) and
delivers to every other valid one.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from functools import partial

import grpc
from conftest import StartShop
from e2e_shop import Shop

from pasar.common.v1.error_reason_pb2 import ErrorReason as CommonErrorReason
from pasar.fulfillment.v1 import fulfillment_pb2
from pasar.fulfillment.v1.error_reason_pb2 import ErrorReason as FulfillmentErrorReason
from pasar.order.v1 import order_pb2, order_service_pb2
from pasar.payment.v1 import payment_pb2
from pasar.product.v1 import product_pb2
from pasar_testkit.assertions import error_metadata, reason_of, refused, violated_fields
from pasar_testkit.catalog import METER_NUMBER_FIELD, TELKOMSEL_PHONE_FIELD
from pasar_testkit.mail import body_text
from pasar_testkit.waiting import wait_for

DELIVERED_MAIL = "delivered"
REFUNDED_MAIL = "refunded"
METER = {"meter_number": METER_NUMBER_FIELD.example}
PHONE = {"phone_number": TELKOMSEL_PHONE_FIELD.example}
UNKNOWN_PHONE = {"phone_number": "081234560000"}  # the sandbox biller knows no such number
TOKEN = re.compile(r"[0-9]{4}(-[0-9]{4}){4}")  # 20 digits in groups of four
SERIAL = re.compile(r"[0-9]{16,20}")
BCA_FEE = 4_000  # BCA virtual account: a flat fee


def order_request(*lines: tuple[str, int, Mapping[str, str]]) -> order_service_pb2.CreateOrderRequest:
    """A shopper's order: (package id, quantity, destination) per line, paid by BCA transfer."""
    return order_service_pb2.CreateOrderRequest(
        customer_email="sari@example.co.id",
        lines=[
            order_service_pb2.CreateOrderLine(package_id=package, quantity=quantity, destination=destination)
            for package, quantity, destination in lines
        ],
        payment_channel_code="bca_va",
    )


def rupiah(amount: int) -> str:
    return f"Rp {amount:,}".replace(",", ".")


def fulfillment_rows(shop: Shop, order_id: str) -> int:
    [(count,)] = shop.rows("fulfillment", "SELECT COUNT(*) FROM fulfillments WHERE order_id = ?", (order_id,))
    return int(count)


def test_a_paid_electricity_token_is_delivered_and_mailed(start_shop: StartShop) -> None:
    shop = start_shop()
    product_id, [package_id] = shop.add_delivered_product(
        product_pb2.DELIVERY_KIND_ELECTRICITY_TOKEN, [METER_NUMBER_FIELD], [20_000]
    )
    placed = shop.place(order_request((package_id, 1, METER)))
    assert placed.order.lines[0].destination == METER
    assert not placed.order.lines[0].HasField("fulfillment")

    order = shop.pay_and_wait(placed, order_pb2.ORDER_STATE_FULFILLED)

    [line] = order.lines
    fulfillment = line.fulfillment
    assert fulfillment.state == fulfillment_pb2.FULFILLMENT_STATE_SUCCEEDED
    assert (fulfillment.order_id, fulfillment.package_id, fulfillment.product_id) == (
        order.id,
        package_id,
        product_id,
    )
    assert fulfillment.delivery_kind == product_pb2.DELIVERY_KIND_ELECTRICITY_TOKEN
    assert fulfillment.quantity == 1
    assert fulfillment.amount == line.line_total
    assert fulfillment.destination == METER
    assert fulfillment.biller == "sandbox"
    [delivery] = fulfillment.deliveries
    assert TOKEN.fullmatch(delivery.token), delivery.token
    assert delivery.kwh == "13.84"  # 20.000 rupiah at 1.444,70 rupiah a kWh
    assert SERIAL.fullmatch(delivery.serial_number), delivery.serial_number
    assert fulfillment.HasField("complete_time")
    assert order.HasField("complete_time")
    assert not line.HasField("refund")
    assert order.refunded_total.amount == 0
    assert shop.fulfillment(fulfillment.id) == fulfillment  # the order shows the service's record
    payment = shop.payment(placed.payment.id)
    assert payment.state == payment_pb2.PAYMENT_STATE_PAID
    assert list(payment.refunds) == []

    [mail] = wait_for(lambda: shop.mails(order.id, DELIVERED_MAIL), what="the delivery e-mail")
    assert mail["To"] == "sari@example.co.id"
    text, html = body_text(mail)
    assert delivery.token in text
    assert delivery.token in html
    assert "13.84" in text or "13,84" in text
    assert fulfillment_rows(shop, order.id) == 1
    assert shop.mails(order.id, REFUNDED_MAIL) == []


def test_a_phone_credit_the_biller_cannot_deliver_is_refunded_with_the_fee(start_shop: StartShop) -> None:
    shop = start_shop()
    _, [package_id] = shop.add_delivered_product(
        product_pb2.DELIVERY_KIND_PHONE_CREDIT, [TELKOMSEL_PHONE_FIELD], [11_500]
    )
    placed = shop.place(order_request((package_id, 1, UNKNOWN_PHONE)))

    order = shop.pay_and_wait(placed, order_pb2.ORDER_STATE_REFUNDED)

    [line] = order.lines
    fulfillment = line.fulfillment
    assert fulfillment.state == fulfillment_pb2.FULFILLMENT_STATE_FAILED
    assert fulfillment.failure.reason == fulfillment_pb2.FAILURE_REASON_DESTINATION_NOT_FOUND
    assert list(fulfillment.deliveries) == []
    assert line.refund.amount == line.line_total
    assert line.refund.state == payment_pb2.REFUND_STATE_SUCCEEDED
    assert line.refund.request_id == fulfillment.id
    assert order.total.amount == 11_500 + BCA_FEE
    assert order.refunded_total == order.total  # nothing was delivered: the fee goes back too
    assert order.HasField("complete_time")

    payment = shop.payment(placed.payment.id)
    assert payment.state == payment_pb2.PAYMENT_STATE_REFUNDED
    assert payment.refunded_total == order.total
    assert sorted(refund.request_id for refund in payment.refunds) == sorted(
        [fulfillment.id, f"{order.id}:fee"]
    )

    [mail] = wait_for(lambda: shop.mails(order.id, REFUNDED_MAIL), what="the refund e-mail")
    text, _ = body_text(mail)
    assert rupiah(order.total.amount) in text
    assert shop.mails(order.id, DELIVERED_MAIL) == []
    assert fulfillment_rows(shop, order.id) == 1


def test_only_the_failed_line_of_two_is_refunded(start_shop: StartShop) -> None:
    shop = start_shop()
    _, [token_package] = shop.add_delivered_product(
        product_pb2.DELIVERY_KIND_ELECTRICITY_TOKEN, [METER_NUMBER_FIELD], [50_000]
    )
    _, [credit_package] = shop.add_delivered_product(
        product_pb2.DELIVERY_KIND_PHONE_CREDIT, [TELKOMSEL_PHONE_FIELD], [11_500]
    )
    placed = shop.place(order_request((token_package, 1, METER), (credit_package, 2, UNKNOWN_PHONE)))

    order = shop.pay_and_wait(placed, order_pb2.ORDER_STATE_REFUNDED)

    lines = {line.package_id: line for line in order.lines}
    delivered, failed = lines[token_package], lines[credit_package]
    assert delivered.fulfillment.state == fulfillment_pb2.FULFILLMENT_STATE_SUCCEEDED
    [delivery] = delivered.fulfillment.deliveries
    assert TOKEN.fullmatch(delivery.token)
    assert delivery.kwh == "34.61"
    assert not delivered.HasField("refund")
    assert failed.fulfillment.state == fulfillment_pb2.FULFILLMENT_STATE_FAILED
    assert failed.refund.amount.amount == 23_000  # the line's price, not the fee
    assert order.refunded_total.amount == 23_000

    payment = shop.payment(placed.payment.id)
    assert payment.state == payment_pb2.PAYMENT_STATE_PAID  # a partial refund: still paid
    assert payment.refunded_total.amount == 23_000
    assert [refund.request_id for refund in payment.refunds] == [failed.fulfillment.id]

    [mail] = wait_for(lambda: shop.mails(order.id, REFUNDED_MAIL), what="the refund e-mail")
    text, _ = body_text(mail)
    assert rupiah(23_000) in text
    assert fulfillment_rows(shop, order.id) == 2


def test_a_destination_that_breaks_its_field_is_refused_at_checkout(start_shop: StartShop) -> None:
    shop = start_shop()
    meter_product, [meter_package] = shop.add_delivered_product(
        product_pb2.DELIVERY_KIND_ELECTRICITY_TOKEN, [METER_NUMBER_FIELD], [20_000]
    )
    phone_product, [phone_package] = shop.add_delivered_product(
        product_pb2.DELIVERY_KIND_PHONE_CREDIT, [TELKOMSEL_PHONE_FIELD], [11_500]
    )
    before = shop.table_counts()
    cases: list[tuple[str, order_service_pb2.CreateOrderRequest, str, str]] = [
        # (what, request, product, violated path)
        (
            "too short",
            order_request((meter_package, 1, {"meter_number": "1423456"})),
            meter_product,
            "lines[0]",
        ),
        (
            "a letter",
            order_request((meter_package, 1, {"meter_number": "1423456789A"})),
            meter_product,
            "lines[0]",
        ),
        ("missing", order_request((meter_package, 1, {})), meter_product, "lines[0]"),
        (
            "other operator",
            order_request((phone_package, 1, {"phone_number": "089912345678"})),
            phone_product,
            "lines[0]",
        ),
        (
            "second line",
            order_request((meter_package, 1, METER), (phone_package, 1, {"phone_number": "0812"})),
            phone_product,
            "lines[1]",
        ),
    ]
    for what, request, product_id, path in cases:
        field = "meter_number" if product_id == meter_product else "phone_number"
        error = refused(partial(shop.place, request))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, (what, error.details())
        assert reason_of(error) == CommonErrorReason.Name(CommonErrorReason.INVALID_DESTINATION), what
        assert error_metadata(error) == {"product_id": product_id, "field": field}, what
        assert violated_fields(error) == [f'{path}.destination["{field}"]'], what
    unknown_key = order_request((phone_package, 1, {**PHONE, "zone_id": "1"}))
    error = refused(lambda: shop.place(unknown_key))
    assert error_metadata(error) == {"product_id": phone_product, "field": "zone_id"}
    assert shop.table_counts() == before  # nothing was reserved, ordered or asked for


def test_orders_are_paid_while_the_fulfillment_service_is_down_and_delivered_when_it_returns(
    start_shop: StartShop, database_kind: str, figures: Callable[[str], None]
) -> None:
    shop = start_shop()
    _, [package_id] = shop.add_delivered_product(
        product_pb2.DELIVERY_KIND_ELECTRICITY_TOKEN, [METER_NUMBER_FIELD], [20_000]
    )
    shop.stack["fulfillment"].stop()

    placed = shop.place(order_request((package_id, 1, METER)))
    order = shop.pay_and_wait(placed, order_pb2.ORDER_STATE_PAID)
    wait_for(lambda: shop.mails(order.id, "payment_received"), what="the payment e-mail")
    time.sleep(3)  # the order service's outbox retries its request a few times meanwhile
    order = shop.order(order.id, placed.access_token)
    assert order.state == order_pb2.ORDER_STATE_PAID
    assert not order.lines[0].HasField("fulfillment")

    restarted = time.perf_counter()
    shop.stack.start("fulfillment")
    order = shop.wait_for_order_state(order.id, placed.access_token, order_pb2.ORDER_STATE_FULFILLED, 30)
    delivered_after = time.perf_counter() - restarted
    [delivery] = order.lines[0].fulfillment.deliveries
    assert TOKEN.fullmatch(delivery.token)
    wait_for(lambda: shop.mails(order.id, DELIVERED_MAIL), what="the delivery e-mail")
    assert fulfillment_rows(shop, order.id) == 1
    figures(
        f"fulfillment outage [{database_kind}]: order placed and paid with svc-fulfillment stopped; "
        f"delivered {delivered_after:.2f} s after it was started again"
    )


def test_a_meter_and_a_phone_number_are_looked_up_before_paying(start_shop: StartShop) -> None:
    shop = start_shop()
    meter_product, _ = shop.add_delivered_product(
        product_pb2.DELIVERY_KIND_ELECTRICITY_TOKEN, [METER_NUMBER_FIELD], [20_000]
    )
    phone_product, _ = shop.add_delivered_product(
        product_pb2.DELIVERY_KIND_PHONE_CREDIT, [TELKOMSEL_PHONE_FIELD], [11_500]
    )

    found = shop.lookup(meter_product, METER)
    assert found.customer_name
    assert re.fullmatch(r"R[0-9A-Z]*/[0-9.]+ ?VA", found.detail), found.detail
    assert found.matches_product
    assert found.operator_name == ""
    assert shop.lookup(meter_product, METER) == found  # the sandbox biller is deterministic

    phone = shop.lookup(phone_product, PHONE)
    assert (phone.operator_name, phone.matches_product, phone.customer_name) == ("Telkomsel", True, "")

    missing = refused(lambda: shop.lookup(meter_product, {"meter_number": "14234560000"}))
    assert missing.code() == grpc.StatusCode.NOT_FOUND
    assert reason_of(missing) == FulfillmentErrorReason.Name(FulfillmentErrorReason.DESTINATION_NOT_FOUND)

    broken = refused(lambda: shop.lookup(meter_product, {"meter_number": "123"}))
    assert broken.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason_of(broken) == CommonErrorReason.Name(CommonErrorReason.INVALID_DESTINATION)
    assert violated_fields(broken) == ['destination["meter_number"]']
