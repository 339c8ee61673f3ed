"""CreatePayment, FindPaymentByOrder, CancelPayment, RefundPayment, NotifyPayment and
WatchPaymentEvents are internal: the order service alone may call them (FindPaymentByOrder
would hand a payment's id, its credential, to anyone who knows the order id; RefundPayment
would give a shopper's money back to anyone holding the payment's id). Before, a payment for
a made-up order was created for anyone who reached the port."""

from __future__ import annotations

from collections.abc import Callable

import grpc
import pytest
from conftest import (
    StartService,
    create_request,
    paid_payment,
    refund_request,
)

from pasar.common.v1.error_reason_pb2 import ErrorReason as CommonErrorReason
from pasar.payment.v1 import payment_service_pb2, payment_service_pb2_grpc
from pasar_kit.callers import CALLER_TOKEN_METADATA
from pasar_payment.models import Payment
from pasar_testkit.assertions import reason_of, refused


def forged_stub(channel: grpc.Channel, token: str | None) -> Callable[[str], object]:
    """Calls a method by name on a channel without the order service's credential (or a wrong one)."""
    stub = payment_service_pb2_grpc.PaymentServiceStub(channel)
    metadata = ((CALLER_TOKEN_METADATA, token),) if token else ()
    requests = {
        "CreatePayment": create_request(order_id="ord-made-up"),
        "FindPaymentByOrder": payment_service_pb2.FindPaymentByOrderRequest(order_id="ord-real"),
        "CancelPayment": payment_service_pb2.CancelPaymentRequest(id="pay-1"),
        "RefundPayment": refund_request("pay-1", 1_000),
        "WatchPaymentEvents": payment_service_pb2.WatchPaymentEventsRequest(),
    }

    def call(method: str) -> object:
        answer = getattr(stub, method)(requests[method], timeout=10, metadata=metadata)
        return list(answer) if method == "WatchPaymentEvents" else answer

    return call


@pytest.mark.parametrize(
    "method", ["CreatePayment", "FindPaymentByOrder", "CancelPayment", "RefundPayment", "WatchPaymentEvents"]
)
@pytest.mark.parametrize(
    ("token", "reason"),
    [
        (None, CommonErrorReason.Name(CommonErrorReason.CALLER_CREDENTIAL_MISSING)),
        ("a-guess", CommonErrorReason.Name(CommonErrorReason.CALLER_CREDENTIAL_INVALID)),
    ],
    ids=["none", "wrong"],
)
def test_forged_internal_calls_are_refused(
    start_service: StartService, method: str, token: str | None, reason: str
) -> None:
    service = start_service()
    with grpc.insecure_channel(service.address) as channel:
        call = forged_stub(channel, token)
        error = refused(lambda: call(method))
    assert (error.code(), reason_of(error)) == (grpc.StatusCode.UNAUTHENTICATED, reason)
    with service.database.connection_context():
        assert Payment.select().count() == 0


def test_the_order_service_creates_payments_and_the_channels_stay_public(start_service: StartService) -> None:
    service = start_service()
    created = service.stub.CreatePayment(create_request(order_id="ord-real"), timeout=10).payment
    assert created.order_id == "ord-real"
    with grpc.insecure_channel(service.address) as channel:
        anyone = payment_service_pb2_grpc.PaymentServiceStub(channel)
        channels = anyone.ListPaymentChannels(payment_service_pb2.ListPaymentChannelsRequest(), timeout=10)
        assert channels.payment_channels


@pytest.mark.parametrize("token", [None, "a-guess"], ids=["none", "wrong"])
def test_a_paid_payment_is_refunded_for_the_order_service_alone(
    start_service: StartService, token: str | None
) -> None:
    service = start_service()
    payment = paid_payment(service.stub)
    metadata = ((CALLER_TOKEN_METADATA, token),) if token else ()
    with grpc.insecure_channel(service.address) as channel:
        anyone = payment_service_pb2_grpc.PaymentServiceStub(channel)
        error = refused(
            lambda: anyone.RefundPayment(refund_request(payment.id, 1_000), timeout=10, metadata=metadata)
        )
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    after = service.stub.GetPayment(payment_service_pb2.GetPaymentRequest(id=payment.id), timeout=10).payment
    assert (after.refunded_total.amount, list(after.refunds)) == (0, [])
