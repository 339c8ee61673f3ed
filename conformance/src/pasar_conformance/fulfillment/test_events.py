"""WatchFulfillmentEvents: the backlog after a cursor in sequence order, then live events;
CREATED then SUCCEEDED or FAILED for a fulfillment, each with the fulfillment right after
its change and a well-formed trace context (or none), the ending's that of the creating
call, as CREATED's; a stream resumed after a sequence skips what was seen and misses nothing while
fulfillments are written; cancelled streams free what they hold."""

from __future__ import annotations

from pasar.fulfillment.v1 import fulfillment_service_pb2 as pb
from pasar_conformance.fulfillment.desk import GET, WATCH, FulfillmentDesk
from pasar_conformance.fulfillment.log import (
    CREATED,
    FAILED,
    LOG,
    READ_SECONDS,
    SUCCEEDED,
    Key,
    assert_in_sequence,
    assert_trace_contexts_well_formed,
    key,
    read_until,
    sequence_of,
)
from pasar_conformance.fulfillment.sandbox import LATE, REFUSED_ENDING
from pasar_conformance.target import Target

WRITERS = 4
FULFILLMENTS_PER_WRITER = 5
CANCELLED_STREAMS = 30


def test_the_backlog_comes_in_sequence_order_then_live_events(
    target: Target, desk: FulfillmentDesk, cursor: int
) -> None:
    stored = [desk.open(ending=LATE) for _ in range(3)]
    stream = target.stream(
        WATCH, pb.WatchFulfillmentEventsRequest(after_sequence=cursor), timeout=READ_SECONDS
    )
    events = []
    try:
        waited: set[Key] = {(f.id, CREATED) for f in stored}
        live = None
        for answer in stream:
            assert isinstance(answer, pb.WatchFulfillmentEventsResponse)
            events.append(answer.event)
            waited.discard(key(answer.event))
            if not waited and live is None:
                # The backlog is read: what happens now comes live on the same stream.
                live = desk.open(ending=LATE)
                waited = {(live.id, CREATED)}
            elif not waited:
                break
    finally:
        stream.cancel()
    assert live is not None, f"the stream ended with {stream.code()} before the backlog"
    assert not waited, f"the stream ended with {stream.code()} before the live event"
    assert events[0].sequence > cursor
    assert_in_sequence(events)
    ours = [key(e) for e in events if e.fulfillment.id in {f.id for f in [*stored, live]}]
    assert ours == [(f.id, CREATED) for f in [*stored, live]], (
        "the events are not in the order things happened"
    )
    for event, fulfillment in zip([e for e in events if key(e) in ours], [*stored, live], strict=True):
        assert event.fulfillment == fulfillment, "a CREATED event carries the fulfillment as created"
        assert event.create_time.ToSeconds() > 0
    assert_trace_contexts_well_formed(events)


def test_a_fulfillment_is_told_created_then_ended_with_it_right_after_each_change(
    target: Target, desk: FulfillmentDesk, cursor: int
) -> None:
    desk.require_sandbox()
    delivered = desk.open()
    failed = desk.open(ending=REFUSED_ENDING)
    ends = {delivered.id: desk.ended(delivered.id), failed.id: desk.ended(failed.id)}
    marker = desk.open(ending=LATE)
    events = read_until(target, cursor, (marker.id, CREATED))
    assert_in_sequence(events)
    assert_trace_contexts_well_formed(events)
    for made, end_type in ((delivered, SUCCEEDED), (failed, FAILED)):
        told = [(e.type, e.fulfillment) for e in events if e.fulfillment.id == made.id]
        assert told == [(CREATED, made), (end_type, ends[made.id])], (
            f"the events of {made.id}: {[(t, f.state) for t, f in told]}"
        )
        # The ending follows the biller's answer: its cause is the creating call (v1.4).
        created, ended = [e.trace_context for e in events if e.fulfillment.id == made.id]
        assert ended == created, f"{made.id}: the ending's trace_context is not CreateFulfillment's"


def test_a_stream_resumed_after_a_sequence_skips_what_was_seen_and_misses_nothing(
    target: Target, desk: FulfillmentDesk, cursor: int
) -> None:
    start = sequence_of(target, desk.open(ending=LATE), cursor)

    def write() -> set[Key]:
        return {(desk.open(ending=LATE).id, CREATED) for _ in range(FULFILLMENTS_PER_WRITER)}

    LOG.assert_resumed_streams_miss_nothing(target, start, write, WRITERS, WRITERS * FULFILLMENTS_PER_WRITER)


def test_cancelled_streams_free_what_they_hold(target: Target, desk: FulfillmentDesk, cursor: int) -> None:
    LOG.assert_cancelled_streams_free_what_they_hold(
        target,
        sequence_of(target, desk.open(ending=LATE), cursor),
        CANCELLED_STREAMS,
        lambda: target.call(GET, desk.readable(), timeout=5),
        lambda: (desk.open(ending=LATE).id, CREATED),
    )
