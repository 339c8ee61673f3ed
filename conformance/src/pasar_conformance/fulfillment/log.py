"""The fulfillment event log (WatchFulfillmentEvents), read with the kit's one event-log
reader: a stream's events until the reader has what it waits for, and where a
fulfillment's CREATED event sits in the log."""

from __future__ import annotations

from pasar.fulfillment.v1 import fulfillment_pb2 as ful_pb
from pasar.fulfillment.v1 import fulfillment_service_pb2 as pb
from pasar_conformance.event_log import (
    READ_SECONDS,
    EventLog,
    Key,
    assert_in_sequence,
    assert_trace_contexts_well_formed,
)
from pasar_conformance.fulfillment.desk import WATCH
from pasar_conformance.target import Target

__all__ = [
    "CREATED",
    "FAILED",
    "LOG",
    "READ_SECONDS",
    "SUCCEEDED",
    "Key",
    "assert_in_sequence",
    "assert_trace_contexts_well_formed",
    "key",
    "read",
    "read_until",
    "sequence_of",
    "types_of",
]

CREATED = ful_pb.FULFILLMENT_EVENT_TYPE_CREATED
SUCCEEDED = ful_pb.FULFILLMENT_EVENT_TYPE_SUCCEEDED
FAILED = ful_pb.FULFILLMENT_EVENT_TYPE_FAILED

LOG = EventLog[ful_pb.FulfillmentEvent](
    WATCH, lambda after: pb.WatchFulfillmentEventsRequest(after_sequence=after), "fulfillment"
)
key = LOG.key
read = LOG.read
read_until = LOG.read_until
types_of = LOG.types_of


def sequence_of(target: Target, fulfillment: ful_pb.Fulfillment, after: int = 0) -> int:
    """The sequence of fulfillment's CREATED event, read from the log after `after`."""
    return LOG.sequence_of(target, (fulfillment.id, CREATED), after)
