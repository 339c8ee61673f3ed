"""The protovalidate rules of the payment requests that the shared validation cases leave out:
one broken rule a request, INVALID_ARGUMENT with a BadRequest naming the field."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import pytest
from google.protobuf import message

from pasar.common.v1.money_pb2 import Money
from pasar.payment.v1 import payment_service_pb2 as pb
from pasar_conformance.answers import expect_invalid_argument
from pasar_conformance.payment.shop import PaymentDesk, rpc
from pasar_conformance.target import Target

VALID_ID = "pay_" + "a" * 32


def _create(payments: PaymentDesk, **change: object) -> pb.CreatePaymentRequest:
    request = payments.request()
    for name, value in change.items():
        if isinstance(value, message.Message):
            getattr(request, name).CopyFrom(value)
        elif value is None:
            cast(message.Message, request).ClearField(name)  # any field of the request
        else:
            setattr(request, name, value)
    return request


def _refund(**change: object) -> pb.RefundPaymentRequest:
    """A valid RefundPayment request (of an unknown payment: the rules are checked first)."""
    request = pb.RefundPaymentRequest(
        payment_id=VALID_ID,
        request_id="ful-1",
        amount=Money(currency_code="IDR", amount=1000),
        reason="gagal",
    )
    for name, value in change.items():
        if isinstance(value, message.Message):
            getattr(request, name).CopyFrom(value)
        elif value is None:
            cast(message.Message, request).ClearField(name)
        else:
            setattr(request, name, value)
    return request


# (case, method, field the BadRequest must name, the request)
CASES: list[tuple[str, str, str, Callable[[PaymentDesk], message.Message]]] = [
    ("get-id-pattern", "GetPayment", "id", lambda _p: pb.GetPaymentRequest(id="pay_XYZ")),
    ("simulate-id-pattern", "SimulatePayment", "id", lambda _p: pb.SimulatePaymentRequest(id="")),
    ("cancel-id-pattern", "CancelPayment", "id", lambda _p: pb.CancelPaymentRequest(id=VALID_ID + "0")),
    ("create-order-id-empty", "CreatePayment", "order_id", lambda p: _create(p, order_id="")),
    ("create-order-id-pattern", "CreatePayment", "order_id", lambda p: _create(p, order_id="order 1")),
    ("create-order-id-long", "CreatePayment", "order_id", lambda p: _create(p, order_id="o" * 65)),
    ("create-channel-pattern", "CreatePayment", "channel_code", lambda p: _create(p, channel_code="BCA-VA")),
    ("create-amount-missing", "CreatePayment", "amount", lambda p: _create(p, amount=None)),
    (
        "create-currency-pattern",
        "CreatePayment",
        "amount.currency_code",
        lambda p: _create(p, amount=Money(currency_code="idr", amount=1000)),
    ),
    ("create-description-long", "CreatePayment", "description", lambda p: _create(p, description="d" * 201)),
    (
        "create-email",
        "CreatePayment",
        "customer_email",
        lambda p: _create(p, customer_email="not-an-address"),
    ),
    (
        "create-phone-pattern",
        "CreatePayment",
        "payer_phone_number",
        lambda p: _create(p, payer_phone_number="021-5550123"),
    ),
    (
        "create-phone-too-short",
        "CreatePayment",
        "payer_phone_number",
        lambda p: _create(p, payer_phone_number="0812345"),
    ),
    (
        "find-order-id-pattern",
        "FindPaymentByOrder",
        "order_id",
        lambda _p: pb.FindPaymentByOrderRequest(order_id="a/b"),
    ),
    (
        "notify-provider-pattern",
        "NotifyPayment",
        "provider",
        lambda _p: pb.NotifyPaymentRequest(provider="Sandbox", payload=b"{}", signature="00"),
    ),
    (
        "notify-signature-empty",
        "NotifyPayment",
        "signature",
        lambda _p: pb.NotifyPaymentRequest(provider="sandbox", payload=b"{}"),
    ),
    ("refund-payment-id-pattern", "RefundPayment", "payment_id", lambda _p: _refund(payment_id="pay-1")),
    ("refund-request-id-empty", "RefundPayment", "request_id", lambda _p: _refund(request_id="")),
    ("refund-request-id-pattern", "RefundPayment", "request_id", lambda _p: _refund(request_id="ful 1")),
    ("refund-request-id-long", "RefundPayment", "request_id", lambda _p: _refund(request_id="r" * 129)),
    ("refund-amount-missing", "RefundPayment", "amount", lambda _p: _refund(amount=None)),
    (
        "refund-amount-zero",
        "RefundPayment",
        "amount",
        lambda _p: _refund(amount=Money(currency_code="IDR", amount=0)),
    ),
    ("refund-reason-empty", "RefundPayment", "reason", lambda _p: _refund(reason="")),
    ("refund-reason-long", "RefundPayment", "reason", lambda _p: _refund(reason="r" * 201)),
    (
        "list-token-long",
        "ListPaymentChannels",
        "page_token",
        lambda _p: pb.ListPaymentChannelsRequest(page_token="t" * 513),
    ),
]


@pytest.mark.parametrize(("method", "field", "build"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_a_request_breaking_a_rule_names_the_field(
    target: Target,
    payments: PaymentDesk,
    method: str,
    field: str,
    build: Callable[[PaymentDesk], message.Message],
) -> None:
    request = build(payments)
    expect_invalid_argument(lambda: target.call(rpc(method), request), field)
