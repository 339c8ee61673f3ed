"""WatchPaymentEvents: the stored backlog after a cursor, then each new event as it happens.

A stream can last for days, so it never keeps a database connection: each look for
events borrows one from the pool and gives it back. Between looks it sleeps until this
process records an event (:class:`~pasar_payment.events.EventFeed`), the poll interval
passes (for events recorded by other instances), the call ends, or the server stops. A
stream ends when the caller cancels; when the server stops it ends with UNAVAILABLE, and
the consumer resumes after the last sequence it handled, on this instance or another.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import peewee

from pasar.payment.v1 import payment_pb2
from pasar_payment import reasons
from pasar_payment.events import EventFeed, events_after
from pasar_payment.messages import event_message
from pasar_payment.models import EventType

BATCH = 100


class EventStreams:
    """Serves the event streams of one server.

    Each open stream occupies one of the server's worker threads (PASAR_GRPC_WORKERS)
    for as long as it lasts, but no database connection.
    """

    def __init__(self, database: peewee.Database, feed: EventFeed, poll_seconds: float) -> None:
        self.database = database
        self.feed = feed
        self.poll_seconds = poll_seconds

    def watch(
        self,
        after_sequence: int,
        context: grpc.ServicerContext,
        types: frozenset[EventType] = frozenset(),
    ) -> Iterator[payment_pb2.PaymentEvent]:
        """The events after after_sequence, in order, until the call ends or the server stops;
        only those of types when it names any. The others are passed over as they are read, and
        the stream's own cursor moves past them: a consumer that acts on some types is not sent
        the rest (every checkout writes a CREATED event the order service has no use for)."""
        # Wake this stream as soon as its call ends, rather than at the next poll.
        context.add_callback(self.feed.ring)
        cursor = after_sequence
        while context.is_active():
            if self.feed.closed:
                raise reasons.service_stopping()
            generation = self.feed.generation
            with self.database.connection_context():
                batch = events_after(cursor, BATCH)
            for event in batch:
                if not types or event.type in types:
                    yield event_message(event)
                cursor = event.sequence
            if len(batch) < BATCH:
                self.feed.wait(generation, self.poll_seconds)
