"""Reading the fulfillment event log over WatchFulfillmentEvents: a stream's events until the
reader has what it waits for, and where a fulfillment's CREATED event sits in the log."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Iterable

import pytest

from pasar.fulfillment.v1 import fulfillment_pb2 as ful_pb
from pasar.fulfillment.v1 import fulfillment_service_pb2 as pb
from pasar_conformance.fulfillment.desk import WATCH
from pasar_conformance.target import Target

CREATED = ful_pb.FULFILLMENT_EVENT_TYPE_CREATED
SUCCEEDED = ful_pb.FULFILLMENT_EVENT_TYPE_SUCCEEDED
FAILED = ful_pb.FULFILLMENT_EVENT_TYPE_FAILED
# How long a reader waits for the events it expects before it counts them as missed.
READ_SECONDS = 30.0

Key = tuple[str, int]  # (fulfillment id, event type)


def key(event: ful_pb.FulfillmentEvent) -> Key:
    return (event.fulfillment.id, event.type)


def read(
    target: Target, after: int, done: Callable[[list[ful_pb.FulfillmentEvent]], bool]
) -> list[ful_pb.FulfillmentEvent]:
    """The events of a stream opened after sequence `after`, until done(events); then cancelled."""
    events: list[ful_pb.FulfillmentEvent] = []
    stream = target.stream(
        WATCH, pb.WatchFulfillmentEventsRequest(after_sequence=after), timeout=READ_SECONDS
    )
    try:
        for answer in stream:
            assert isinstance(answer, pb.WatchFulfillmentEventsResponse)
            events.append(answer.event)
            if done(events):
                return events
    finally:
        stream.cancel()
    pytest.fail(f"the stream after {after} ended with {stream.code()} before the expected events")


def read_until(target: Target, after: int, last: Key) -> list[ful_pb.FulfillmentEvent]:
    """The events after `after` up to the one with key last."""
    return read(target, after, lambda events: key(events[-1]) == last)


def sequence_of(target: Target, fulfillment: ful_pb.Fulfillment, after: int = 0) -> int:
    """The sequence of fulfillment's CREATED event, read from the log after `after`."""
    return read_until(target, after, (fulfillment.id, CREATED))[-1].sequence


def types_of(events: Iterable[ful_pb.FulfillmentEvent], fulfillment_id: str) -> list[int]:
    """The types of fulfillment_id's events, in the log's order."""
    return [e.type for e in events if e.fulfillment.id == fulfillment_id]


def assert_in_sequence(events: list[ful_pb.FulfillmentEvent]) -> None:
    sequences = [e.sequence for e in events]
    assert all(a < b for a, b in itertools.pairwise(sequences)), (
        f"sequences not strictly increasing (an event repeated or out of order): {sequences}"
    )
