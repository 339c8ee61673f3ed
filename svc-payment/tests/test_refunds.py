"""RefundPayment: money of a paid payment given back, idempotently, never more than its total,
told by a REFUNDED event; and what a refunded payment answers to the other RPCs."""

from __future__ import annotations

import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, timedelta
from functools import partial

import grpc
import pytest
from conftest import (
    EVENT_TYPE,
    PAYMENT_STATE,
    WEBHOOK_SECRET,
    RunningService,
    StartService,
    create_payment,
    paid_payment,
    refund,
    refund_request,
    run_concurrently,
    stored_events,
)

from pasar.common.v1.money_pb2 import Money
from pasar.payment.v1 import payment_pb2, payment_service_pb2, payment_service_pb2_grpc
from pasar.payment.v1.error_reason_pb2 import ErrorReason
from pasar_kit.errors import FailedPrecondition
from pasar_kit.ids import new_id
from pasar_kit.money import rupiah
from pasar_payment.events import EventFeed
from pasar_payment.expiry import expire_due_payments
from pasar_payment.models import Refund, RefundState
from pasar_payment.providers.base import ProviderRefund, RefundOrder
from pasar_payment.providers.sandbox import SandboxProvider
from pasar_payment.refunds import PaymentRefunder, RefundOutcome
from pasar_testkit.assertions import error_metadata, reason_of, refused, violated_fields

PaymentStub = payment_service_pb2_grpc.PaymentServiceStub
REFUND_STATE = payment_pb2.RefundState
TOTAL = 54_000  # the default paid payment: bca_va, 50.000 and its Rp 4.000 fee


def get(stub: PaymentStub, payment_id: str) -> payment_pb2.Payment:
    return stub.GetPayment(payment_service_pb2.GetPaymentRequest(id=payment_id), timeout=10).payment


def refunded_events(service: RunningService) -> list[str]:
    return [payment_id for _, kind, payment_id in stored_events(service.database) if kind == "REFUNDED"]


def watch_after(stub: PaymentStub, after: int, count: int) -> list[payment_pb2.PaymentEvent]:
    call = stub.WatchPaymentEvents(
        payment_service_pb2.WatchPaymentEventsRequest(after_sequence=after), timeout=30
    )
    events = []
    for response in call:
        events.append(response.event)
        if len(events) == count:
            call.cancel()
            break
    return events


def test_a_paid_payment_is_refunded_in_part_then_in_full(service: RunningService) -> None:
    payment = paid_payment(service.stub)
    assert payment.total.amount == TOTAL
    first = refund(service.stub, payment.id, 20_000, request_id="ful_line-1", reason="delivery failed")
    assert first.refund.id.startswith("rfd_")
    assert len(first.refund.id) == 36
    assert (first.refund.payment_id, first.refund.request_id, first.refund.amount, first.refund.reason) == (
        payment.id,
        "ful_line-1",
        rupiah(20_000),
        "delivery failed",
    )
    assert first.refund.state == REFUND_STATE.REFUND_STATE_SUCCEEDED
    assert first.refund.provider_reference.startswith("SBXR")
    assert first.refund.HasField("create_time")
    assert first.refund.HasField("complete_time")
    assert (first.payment.state, first.payment.refunded_total) == (
        PAYMENT_STATE.PAYMENT_STATE_PAID,
        rupiah(20_000),
    )
    assert list(first.payment.refunds) == [first.refund]
    assert first.payment.update_time.ToDatetime() > payment.update_time.ToDatetime()
    assert get(service.stub, payment.id) == first.payment

    rest = refund(service.stub, payment.id, TOTAL - 20_000, request_id="ord_1:fee")
    assert rest.payment.state == PAYMENT_STATE.PAYMENT_STATE_REFUNDED
    assert rest.payment.refunded_total == rupiah(TOTAL)
    assert list(rest.payment.refunds) == [first.refund, rest.refund], "oldest first"
    assert get(service.stub, payment.id) == rest.payment
    assert refunded_events(service) == [payment.id, payment.id]


