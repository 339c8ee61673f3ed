"""WatchPaymentEvents: the log in sequence order, each event with the payment right after its
change and a well-formed trace context (or none); resumed from a cursor with nothing missed
and nothing repeated while payments are written; cancelled streams free what they hold."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest

from pasar.payment.v1 import payment_pb2, payment_service_pb2
from pasar_conformance.answers import expect_invalid_argument, retrying
from pasar_conformance.event_log import assert_in_sequence, assert_trace_contexts_well_formed
from pasar_conformance.payment.log import CREATED, LOG, READ_SECONDS, WATCH, Key, key, read, sequence_of
from pasar_conformance.payment.shop import PaymentDesk, rpc, sandbox_notification
from pasar_conformance.target import Target

PAID = payment_pb2.PAYMENT_EVENT_TYPE_PAID
CANCELLED = payment_pb2.PAYMENT_EVENT_TYPE_CANCELLED
WRITERS = 4
PAYMENTS_PER_WRITER = 10
CANCELLED_STREAMS = 50


@pytest.fixture(scope="module")
def cursor(target: Target, payments: PaymentDesk) -> int:
    """A sequence of the log near its end: the CREATED event of a payment the module made."""
    return sequence_of(target, payments.open())


def test_events_tell_each_change_with_the_payment_right_after_it(
    target: Target, payments: PaymentDesk, cursor: int
) -> None:
    created = payments.open()
    cancelled = payments.cancel(created.id)
    changes = [(created.id, CREATED, created), (created.id, CANCELLED, cancelled)]
    if payments.sandbox():
        settled = payments.open()
        changes += [(settled.id, CREATED, settled), (settled.id, PAID, payments.simulate(settled.id))]
    last = changes[-1][:2]
    events = read(target, cursor, lambda events: key(events[-1]) == last)
    assert_in_sequence(events)
    assert events[0].sequence > cursor
    ids = {payment_id for payment_id, _type, _payment in changes}
    told = [(e.payment.id, e.type, e.payment) for e in events if e.payment.id in ids]
    assert told == changes
    for event in events:
        assert event.create_time.ToSeconds() > 0
    assert_trace_contexts_well_formed(events)


def test_a_stream_resumed_from_its_cursor_misses_nothing_and_repeats_nothing_while_payments_are_written(
    target: Target, payments: PaymentDesk, cursor: int
) -> None:
    start = sequence_of(target, payments.open(), cursor)
    settle = payments.simulate if payments.sandbox() else payments.cancel
    settled_type = PAID if payments.sandbox() else CANCELLED

    def write() -> set[Key]:
        made: set[Key] = set()
        for n in range(PAYMENTS_PER_WRITER):
            payment = payments.open()
            made.add((payment.id, CREATED))
            if n % 2 == 0:
                settle(payment.id)
                made.add((payment.id, settled_type))
            else:
                payments.cancel(payment.id)
                made.add((payment.id, CANCELLED))
        return made

    LOG.assert_resumed_streams_miss_nothing(target, start, write, WRITERS, WRITERS * PAYMENTS_PER_WRITER * 2)


def test_racing_settlements_make_one_paid_event(target: Target, payments: PaymentDesk, cursor: int) -> None:
    payments.require_sandbox()
    payment = payments.open()
    notification = sandbox_notification(target, payment)
    settlements: list[Callable[[], object]] = [
        lambda: payments.simulate(payment.id),
        lambda: target.call(rpc("NotifyPayment"), notification),
        lambda: target.call(rpc("NotifyPayment"), sandbox_notification(target, payment)),
    ]
    with ThreadPoolExecutor(len(settlements) * 3) as pool:
        list(pool.map(retrying, settlements * 3))
    marker = payments.open()
    events = read(target, cursor, lambda events: key(events[-1]) == (marker.id, CREATED))
    assert [e.type for e in events if e.payment.id == payment.id] == [CREATED, PAID]


def test_cancelled_streams_free_what_they_hold(target: Target, payments: PaymentDesk, cursor: int) -> None:
    def still_answers() -> None:
        answer = target.call(
            rpc("ListPaymentChannels"), payment_service_pb2.ListPaymentChannelsRequest(page_size=1), timeout=5
        )
        assert answer.ByteSize() > 0

    LOG.assert_cancelled_streams_free_what_they_hold(
        target,
        sequence_of(target, payments.open(), cursor),
        CANCELLED_STREAMS,
        still_answers,
        lambda: (payments.open().id, CREATED),
    )


def test_a_stream_of_some_types_is_sent_those_and_told_how_far_it_passed_the_rest(
    target: Target, payments: PaymentDesk, cursor: int
) -> None:
    """WatchPaymentEventsRequest.types: only events of those types are sent; the others the
    stream passes over are reported by a message without an event, its passed_sequence the
    newest of them."""
    start = sequence_of(target, payments.open(), cursor)
    cancelled = payments.open()
    payments.cancel(cancelled.id)
    last = sequence_of(target, payments.open(), start)  # a CREATED event after the CANCELLED one
    request = payment_service_pb2.WatchPaymentEventsRequest(after_sequence=start, types=[CANCELLED])
    stream = target.stream(WATCH, request, timeout=READ_SECONDS)
    told: list[str] = []
    try:
        for answer in stream:
            assert isinstance(answer, payment_service_pb2.WatchPaymentEventsResponse)
            if answer.HasField("event"):
                assert answer.event.type == CANCELLED, f"sent an event of type {answer.event.type}"
                told.append(answer.event.payment.id)
            elif answer.passed_sequence >= last:
                break
            else:
                assert answer.passed_sequence > start, "passed_sequence is a sequence the stream passed"
        else:
            pytest.fail(f"the stream ended with {stream.code()} before it reported passing {last}")
    finally:
        stream.cancel()
    assert cancelled.id in told


def test_a_negative_cursor_is_invalid(target: Target) -> None:
    expect_invalid_argument(
        lambda: target.call(WATCH, payment_service_pb2.WatchPaymentEventsRequest(after_sequence=-1)),
        "after_sequence",
    )
