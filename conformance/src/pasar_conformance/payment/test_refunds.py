"""RefundPayment: a paid payment (settled with SimulatePayment) refunded in part, then in
full; idempotency on request_id; its refusals with their metadata; concurrent refunds that
never exceed the total; the REFUNDED event carrying the refund; and what a refunded payment
answers to the other methods. Every case but those on unpaid payments needs the sandbox."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import grpc

from pasar.common.v1.money_pb2 import Money
from pasar.payment.v1 import payment_pb2, payment_service_pb2
from pasar.payment.v1.error_reason_pb2 import ErrorReason
from pasar_conformance.answers import answer_or_refusal, expect_invalid_argument, expect_reason, retrying
from pasar_conformance.payment.log import key, read, sequence_of
from pasar_conformance.payment.shop import PaymentDesk, rpc, rupiah, sandbox_notification
from pasar_conformance.target import Target

REFUND_ID = re.compile(r"^rfd_[0-9a-f]{32}$")
UNKNOWN_PAYMENT_ID = "pay_" + "0" * 32
REFUNDED = payment_pb2.PAYMENT_EVENT_TYPE_REFUNDED
NOT_REFUNDABLE = ErrorReason.Name(ErrorReason.PAYMENT_NOT_REFUNDABLE)
EXCEEDS = ErrorReason.Name(ErrorReason.REFUND_EXCEEDS_PAYMENT)
# How many refunds of one payment race, each of an eighth of its total.
PARALLEL = 10
SHARES = 8


def state_name(state: payment_pb2.PaymentState.ValueType) -> str:
    return payment_pb2.PaymentState.Name(state)


def test_a_paid_payment_is_refunded_in_part_then_in_full(payments: PaymentDesk) -> None:
    payment = payments.paid()
    total = payment.total.amount
    part_request = payments.refund_request(payment.id, 1_000)
    part = payments.refund(part_request)
    refund = part.refund
    assert REFUND_ID.match(refund.id), refund.id
    assert (refund.payment_id, refund.request_id, refund.amount, refund.reason) == (
        payment.id,
        part_request.request_id,
        rupiah(1_000),
        part_request.reason,
    )
    assert refund.state in (payment_pb2.REFUND_STATE_PENDING, payment_pb2.REFUND_STATE_SUCCEEDED)
    assert refund.provider_reference
    assert refund.HasField("create_time")
    assert refund.HasField("complete_time") == (refund.state == payment_pb2.REFUND_STATE_SUCCEEDED)
    assert part.payment.state == payment_pb2.PAYMENT_STATE_PAID, "a refund in part leaves the payment paid"
    assert part.payment.refunded_total == rupiah(1_000)
    assert list(part.payment.refunds) == [refund]
    assert payments.get(payment.id) == part.payment

    rest = payments.refund(payments.refund_request(payment.id, total - 1_000))
    assert rest.payment.state == payment_pb2.PAYMENT_STATE_REFUNDED
    assert rest.payment.refunded_total == rupiah(total)
    assert list(rest.payment.refunds) == [refund, rest.refund], "refunds oldest first"
    assert payments.get(payment.id) == rest.payment


def test_a_payment_without_refunds_has_a_zero_refunded_total(payments: PaymentDesk) -> None:
    payment = payments.open()
    assert payment.HasField("refunded_total"), "refunded_total is zero Money, not unset"
    assert payment.refunded_total == rupiah(0)
    assert list(payment.refunds) == []


def test_a_retry_returns_the_first_refund_unchanged(payments: PaymentDesk) -> None:
    payment = payments.paid()
    request = payments.refund_request(payment.id, payment.total.amount)
    first = payments.refund(request)
    assert first.payment.state == payment_pb2.PAYMENT_STATE_REFUNDED
    request.reason = "ditanya lagi"
    assert payments.refund(request) == first, "a retry (another reason) after the full refund"
    assert payments.get(payment.id).refunded_total == rupiah(payment.total.amount)


def test_parallel_retries_of_one_refund_make_one_refund(payments: PaymentDesk) -> None:
    payment = payments.paid()
    request = payments.refund_request(payment.id, 1_000)
    with ThreadPoolExecutor(PARALLEL) as pool:
        answers = list(pool.map(lambda _n: retrying(lambda: payments.refund(request)), range(PARALLEL)))
    assert len({answer.refund.id for answer in answers}) == 1, "parallel retries made several refunds"
    assert payments.get(payment.id).refunded_total == rupiah(1_000)


def test_a_request_id_used_for_another_amount_or_payment_is_refused_naming_the_refund(
    payments: PaymentDesk,
) -> None:
    payment, other = payments.paid(), payments.paid()
    first = payments.refund(payments.refund_request(payment.id, 1_000))
    request_id = first.refund.request_id
    for reused in (
        payments.refund_request(payment.id, 2_000, request_id),
        payments.refund_request(other.id, 1_000, request_id),
    ):
        expect_reason(
            partial(payments.refund, reused),
            ErrorReason.Name(ErrorReason.REFUND_REQUEST_REUSED),
            metadata={"refund_id": first.refund.id},
        )
    assert payments.get(payment.id) == first.payment
    assert payments.get(other.id).refunded_total == rupiah(0)


def test_request_ids_differing_only_in_case_are_other_refunds(target: Target, payments: PaymentDesk) -> None:
    """The contract's request ids allow both cases (``^[A-Za-z0-9._:-]+$``)."""
    payment = payments.paid()
    request_id = target.run.new("refund")
    lower = payments.refund(payments.refund_request(payment.id, 1_000, request_id.lower()))
    upper = payments.refund(payments.refund_request(payment.id, 2_000, request_id.upper()))
    assert lower.refund.id != upper.refund.id
    assert upper.payment.refunded_total == rupiah(3_000)