def test_a_payment_without_refunds_carries_a_zero_refunded_total(service: RunningService) -> None:
    payment = create_payment(service.stub)
    assert payment.HasField("refunded_total")
    assert payment.refunded_total == rupiah(0)
    assert list(payment.refunds) == []
    created = watch_after(service.stub, 0, 1)[0]
    assert created.payment.refunded_total == rupiah(0)
    assert not created.HasField("refund"), "only a REFUNDED event carries a refund"


def test_the_event_stream_tells_each_refund_with_the_payment_right_after_it(service: RunningService) -> None:
    payment = paid_payment(service.stub)
    paid_sequence = stored_events(service.database)[-1][0]
    part = refund(service.stub, payment.id, 4_000)
    rest = refund(service.stub, payment.id, TOTAL - 4_000)
    events = watch_after(service.stub, paid_sequence, 2)
    assert [event.type for event in events] == [EVENT_TYPE.PAYMENT_EVENT_TYPE_REFUNDED] * 2
    assert [(event.payment, event.refund) for event in events] == [
        (part.payment, part.refund),
        (rest.payment, rest.refund),
    ]
    assert events[1].payment.state == PAYMENT_STATE.PAYMENT_STATE_REFUNDED


def test_a_retry_answers_the_first_refund_unchanged(service: RunningService) -> None:
    payment = paid_payment(service.stub)
    first = refund(service.stub, payment.id, TOTAL, request_id="ful_retried")
    assert first.payment.state == PAYMENT_STATE.PAYMENT_STATE_REFUNDED
    # The payment is refunded in full now; the retry still answers its refund, whatever its reason.
    again = refund(service.stub, payment.id, TOTAL, request_id="ful_retried", reason="asked again")
    assert again == first
    assert refunded_events(service) == [payment.id]


def test_parallel_retries_of_one_refund_make_one_refund(service: RunningService) -> None:
    payment = paid_payment(service.stub)
    request = refund_request(payment.id, 10_000)
    results = run_concurrently(12, lambda _: service.stub.RefundPayment(request, timeout=30))
    answers = [result for result in results if isinstance(result, payment_service_pb2.RefundPaymentResponse)]
    assert len(answers) == 12, results
    assert len({answer.refund.id for answer in answers}) == 1
    assert get(service.stub, payment.id).refunded_total == rupiah(10_000)
    assert refunded_events(service) == [payment.id]


def test_a_request_id_used_for_another_amount_or_payment_is_refused_naming_the_refund(
    service: RunningService,
) -> None:
    payment, other = paid_payment(service.stub), paid_payment(service.stub)
    first = refund(service.stub, payment.id, 5_000, request_id="ful_once")
    for reused in (
        refund_request(payment.id, 6_000, "ful_once"),
        refund_request(other.id, 5_000, "ful_once"),
    ):
        error = refused(partial(service.stub.RefundPayment, reused, timeout=10))
        assert (error.code(), reason_of(error), error_metadata(error)) == (
            grpc.StatusCode.ALREADY_EXISTS,
            ErrorReason.Name(ErrorReason.REFUND_REQUEST_REUSED),
            {"refund_id": first.refund.id},
        )
    assert get(service.stub, payment.id) == first.payment
    assert get(service.stub, other.id).refunded_total == rupiah(0)


def test_request_ids_differing_only_in_case_are_other_refunds(service: RunningService) -> None:
    """The contract allows both cases; MariaDB's default collation would find one the other's."""
    payment = paid_payment(service.stub)
    lower = refund(service.stub, payment.id, 1_000, request_id="ful-abc")
    upper = refund(service.stub, payment.id, 2_000, request_id="FUL-ABC")
    assert lower.refund.id != upper.refund.id
    assert upper.payment.refunded_total == rupiah(3_000)


