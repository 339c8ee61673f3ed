"""The order methods' protovalidate rules the shared validation cases leave out: each broken
alone in an otherwise valid request is INVALID_ARGUMENT with a BadRequest naming the field
(validation comes first, so the ids need not exist)."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from google.protobuf import message

from pasar.order.v1 import order_service_pb2 as order_pb
from pasar_conformance.answers import expect_invalid_argument
from pasar_conformance.order.shop import CANCEL_ORDER, CREATE_ORDER, GET_ORDER
from pasar_conformance.target import Target

ORDER_ID = "ord_" + "0" * 32
TOKEN = "a-token"  # noqa: S105 - made up: validation refuses the request before any token is read


def line(package_id: str = "pkg-a", quantity: int = 1) -> order_pb.CreateOrderLine:
    return order_pb.CreateOrderLine(package_id=package_id, quantity=quantity)


def create(lines: list[order_pb.CreateOrderLine] | None = None, **fields: str) -> order_pb.CreateOrderRequest:
    """A valid CreateOrderRequest but for the lines or string fields given."""
    valid = {
        "request_id": "retry-key-1",
        "customer_email": "siti@example.co.id",
        "payment_channel_code": "qris",
        "language_code": "id",
    }
    return order_pb.CreateOrderRequest(lines=lines or [line()], **{**valid, **fields})


# (method, request, the field the BadRequest must name)
CASES: dict[str, tuple[str, Callable[[], message.Message], str]] = {
    "a request_id too long": (CREATE_ORDER, lambda: create(request_id="k" * 129), "request_id"),
    "an e-mail address too long": (
        CREATE_ORDER,
        lambda: create(customer_email="s" * 64 + "@" + "e" * 186 + ".co.id"),
        "customer_email",
    ),
    "more than twenty lines": (
        CREATE_ORDER,
        lambda: create(lines=[line(f"pkg-{n}") for n in range(21)]),
        "lines",
    ),
    "a package id that is not one": (
        CREATE_ORDER,
        lambda: create(lines=[line("Pkg_A")]),
        "lines[0].package_id",
    ),
    "a package id too long": (CREATE_ORDER, lambda: create(lines=[line("p" * 64)]), "lines[0].package_id"),
    "no channel": (CREATE_ORDER, lambda: create(payment_channel_code=""), "payment_channel_code"),
    "a channel code too long": (
        CREATE_ORDER,
        lambda: create(payment_channel_code="q" * 33),
        "payment_channel_code",
    ),
    "a read without a token": (GET_ORDER, lambda: order_pb.GetOrderRequest(id=ORDER_ID), "token"),
    "a read with a token too long": (
        GET_ORDER,
        lambda: order_pb.GetOrderRequest(id=ORDER_ID, token="t" * 129),
        "token",
    ),
    "a read without an id": (GET_ORDER, lambda: order_pb.GetOrderRequest(token=TOKEN), "id"),
    "a cancel of an id that is not one": (
        CANCEL_ORDER,
        lambda: order_pb.CancelOrderRequest(id="ord_XYZ", token=TOKEN),
        "id",
    ),
    "a cancel without a token": (CANCEL_ORDER, lambda: order_pb.CancelOrderRequest(id=ORDER_ID), "token"),
    "a cancel with a token too long": (
        CANCEL_ORDER,
        lambda: order_pb.CancelOrderRequest(id=ORDER_ID, token="t" * 129),
        "token",
    ),
}


@pytest.mark.parametrize("case", list(CASES))
def test_a_broken_rule_names_its_field(target: Target, case: str) -> None:
    method, request, field = CASES[case]
    expect_invalid_argument(lambda: target.call(method, request()), field)
