"""Reading a service's event log over its Watch…Events stream.

The payment and fulfillment logs have one shape (contracts: ``after_sequence`` in, one
answer per event, each ``event`` carrying its resource, ``sequence`` strictly increasing),
so one reader serves both suites: an :class:`EventLog` names the stream method, how to ask
for events after a sequence, and the event's field holding the resource.
"""

from __future__ import annotations

import itertools
import re
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any, Generic, Protocol, TypeVar

import grpc
import pytest
from buf.validate import validate_pb2
from google.protobuf import message

from pasar.common.v1 import trace_context_pb2
from pasar_conformance.target import Target

# How long a reader waits for the events it expects before it counts them as missed.
READ_SECONDS = 30.0
# When a waiting stream (EventLog.waiting_request) gets an event to answer its last call with.
NEXT_EVENT_AFTER_SECONDS = 1.0

Key = tuple[str, int]  # (the resource's id, event type)


class Resource(Protocol):
    @property
    def id(self) -> str: ...


E = TypeVar("E", bound=message.Message)


@dataclass(frozen=True)
class EventLog(Generic[E]):
    """One service's log: its stream method, its request after a sequence, the event's resource field."""

    method: str
    request_after: Callable[[int], message.Message]
    resource_field: str

    def key(self, event: E) -> Key:
        return (self.resource_id(event), self.event_type(event))

    def resource_id(self, event: E) -> str:
        resource: Any = getattr(event, self.resource_field)
        return str(resource.id)

    @staticmethod
    def event_type(event: E) -> int:
        kind: int = getattr(event, "type")  # noqa: B009 - every log's event has a type
        return kind

    def read(self, target: Target, after: int, done: Callable[[list[E]], bool]) -> list[E]:
        """The events of a stream opened after sequence `after`, until done(events); then cancelled."""
        events: list[E] = []
        stream = target.stream(self.method, self.request_after(after), timeout=READ_SECONDS)
        try:
            for answer in stream:
                event: E = getattr(answer, "event")  # noqa: B009 - every log's answer has an event
                events.append(event)
                if done(events):
                    return events
        finally:
            stream.cancel()
        pytest.fail(f"the stream after {after} ended with {stream.code()} before the expected events")

    def read_until(self, target: Target, after: int, last: Key) -> list[E]:
        """The events after `after` up to the one with key last."""
        return self.read(target, after, lambda events: self.key(events[-1]) == last)

    def sequence_of(self, target: Target, created: Key, after: int = 0) -> int:
        """The sequence of the event with key created, read from the log after `after`."""
        last: Any = self.read_until(target, after, created)[-1]
        return int(last.sequence)

    def types_of(self, events: Iterable[E], resource_id: str) -> list[int]:
        """The types of resource_id's events, in the log's order."""
        return [self.event_type(e) for e in events if self.resource_id(e) == resource_id]

    def waiting_request(self, target: Target, create: Callable[[], Key]) -> message.Message:
        """A request for the events after the log's last one (create() makes an event and
        returns its key): a stream of it has nothing to send, so a short deadline must end it
        whatever the server's speed (the common deadline check). An event create() makes a
        moment later gives the check's final call its answer."""
        last = self.sequence_of(target, create())
        later = threading.Timer(NEXT_EVENT_AFTER_SECONDS, create)
        later.daemon = True
        later.start()
        return self.request_after(last)

    # Checks both logs' suites make.
    def assert_resumed_streams_miss_nothing(
        self, target: Target, start: int, write: Callable[[], set[Key]], writers: int, expected_count: int
    ) -> None:
        """While `writers` threads each write() events (returning their keys, expected_count in
        all), a stream read from `start` stops after a third of them and a second resumes after
        the last it handled: together they tell every written event once, in sequence order,
        exactly as a stream read from `start` afterwards does."""
        with ThreadPoolExecutor(writers) as pool:
            writing = [pool.submit(write) for _writer in range(writers)]
            first = self.read(target, start, lambda events: len(events) >= expected_count // 3)
            written: set[Key] = set().union(*(w.result() for w in writing))
        last_seen = _sequence(first[-1])
        second = self.read(
            target, last_seen, lambda events: written <= {self.key(e) for e in [*first, *events]}
        )
        assert _sequence(second[0]) > last_seen, "the resumed stream repeated what was seen"
        delivered = [*first, *second]
        assert_in_sequence(delivered)
        keys = [self.key(e) for e in delivered if self.key(e) in written]
        assert sorted(keys) == sorted(written), "an event was missed or delivered twice"
        stored = self.read(target, start, lambda events: _sequence(events[-1]) >= _sequence(delivered[-1]))
        assert [_sequence(e) for e in stored] == [_sequence(e) for e in delivered], (
            "the resumed streams missed events"
        )

    def assert_cancelled_streams_free_what_they_hold(
        self,
        target: Target,
        last: int,
        streams: int,
        still_answers: Callable[[], object],
        create: Callable[[], Key],
    ) -> None:
        """`streams` streams opened before the event at sequence `last`, each cancelled after
        that event: then the server still answers a call (still_answers()) and a new stream
        tells the event create() makes at once."""
        for _ in range(streams):
            stream = target.stream(self.method, self.request_after(last - 1))
            assert _sequence(getattr(next(stream), "event")) == last  # noqa: B009
            stream.cancel()
            assert stream.code() == grpc.StatusCode.CANCELLED
        still_answers()
        started = time.monotonic()
        stream = target.stream(self.method, self.request_after(last))
        try:
            created = create()
            for answer in stream:
                if self.key(getattr(answer, "event")) == created:  # noqa: B009
                    break
        finally:
            stream.cancel()
        assert time.monotonic() - started < READ_SECONDS


def _sequence(event: Any) -> int:
    return int(event.sequence)


def assert_trace_contexts_well_formed(events: Iterable[Any]) -> None:
    """Each event's trace_context (contracts v1.4) keeps TraceContext's own rules, read from its
    descriptor: empty (the cause was not traced) or a W3C traceparent, and a bounded tracestate."""
    pattern, max_len = _trace_context_rules()
    for event in events:
        context = getattr(event, "trace_context")  # noqa: B009 - every log's event has one
        assert re.fullmatch(pattern, context.traceparent), (
            f"event {_sequence(event)}: trace_context.traceparent {context.traceparent!r} is not {pattern}"
        )
        assert len(context.tracestate) <= max_len, (
            f"event {_sequence(event)}: trace_context.tracestate longer than {max_len} characters"
        )
        assert context.traceparent or not context.tracestate, (
            f"event {_sequence(event)}: a tracestate without a traceparent"
        )


@cache
def _trace_context_rules() -> tuple[str, int]:
    """TraceContext's buf.validate rules: the traceparent's pattern and the tracestate's max_len."""
    fields = trace_context_pb2.TraceContext.DESCRIPTOR.fields_by_name
    rules: Any = validate_pb2.field  # an extension of FieldOptions (its stubs do not type it)
    traceparent = fields["traceparent"].GetOptions().Extensions[rules].string
    tracestate = fields["tracestate"].GetOptions().Extensions[rules].string
    return traceparent.pattern, tracestate.max_len


def assert_in_sequence(events: Iterable[Any]) -> None:
    sequences = [_sequence(e) for e in events]
    assert all(a < b for a, b in itertools.pairwise(sequences)), (
        f"sequences not strictly increasing (an event repeated or out of order): {sequences}"
    )