def test_only_a_paid_payment_is_refunded(service: RunningService) -> None:
    pending = create_payment(service.stub)
    cancelled = create_payment(service.stub)
    service.stub.CancelPayment(payment_service_pb2.CancelPaymentRequest(id=cancelled.id), timeout=10)
    expired = create_payment(service.stub, channel_code="qris", amount=10_000)
    after_expiry = expired.expire_time.ToDatetime(tzinfo=UTC) + timedelta(seconds=1)
    with service.database.connection_context():
        expire_due_payments(service.database, EventFeed(), now=after_expiry)
    refunded = paid_payment(service.stub)
    refund(service.stub, refunded.id, TOTAL)
    for payment, state in (
        (pending, PAYMENT_STATE.PAYMENT_STATE_PENDING),
        (cancelled, PAYMENT_STATE.PAYMENT_STATE_CANCELLED),
        (expired, PAYMENT_STATE.PAYMENT_STATE_EXPIRED),
        (refunded, PAYMENT_STATE.PAYMENT_STATE_REFUNDED),
    ):
        error = refused(partial(refund, service.stub, payment.id, 1_000))
        assert (error.code(), reason_of(error), error_metadata(error)) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            ErrorReason.Name(ErrorReason.PAYMENT_NOT_REFUNDABLE),
            {"payment_id": payment.id, "state": PAYMENT_STATE.Name(state)},
        )
    assert refunded_events(service) == [refunded.id]


def test_more_than_what_is_left_is_refused_with_the_refundable_amount(service: RunningService) -> None:
    payment = paid_payment(service.stub)
    for already, asked in ((0, TOTAL + 1), (20_000, TOTAL - 20_000 + 1)):
        if already:
            refund(service.stub, payment.id, already)
        error = refused(partial(refund, service.stub, payment.id, asked))
        assert (error.code(), reason_of(error), error_metadata(error)) == (
            grpc.StatusCode.FAILED_PRECONDITION,
            ErrorReason.Name(ErrorReason.REFUND_EXCEEDS_PAYMENT),
            {"payment_id": payment.id, "refundable_amount": str(TOTAL - already)},
        )
    assert get(service.stub, payment.id).refunded_total == rupiah(20_000)


def test_an_unknown_payment_is_not_found(stub: PaymentStub) -> None:
    missing = new_id("pay")
    error = refused(lambda: refund(stub, missing, 1_000))
    assert (error.code(), reason_of(error), error_metadata(error)) == (
        grpc.StatusCode.NOT_FOUND,
        ErrorReason.Name(ErrorReason.PAYMENT_NOT_FOUND),
        {"payment_id": missing},
    )


@pytest.mark.parametrize(
    ("amount", "field"),
    [
        (Money(currency_code="USD", amount=1_000), "amount.currency_code"),
        (rupiah(0), "amount"),
        (None, "amount"),
    ],
    ids=["another-currency", "zero", "missing"],
)
def test_an_amount_not_in_the_payment_s_rupiah_is_invalid(
    service: RunningService, amount: Money | None, field: str
) -> None:
    payment = paid_payment(service.stub)
    request = refund_request(payment.id, 1_000)
    request.ClearField("amount")
    if amount is not None:
        request.amount.CopyFrom(amount)
    error = refused(lambda: service.stub.RefundPayment(request, timeout=10))
    assert (error.code(), violated_fields(error)) == (grpc.StatusCode.INVALID_ARGUMENT, [field])
    assert get(service.stub, payment.id).refunded_total == rupiah(0)


def test_concurrent_refunds_of_one_payment_never_exceed_its_total(service: RunningService) -> None:
    payment = paid_payment(service.stub)  # 54.000: seven refunds of 7.000 fit, 5.000 is left
    results = run_concurrently(16, lambda _: refund(service.stub, payment.id, 7_000))
    made = [result for result in results if isinstance(result, payment_service_pb2.RefundPaymentResponse)]
    refusals = [result for result in results if isinstance(result, grpc.RpcError)]
    assert (len(made), len(refusals)) == (7, 9), results
    for error in refusals:
        assert (reason_of(error), error_metadata(error)["refundable_amount"]) == (
            ErrorReason.Name(ErrorReason.REFUND_EXCEEDS_PAYMENT),
            "5000",
        )
    after = get(service.stub, payment.id)
    assert after.refunded_total == rupiah(49_000)
    assert sum(r.amount.amount for r in after.refunds) == 49_000
    assert refunded_events(service) == [payment.id] * 7
    # Every answer told the payment as that refund left it: seven different totals.
    assert sorted(answer.payment.refunded_total.amount for answer in made) == list(
        range(7_000, 49_001, 7_000)
    )


