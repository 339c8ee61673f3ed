"""The payment event log: written in the transaction of each change, read from a cursor.

Consumers (the order service) remember the highest sequence they handled and ask for
the events after it, so an event with a lower sequence must never become visible after
one with a higher sequence: the consumer would skip it forever. An autoincrement id does
not guarantee that on MySQL/MariaDB: a transaction that took id 7 can commit after one
that took id 8. So sequences come from a single counter row, incremented inside the
transaction that records the event: the row lock makes every other writer of an event
wait until this transaction commits, hence commit order is sequence order. (SQLite has
one writer at a time, which gives the same order.) To keep that lock short, the event is
the last thing a transaction writes.

Each event keeps the trace context of its cause (the call that changed the payment, or for
a change the service makes on its own, the one that created the payment), so that a
consumer's span for it joins that trace, even after a restart.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import peewee

from pasar.common.v1.trace_context_pb2 import TraceContext
from pasar.payment.v1 import payment_pb2
from pasar_kit import database as db
from pasar_kit.prepared import PreparedQuery, PreparedWrite, insert_of
from pasar_kit.telemetry import current_trace_context, trace_columns
from pasar_payment.host_bell import HostBell
from pasar_payment.messages import payment_message, refund_message
from pasar_payment.models import (
    COUNTER_ID,
    EventType,
    Payment,
    PaymentEvent,
    PaymentEventCounter,
    Refund,
    database_proxy,
)

# Every change's statements, their SQL built once (pasar_kit.prepared).
_COUNT = PreparedWrite(
    database_proxy,
    lambda counter_id: PaymentEventCounter.update(last_sequence=PaymentEventCounter.last_sequence + 1).where(
        PaymentEventCounter.id == counter_id
    ),
)
_LAST_SEQUENCE = PreparedQuery(
    database_proxy,
    lambda counter_id: PaymentEventCounter.select(PaymentEventCounter.last_sequence).where(
        PaymentEventCounter.id == counter_id
    ),
)
# Read by every stream each time events are recorded (one per checkout at least).
_EVENTS_AFTER = PreparedQuery(
    database_proxy,
    lambda sequence, limit: (
        PaymentEvent.select()
        .where(PaymentEvent.sequence > sequence)
        .order_by(PaymentEvent.sequence)
        .limit(limit)
    ),
)
_EVENT_COLUMNS = (
    "sequence",
    "type",
    "payment_id",
    "payment",
    "refund",
    "create_time",
    "traceparent",
    "tracestate",
)
_INSERT_EVENT = insert_of(database_proxy, PaymentEvent, _EVENT_COLUMNS)


class EventFeed:
    """Wakes the event streams of this process when events were recorded, or it is stopping.

    With a HostBell, events recorded by the other processes of this host that share the
    database (worker processes, instances) wake them too (:mod:`pasar_payment.host_bell`).
    Streams also poll, for the events of other hosts; this makes the others arrive at once.
    """

    def __init__(self, bell: HostBell | None = None) -> None:
        self._condition = threading.Condition()
        self._generation = 0
        self._closed = False
        self._bell = bell

    @property
    def generation(self) -> int:
        """A number that changes at every ring: read it before looking for events."""
        with self._condition:
            return self._generation

    @property
    def closed(self) -> bool:
        with self._condition:
            return self._closed

    def ring(self) -> None:
        """Wakes this process's streams."""
        with self._condition:
            self._generation += 1
            self._condition.notify_all()

    def recorded(self) -> None:
        """Events were committed: wakes the streams of this process and of its host's others."""
        self.ring()
        if self._bell is not None:
            self._bell.ring_others()

    def listen_to_host(self, stopping: threading.Event) -> None:
        """A GrpcServer background task: the other processes' wake-ups ring this feed."""
        if self._bell is not None:
            self._bell.listen(self.ring, stopping)

    def wait(self, seen_generation: int, timeout: float) -> None:
        """Waits up to timeout for a ring after seen_generation was read (or for close)."""
        with self._condition:
            self._condition.wait_for(lambda: self._generation != seen_generation or self._closed, timeout)

    def close(self) -> None:
        """Ends every stream of this process: the server is stopping."""
        with self._condition:
            self._closed = True
            self._condition.notify_all()

    def close_when_set(self, stopping: threading.Event) -> None:
        """A GrpcServer background task: closes the feed when the server stops."""
        stopping.wait()
        self.close()


@contextmanager
def payment_change(database: peewee.Database, feed: EventFeed) -> Iterator[None]:
    """A write transaction that may record events; wakes the streams once it committed."""
    with db.atomic_write(database):
        yield
    feed.recorded()


def record_event(
    event_type: EventType,
    payment: Payment,
    refund: Refund | None = None,
    *,
    cause: TraceContext | None = None,
    message: payment_pb2.Payment | None = None,
) -> PaymentEvent:
    """Appends an event with payment as it is now (and, for REFUNDED, the refund); call it
    last in the changing transaction. cause: the trace context of what caused the change
    (None: the current span's, that of the call being served); message: payment's message,
    when the caller has made it already (payment_message(payment))."""
    database = PaymentEvent._meta.database
    if not database.in_transaction():
        raise RuntimeError("a payment event must be recorded in the transaction of its change")
    if _COUNT.execute(COUNTER_ID) != 1:
        raise RuntimeError("the payment event counter row is missing: are the migrations applied?")
    [(sequence,)] = _LAST_SEQUENCE.rows(COUNTER_ID)
    row = {
        "sequence": sequence,
        "type": event_type.value,
        "payment_id": payment.id,
        "payment": (message or payment_message(payment)).SerializeToString(),
        "refund": None if refund is None else refund_message(refund).SerializeToString(),
        "create_time": payment.update_time,
        **trace_columns(current_trace_context() if cause is None else cause),
    }
    _INSERT_EVENT.execute(row)
    return PaymentEvent(**row)


def events_after(sequence: int, limit: int) -> list[PaymentEvent]:
    """Up to limit events after sequence, in sequence order."""
    return _EVENTS_AFTER.instances(PaymentEvent, sequence, limit)