def test_an_unpaid_payment_is_not_refundable(payments: PaymentDesk) -> None:
    pending = payments.open()
    cancelled = payments.cancel(payments.open().id)
    for payment in (pending, cancelled):
        expect_reason(
            partial(payments.refund, payments.refund_request(payment.id, 1_000)),
            NOT_REFUNDABLE,
            metadata={"payment_id": payment.id, "state": state_name(payment.state)},
        )
    assert payments.get(pending.id) == pending


def test_a_payment_refunded_in_full_is_not_refundable(payments: PaymentDesk) -> None:
    payment = payments.paid()
    payments.refund(payments.refund_request(payment.id, payment.total.amount))
    expect_reason(
        partial(payments.refund, payments.refund_request(payment.id, 1)),
        NOT_REFUNDABLE,
        metadata={"payment_id": payment.id, "state": state_name(payment_pb2.PAYMENT_STATE_REFUNDED)},
    )


def test_more_than_what_is_left_is_refused_with_the_refundable_amount(payments: PaymentDesk) -> None:
    payment = payments.paid()
    total = payment.total.amount
    expect_reason(
        partial(payments.refund, payments.refund_request(payment.id, total + 1)),
        EXCEEDS,
        metadata={"payment_id": payment.id, "refundable_amount": str(total)},
    )
    part = payments.refund(payments.refund_request(payment.id, 1_000))
    expect_reason(
        partial(payments.refund, payments.refund_request(payment.id, total - 1_000 + 1)),
        EXCEEDS,
        metadata={"payment_id": payment.id, "refundable_amount": str(total - 1_000)},
    )
    assert payments.get(payment.id) == part.payment, "a refusal changed the payment"


def test_an_unknown_payment_is_not_found_naming_it(payments: PaymentDesk) -> None:
    expect_reason(
        partial(payments.refund, payments.refund_request(UNKNOWN_PAYMENT_ID, 1_000)),
        ErrorReason.Name(ErrorReason.PAYMENT_NOT_FOUND),
        metadata={"payment_id": UNKNOWN_PAYMENT_ID},
    )


def test_an_amount_in_another_currency_than_the_payment_s_is_refused_naming_it(payments: PaymentDesk) -> None:
    payment = payments.paid()
    request = payments.refund_request(payment.id, 1_000)
    request.amount.CopyFrom(Money(currency_code="USD", amount=1_000))
    expect_invalid_argument(partial(payments.refund, request), "amount.currency_code")
    assert payments.get(payment.id).refunded_total == rupiah(0)


def test_parallel_refunds_never_exceed_the_total(payments: PaymentDesk) -> None:
    payment = payments.paid()
    total = payment.total.amount
    share = total // SHARES
    left = total - SHARES * share

    requests = [payments.refund_request(payment.id, share) for _n in range(PARALLEL)]
    with ThreadPoolExecutor(PARALLEL) as pool:
        outcomes = list(pool.map(lambda r: answer_or_refusal(lambda: payments.refund(r)), requests))
    made = [o for o in outcomes if isinstance(o, payment_service_pb2.RefundPaymentResponse)]
    assert len(made) == SHARES, f"{len(made)} refunds of {share} each of a total of {total}"
    for outcome in outcomes:
        if isinstance(outcome, grpc.RpcError):
            if left:
                expect_reason(outcome, EXCEEDS, metadata={"refundable_amount": str(left)})
            else:
                expect_reason(outcome, NOT_REFUNDABLE)
    after = payments.get(payment.id)
    assert after.refunded_total == rupiah(SHARES * share)
    assert sum(refund.amount.amount for refund in after.refunds) == SHARES * share


def test_the_refunded_event_carries_the_refund_and_the_payment_right_after_it(
    target: Target, payments: PaymentDesk
) -> None:
    payment = payments.paid()
    cursor = sequence_of(target, payments.open())
    part = payments.refund(payments.refund_request(payment.id, 1_000))
    rest = payments.refund(payments.refund_request(payment.id, payment.total.amount - 1_000))
    events = read(
        target,
        cursor,
        lambda events: (
            [e.refund.id for e in events if key(e) == (payment.id, REFUNDED)]
            == [part.refund.id, rest.refund.id]
        ),
    )
    told = [(e.payment, e.refund) for e in events if key(e) == (payment.id, REFUNDED)]
    assert told == [(part.payment, part.refund), (rest.payment, rest.refund)]
    others = [e for e in events if e.type != REFUNDED]
    assert all(not e.HasField("refund") for e in others), "only REFUNDED events carry a refund"


def test_a_refunded_payment_was_paid_for_the_other_methods(target: Target, payments: PaymentDesk) -> None:
    """Cancel: PAYMENT_PAID naming the state; SimulatePayment and a repeated notification
    answer it unchanged (the settlement was handled once, the refund changes nothing)."""
    payments.require_sandbox()
    payment = payments.open()
    notification = sandbox_notification(target, payment)
    target.call(rpc("NotifyPayment"), notification)
    refunded = payments.refund(payments.refund_request(payment.id, payment.total.amount)).payment
    expect_reason(
        partial(payments.cancel, payment.id),
        ErrorReason.Name(ErrorReason.PAYMENT_PAID),
        metadata={"payment_id": payment.id, "state": state_name(payment_pb2.PAYMENT_STATE_REFUNDED)},
    )
    assert payments.simulate(payment.id) == refunded
    again = target.call(rpc("NotifyPayment"), notification)
    assert isinstance(again, payment_service_pb2.NotifyPaymentResponse)
    assert (again.duplicate, again.payment) == (True, refunded)