class SlowRefunds(SandboxProvider):
    """The sandbox answering a refund after a moment, as a provider over the network does:
    refunds of one payment overlap for that long unless its row lock orders them."""

    def refund_payment(self, order: RefundOrder) -> ProviderRefund:
        time.sleep(0.05)
        return super().refund_payment(order)


def test_refunds_racing_with_a_slow_provider_never_exceed_the_total(service: RunningService) -> None:
    """Sixteen refunds of 7.000 of a 54.000 payment, each on a connection opened beforehand (a
    new connection opens under the pool's lock, one at a time, which would order the calls by
    itself), all released at once. Without the payment's row lock, on MariaDB, calls ended in
    deadlocks (each refund's foreign key check share-locks the payment row the others then
    update) and two refunds were made."""
    payment = paid_payment(service.stub)
    refunder = PaymentRefunder(service.database, SlowRefunds(WEBHOOK_SECRET), EventFeed())
    connected = threading.Barrier(16)

    def race(index: int) -> RefundOutcome | Exception:
        with service.database.connection_context():
            service.database.execute_sql("SELECT 1")
            connected.wait()
            try:
                return refunder.refund_payment(
                    payment_id=payment.id, request_id=f"race-{index}", amount=7_000, reason="delivery failed"
                )
            except Exception as error:  # collected for the test to assert on
                return error

    with ThreadPoolExecutor(16) as pool:
        outcomes = list(pool.map(race, range(16)))
    made = [outcome for outcome in outcomes if isinstance(outcome, RefundOutcome)]
    assert len(made) == 7, outcomes
    assert all(isinstance(outcome, FailedPrecondition) for outcome in outcomes if outcome not in made)
    after = get(service.stub, payment.id)
    assert after.refunded_total == rupiah(49_000)
    assert sum(r.amount.amount for r in after.refunds) == 49_000


class CountedSlowRefunds(SlowRefunds):
    """SlowRefunds counting the refunds it was asked for: money a real provider would move."""

    def __init__(self, webhook_secret: str) -> None:
        super().__init__(webhook_secret)
        self.asked: list[RefundOrder] = []
        self._lock = threading.Lock()

    def refund_payment(self, order: RefundOrder) -> ProviderRefund:
        with self._lock:
            self.asked.append(order)
        return super().refund_payment(order)


def test_one_request_id_racing_over_several_payments_asks_the_provider_once(service: RunningService) -> None:
    """The refund claims its request id before the provider is asked. When the provider was
    asked first, on MariaDB, all eight payments were refunded at the provider and seven of
    those refunds were then refused (REFUND_REQUEST_REUSED) and recorded nowhere."""
    payments = [paid_payment(service.stub) for _ in range(8)]
    provider = CountedSlowRefunds(WEBHOOK_SECRET)
    refunder = PaymentRefunder(service.database, provider, EventFeed())
    connected = threading.Barrier(len(payments))

    def race(payment: payment_pb2.Payment) -> RefundOutcome | Exception:
        with service.database.connection_context():
            service.database.execute_sql("SELECT 1")
            connected.wait()
            try:
                return refunder.refund_payment(
                    payment_id=payment.id, request_id="ful_raced", amount=1_000, reason="delivery failed"
                )
            except Exception as error:  # collected for the test to assert on
                return error

    with ThreadPoolExecutor(len(payments)) as pool:
        outcomes = list(pool.map(race, payments))
    made = [outcome for outcome in outcomes if isinstance(outcome, RefundOutcome)]
    assert len(made) == 1, outcomes
    reused = ErrorReason.Name(ErrorReason.REFUND_REQUEST_REUSED)
    assert all(getattr(outcome, "reason", None) == reused for outcome in outcomes if outcome not in made)
    assert [order.payment_id for order in provider.asked] == [made[0].payment.id]


