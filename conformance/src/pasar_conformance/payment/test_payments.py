"""CreatePayment per channel kind, GetPayment, FindPaymentByOrder, CancelPayment: success
paths with the fields callers rely on, idempotency on order_id, and their reasons."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import grpc
import pytest

from pasar.payment.v1 import payment_pb2, payment_service_pb2
from pasar.payment.v1.error_reason_pb2 import ErrorReason
from pasar_conformance.answers import answer_or_refusal, expect_reason, retrying
from pasar_conformance.payment.shop import PaymentDesk, fee_of, rpc, rupiah
from pasar_conformance.target import Target

PAYMENT_ID = re.compile(r"^pay_[0-9a-f]{32}$")
# Which instructions a channel kind sets, and the fields of them a shopper needs.
INSTRUCTIONS = {
    payment_pb2.PAYMENT_CHANNEL_KIND_VIRTUAL_ACCOUNT: ("virtual_account", ("bank_name", "account_number")),
    payment_pb2.PAYMENT_CHANNEL_KIND_QRIS: ("qris", ("qr_string",)),
    # An e-wallet's link may be empty: the request went to the payer's phone number, or the
    # provider has no app to open (test_wallets checks both).
    payment_pb2.PAYMENT_CHANNEL_KIND_EWALLET: ("ewallet", ("wallet_name",)),
    payment_pb2.PAYMENT_CHANNEL_KIND_RETAIL_OUTLET: ("retail_outlet", ("outlet_name", "payment_code")),
}
UNKNOWN_PAYMENT_ID = "pay_" + "0" * 32
# How many calls race for one order.
PARALLEL = 8


@pytest.mark.parametrize(
    "kind", list(INSTRUCTIONS), ids=[payment_pb2.PaymentChannelKind.Name(k) for k in INSTRUCTIONS]
)
def test_a_payment_is_created_pending_with_its_fee_and_instructions(
    payments: PaymentDesk, kind: payment_pb2.PaymentChannelKind.ValueType
) -> None:
    channel = payments.channel(kind)
    request = payments.request(channel)
    payment = payments.create(request)

    assert PAYMENT_ID.match(payment.id), payment.id
    assert (payment.order_id, payment.channel_code, payment.channel_kind) == (
        request.order_id,
        channel.code,
        kind,
    )
    assert payment.state == payment_pb2.PAYMENT_STATE_PENDING
    fee = fee_of(channel, request.amount.amount)
    assert (payment.amount, payment.fee, payment.total) == (
        request.amount,
        rupiah(fee),
        rupiah(request.amount.amount + fee),
    )
    oneof, fields = INSTRUCTIONS[kind]
    assert payment.WhichOneof("instructions") == oneof
    for name in fields:
        assert getattr(getattr(payment, oneof), name), f"{oneof}.{name} is empty"
    assert payment.provider
    assert payment.provider_reference
    assert payment.create_time.ToSeconds() > 0
    window = payment.expire_time.ToDatetime() - payment.create_time.ToDatetime()
    assert window == channel.payment_ttl.ToTimedelta(), f"expires after {window}"
    assert not payment.HasField("paid_time")
    assert payment.update_time.ToSeconds() > 0


def test_every_channel_s_payments_expire_after_the_time_it_lists(payments: PaymentDesk) -> None:
    """The one deadline: ListPaymentChannels' payment_ttl is the payment's expire_time minus
    its create_time, exactly, for every channel (what the shopper is shown is what holds)."""
    for channel in payments.channels():
        payment = payments.open(channel)
        window = payment.expire_time.ToDatetime() - payment.create_time.ToDatetime()
        listed = channel.payment_ttl.ToTimedelta()
        assert window == listed, f"{channel.code} lists {listed} to pay, its payment expires after {window}"


def test_a_payment_is_read_as_it_was_created(payments: PaymentDesk) -> None:
    payment = payments.open()
    assert payments.get(payment.id) == payment


def test_the_payment_of_an_order_is_found_and_an_order_without_one_has_none(
    target: Target, payments: PaymentDesk
) -> None:
    payment = payments.open()
    found = target.call(
        rpc("FindPaymentByOrder"), payment_service_pb2.FindPaymentByOrderRequest(order_id=payment.order_id)
    )
    assert isinstance(found, payment_service_pb2.FindPaymentByOrderResponse)
    assert found.payment == payment
    order_id = target.run.new("order")
    none = target.call(
        rpc("FindPaymentByOrder"), payment_service_pb2.FindPaymentByOrderRequest(order_id=order_id)
    )
    assert isinstance(none, payment_service_pb2.FindPaymentByOrderResponse)
    assert not none.HasField("payment")
    created = target.call(
        rpc("FindPaymentByOrder"), payment_service_pb2.FindPaymentByOrderRequest(order_id=order_id)
    )
    assert created == none, "FindPaymentByOrder created a payment"


def test_a_retry_of_create_returns_the_same_payment(payments: PaymentDesk) -> None:
    request = payments.request()
    first = payments.create(request)
    again = payments.create(request)
    assert again == first
    again_without_description = payment_service_pb2.CreatePaymentRequest()
    again_without_description.CopyFrom(request)
    again_without_description.ClearField("description")
    assert payments.create(again_without_description).id == first.id


def test_the_same_order_with_another_amount_or_channel_conflicts(payments: PaymentDesk) -> None:
    channels = payments.channels()
    request = payments.request()
    first = payments.create(request)
    other_amount = payment_service_pb2.CreatePaymentRequest()
    other_amount.CopyFrom(request)
    other_amount.amount.amount += 1
    conflict = ErrorReason.Name(ErrorReason.PAYMENT_CONFLICT)
    expected = {"order_id": request.order_id, "payment_id": first.id}
    expect_reason(lambda: payments.create(other_amount), conflict, metadata=expected)
    others = [c for c in channels if c.code != request.channel_code]
    if others:
        other_channel = payment_service_pb2.CreatePaymentRequest()
        other_channel.CopyFrom(request)
        other_channel.channel_code = others[0].code
        expect_reason(lambda: payments.create(other_channel), conflict, metadata=expected)
    assert payments.get(first.id) == first, "a conflicting request changed the payment"


def test_an_unknown_channel_is_not_found_naming_it(target: Target, payments: PaymentDesk) -> None:
    request = payments.request()
    request.channel_code = target.run.new("channel").replace("-", "_")
    expect_reason(
        lambda: payments.create(request),
        ErrorReason.Name(ErrorReason.CHANNEL_NOT_FOUND),
        metadata={"channel_code": request.channel_code},
    )


def test_an_amount_outside_the_channel_s_limits_is_refused_with_the_limits(payments: PaymentDesk) -> None:
    channel = payments.channel()
    limits = {
        "channel_code": channel.code,
        "min_amount": str(channel.min_amount.amount),
        "max_amount": str(channel.max_amount.amount),
    }
    for amount in (channel.min_amount.amount - 1, channel.max_amount.amount + 1):
        if amount <= 0:
            continue
        request = payments.request(channel, amount)
        expect_reason(
            partial(payments.create, request),
            ErrorReason.Name(ErrorReason.AMOUNT_OUT_OF_RANGE),
            metadata=limits,
        )
    at_the_limits = [
        payments.open(channel, channel.min_amount.amount),
        payments.open(channel, channel.max_amount.amount),
    ]
    assert all(p.state == payment_pb2.PAYMENT_STATE_PENDING for p in at_the_limits)


def test_a_cancelled_payment_stays_cancelled_on_a_repeat(payments: PaymentDesk) -> None:
    payment = payments.open()
    cancelled = payments.cancel(payment.id)
    assert cancelled.state == payment_pb2.PAYMENT_STATE_CANCELLED
    assert (cancelled.id, cancelled.order_id, cancelled.total) == (
        payment.id,
        payment.order_id,
        payment.total,
    )
    assert payments.cancel(payment.id) == cancelled
    assert payments.get(payment.id) == cancelled


def test_a_paid_payment_cannot_be_cancelled(payments: PaymentDesk) -> None:
    payments.require_sandbox()
    payment = payments.open()
    paid = payments.simulate(payment.id)
    expect_reason(
        lambda: payments.cancel(payment.id),
        ErrorReason.Name(ErrorReason.PAYMENT_PAID),
        metadata={
            "payment_id": payment.id,
            "state": payment_pb2.PaymentState.Name(payment_pb2.PAYMENT_STATE_PAID),
        },
    )
    assert payments.get(payment.id) == paid


@pytest.mark.parametrize("method", ["GetPayment", "CancelPayment", "SimulatePayment"])
def test_an_unknown_payment_is_not_found_naming_it(
    target: Target, payments: PaymentDesk, method: str
) -> None:
    if method == "SimulatePayment":
        payments.require_sandbox()
    request_class = {
        "GetPayment": payment_service_pb2.GetPaymentRequest,
        "CancelPayment": payment_service_pb2.CancelPaymentRequest,
        "SimulatePayment": payment_service_pb2.SimulatePaymentRequest,
    }[method]
    expect_reason(
        lambda: target.call(rpc(method), request_class(id=UNKNOWN_PAYMENT_ID)),
        ErrorReason.Name(ErrorReason.PAYMENT_NOT_FOUND),
        metadata={"payment_id": UNKNOWN_PAYMENT_ID},
    )


def test_a_retry_after_a_cancel_returns_the_cancelled_payment(payments: PaymentDesk) -> None:
    request = payments.request()
    payments.create(request)
    cancelled = payments.cancel(payments.create(request).id)
    assert not cancelled.HasField("paid_time")
    assert cancelled.update_time.ToDatetime() >= cancelled.create_time.ToDatetime()
    assert payments.create(request) == cancelled, "a retry opened another payment for the order"


def test_parallel_retries_of_create_make_one_payment(payments: PaymentDesk) -> None:
    request = payments.request()
    with ThreadPoolExecutor(PARALLEL) as pool:
        answers = list(pool.map(lambda _n: retrying(lambda: payments.create(request)), range(PARALLEL)))
    assert len({a.id for a in answers}) == 1, "parallel retries opened several payments"
    assert all(a == answers[0] for a in answers)


def test_parallel_creates_of_one_order_with_other_amounts_leave_one_payment(payments: PaymentDesk) -> None:
    first = payments.request()
    requests = []
    for n in range(PARALLEL):
        request = payment_service_pb2.CreatePaymentRequest()
        request.CopyFrom(first)
        request.amount.amount += n
        requests.append(request)

    with ThreadPoolExecutor(PARALLEL) as pool:
        outcomes = list(pool.map(lambda r: answer_or_refusal(lambda: payments.create(r)), requests))
    made = [o for o in outcomes if isinstance(o, payment_pb2.Payment)]
    assert len(made) == 1, f"{len(made)} of {PARALLEL} conflicting creates succeeded"
    for outcome in outcomes:
        if isinstance(outcome, grpc.RpcError):
            expect_reason(
                outcome,
                ErrorReason.Name(ErrorReason.PAYMENT_CONFLICT),
                metadata={"order_id": first.order_id, "payment_id": made[0].id},
            )


def test_order_ids_differing_only_in_case_are_other_orders(target: Target, payments: PaymentDesk) -> None:
    """The contract's order ids are case-sensitive (``^[A-Za-z0-9_-]+$``)."""
    lower = payments.request()
    upper = payments.request()
    upper.order_id = lower.order_id.upper()
    upper.amount.amount += 1  # the same order with another amount would conflict
    first, second = payments.create(lower), payments.create(upper)
    assert first.id != second.id, f"orders {lower.order_id} and {upper.order_id} share a payment"
    assert (first.order_id, second.order_id) == (lower.order_id, upper.order_id)
    for payment in (first, second):
        found = target.call(
            rpc("FindPaymentByOrder"),
            payment_service_pb2.FindPaymentByOrderRequest(order_id=payment.order_id),
        )
        assert isinstance(found, payment_service_pb2.FindPaymentByOrderResponse)
        assert found.payment == payment


def test_the_proportional_fee_is_rounded_up_to_the_rupiah(payments: PaymentDesk) -> None:
    proportional = [c for c in payments.channels() if c.percent_fee_bps % 10_000]
    if not proportional:
        pytest.skip("no channel of the target has a proportional fee")
    channel = proportional[0]
    amount = max(channel.min_amount.amount, 12_345)
    while amount * channel.percent_fee_bps % 10_000 == 0:
        amount += 1
    assert amount <= channel.max_amount.amount
    payment = payments.open(channel, amount)
    exact = amount * channel.percent_fee_bps / 10_000
    assert payment.fee.amount == channel.flat_fee.amount + int(exact) + 1, (
        f"fee of {amount} at {channel.code}"
    )
