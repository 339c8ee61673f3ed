"""WatchPaymentEvents: the stored backlog after a cursor, then each new event as it happens.

A stream can last for days, so it never keeps a database connection: each look for
events borrows one from the pool and gives it back. Between looks it sleeps until this
process records an event (:class:`~pasar_payment.events.EventFeed`), the poll interval
passes (for events recorded by other instances), the call ends, or the server stops. A
stream ends when the caller cancels; when the server stops it ends with UNAVAILABLE, and
the consumer resumes after the last sequence it handled, on this instance or another.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import grpc
import peewee

from pasar.payment.v1 import payment_service_pb2 as service
from pasar_payment import reasons
from pasar_payment.events import EventFeed, events_after
from pasar_payment.messages import event_message
from pasar_payment.models import EventType

BATCH = 100
# How long a stream of some types keeps the events it passed over before it says so.
PROGRESS_SECONDS = 1.0


class EventStreams:
    """Serves the event streams of one server.

    Each open stream occupies one of the server's worker threads (PASAR_GRPC_WORKERS)
    for as long as it lasts, but no database connection.
    """

    def __init__(self, database: peewee.Database, feed: EventFeed, poll_seconds: float) -> None:
        self.database = database
        self.feed = feed
        self.poll_seconds = poll_seconds
        self.progress_seconds = PROGRESS_SECONDS

    def watch(
        self,
        after_sequence: int,
        context: grpc.ServicerContext,
        types: frozenset[EventType] = frozenset(),
    ) -> Iterator[service.WatchPaymentEventsResponse]:
        """The events after after_sequence, in order, until the call ends or the server stops;
        only those of types when it names any. The others are passed over as they are read
        (every checkout writes a CREATED event the order service has no use for), and the
        newest passed over is sent as passed_sequence progress_seconds after the first one
        not reported yet, unless an event later than it goes first."""
        # Wake this stream as soon as its call ends, rather than at the next poll.
        context.add_callback(self.feed.ring)
        cursor = after_sequence
        passed, passed_since = 0, 0.0  # the newest event passed over and not reported, and when
        while context.is_active():
            if self.feed.closed:
                raise reasons.service_stopping()
            generation = self.feed.generation
            with self.database.connection_context():
                batch = events_after(cursor, BATCH)
            for event in batch:
                cursor = event.sequence
                if types and event.type not in types:
                    passed, passed_since = event.sequence, passed_since if passed else time.monotonic()
                    continue
                passed = 0  # the consumer's cursor moves past it with this later event
                yield service.WatchPaymentEventsResponse(event=event_message(event))
            wait = self.poll_seconds
            if passed:
                due = passed_since + self.progress_seconds - time.monotonic()
                if due <= 0:
                    yield service.WatchPaymentEventsResponse(passed_sequence=passed)
                    passed = 0
                else:
                    wait = min(wait, due)
            if len(batch) < BATCH:
                self.feed.wait(generation, wait)