def test_a_refunded_payment_cannot_be_cancelled(service: RunningService) -> None:
    """It was paid: CancelPayment answered it unchanged, as if it had ended unpaid."""
    payment = paid_payment(service.stub)
    refund(service.stub, payment.id, TOTAL)
    error = refused(
        lambda: service.stub.CancelPayment(
            payment_service_pb2.CancelPaymentRequest(id=payment.id), timeout=10
        )
    )
    assert (error.code(), reason_of(error), error_metadata(error)) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        ErrorReason.Name(ErrorReason.PAYMENT_PAID),
        {"payment_id": payment.id, "state": PAYMENT_STATE.Name(PAYMENT_STATE.PAYMENT_STATE_REFUNDED)},
    )


def test_a_refunded_payment_is_returned_unchanged_when_simulated_again(service: RunningService) -> None:
    """SimulatePayment answered PAYMENT_NOT_PENDING, as for a payment that ended unpaid."""
    payment = paid_payment(service.stub)
    refunded = refund(service.stub, payment.id, TOTAL).payment
    again = service.stub.SimulatePayment(
        payment_service_pb2.SimulatePaymentRequest(id=payment.id), timeout=10
    )
    assert again.payment == refunded


def test_a_repeated_settlement_of_a_refunded_payment_is_a_duplicate(
    service: RunningService, caplog: pytest.LogCaptureFixture
) -> None:
    """A provider delivers at least once: a repeat after the refund was logged as an ERROR
    that the shopper must be refunded, and refused with PAYMENT_NOT_PENDING."""
    payment = create_payment(service.stub)
    notification = SandboxProvider(WEBHOOK_SECRET).settlement_notification(
        payment_id=payment.id,
        provider_reference=payment.provider_reference,
        paid_amount=payment.total.amount,
        currency_code=payment.total.currency_code,
    )
    request = payment_service_pb2.NotifyPaymentRequest(
        provider="sandbox", payload=notification.payload, signature=notification.signature
    )
    service.stub.NotifyPayment(request, timeout=10)
    refund(service.stub, payment.id, 1_000)
    refund(service.stub, payment.id, TOTAL - 1_000)
    refunded = get(service.stub, payment.id)
    with caplog.at_level(logging.ERROR):
        again = service.stub.NotifyPayment(request, timeout=10)
    assert (again.duplicate, again.payment) == (True, refunded)
    assert not [record for record in caplog.records if record.levelno >= logging.ERROR]


class LaterRefunds(SandboxProvider):
    """A provider that accepts refunds and confirms them later (its notification is not built)."""

    def refund_payment(self, order: RefundOrder) -> ProviderRefund:
        return ProviderRefund(
            provider_reference=f"LATER-{order.refund_id}", state=RefundState.PENDING, complete_time=None
        )


def test_a_refund_the_provider_confirms_later_is_pending_and_counts_already(
    start_service: StartService,
) -> None:
    service = start_service(LaterRefunds(WEBHOOK_SECRET))
    payment = paid_payment(service.stub)
    answer = refund(service.stub, payment.id, TOTAL - 1)
    assert answer.refund.state == REFUND_STATE.REFUND_STATE_PENDING
    assert not answer.refund.HasField("complete_time")
    assert answer.payment.refunded_total == rupiah(TOTAL - 1)
    error = refused(lambda: refund(service.stub, payment.id, 2))
    assert error_metadata(error)["refundable_amount"] == "1"


def test_the_sandbox_refunds_at_once_with_one_reference_per_request() -> None:
    sandbox = SandboxProvider(WEBHOOK_SECRET)

    def order(request_id: str) -> RefundOrder:
        return RefundOrder(
            new_id("rfd"), new_id("pay"), "SBXREF", request_id, 1_000, "IDR", "delivery failed"
        )

    first, again, other = (sandbox.refund_payment(order(key)) for key in ("ful_1", "ful_1", "ful_2"))
    assert (first.state, first.complete_time is not None) == (RefundState.SUCCEEDED, True)
    assert first.provider_reference == again.provider_reference != other.provider_reference


def test_refunds_are_stored_with_the_payment_s_currency(service: RunningService) -> None:
    payment = paid_payment(service.stub)
    answer = refund(service.stub, payment.id, 3_000)
    with service.database.connection_context():
        stored = Refund.get_by_id(answer.refund.id)
    assert (stored.payment_id, stored.currency_code, stored.amount, stored.state) == (
        payment.id,
        "IDR",
        3_000,
        RefundState.SUCCEEDED,
    )
