"""Reading the payment event log over WatchPaymentEvents: a stream's events until the reader
has what it waits for, and where a payment's CREATED event sits in the log."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from pasar.payment.v1 import payment_pb2, payment_service_pb2
from pasar_conformance.payment.shop import rpc
from pasar_conformance.target import Target

WATCH = rpc("WatchPaymentEvents")
CREATED = payment_pb2.PAYMENT_EVENT_TYPE_CREATED
# How long a reader waits for the events it expects before it counts them as missed.
READ_SECONDS = 30.0

Key = tuple[str, int]  # (payment id, event type)


def key(event: payment_pb2.PaymentEvent) -> Key:
    return (event.payment.id, event.type)


def read(
    target: Target, after: int, done: Callable[[list[payment_pb2.PaymentEvent]], bool]
) -> list[payment_pb2.PaymentEvent]:
    """The events of a stream opened after sequence `after`, until done(events); then cancelled."""
    events: list[payment_pb2.PaymentEvent] = []
    stream = target.stream(
        WATCH, payment_service_pb2.WatchPaymentEventsRequest(after_sequence=after), timeout=READ_SECONDS
    )
    try:
        for answer in stream:
            assert isinstance(answer, payment_service_pb2.WatchPaymentEventsResponse)
            events.append(answer.event)
            if done(events):
                return events
    finally:
        stream.cancel()
    pytest.fail(f"the stream after {after} ended with {stream.code()} before the expected events")


def sequence_of(target: Target, payment: payment_pb2.Payment, after: int = 0) -> int:
    """The sequence of payment's CREATED event, read from the log after `after`."""
    events = read(target, after, lambda events: key(events[-1]) == (payment.id, CREATED))
    return events[-1].sequence
