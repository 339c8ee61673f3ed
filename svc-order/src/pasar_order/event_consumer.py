"""Following another service's event log from a cursor kept in the order database.

A consumer streams a peer's events after the last sequence it handled. Each event is
handled in one local transaction together with the cursor's advance, so an event is
applied exactly once however often it is delivered (the streams are at least once, and a
reconnect replays from the cursor); on MariaDB the cursor row is locked, so instances
handling the same event queue behind each other. While the peer is down the consumer
retries with backoff; when it returns, the backlog streams first, so nothing that
happened meanwhile is missed. The stream is reopened from the cursor every
``stream_seconds``.

Each event is handled in a span (``process <stream>``) whose parent is the checkout's
context kept on the event's order, linked to the event's own context (the call that
caused it), so that the settlement shows in the purchase's trace (issue 16).

An event that changes nothing here whatever the orders hold (a payment created: one per
checkout) is passed by: no transaction, no span. The cursor moves past it with the next
event handled, else PASSED_WRITE_SECONDS later (one write for all passed meanwhile) or
when the stream ends: the lag figures stay true, and a restart replays only passed events,
each a no-op again.
"""

from __future__ import annotations

import abc
import contextlib
import logging
import threading
from collections.abc import Iterator, Mapping
from typing import Any, Generic, Protocol, TypeVar, cast

import grpc
import peewee

from pasar.common.v1 import trace_context_pb2
from pasar_kit import telemetry
from pasar_kit.database import atomic_write, is_mysql
from pasar_kit.logs import request_context
from pasar_kit.timestamps import utc_now
from pasar_order.models import EventCursor, Order
from pasar_order.peers import Peers
from pasar_order.settlement import Doorbells
from pasar_order.tracing import stored_context, work_span

log = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 0.2
MAX_RETRY_SECONDS = 5.0
# How long at most the cursor stays behind the events passed by (see acts_on).
PASSED_WRITE_SECONDS = 1.0


class Event(Protocol):
    @property
    def sequence(self) -> int: ...

    @property
    def trace_context(self) -> trace_context_pb2.TraceContext: ...


class EventResponse(Protocol):
    @property
    def event(self) -> Any: ...


E = TypeVar("E", bound=Event)


class EventConsumer(abc.ABC, Generic[E]):
    """Applies a peer's events; run() is a background task."""

    # The cursor's row in event_cursors, and the peer's name in logs ("payment").
    cursor_name: str
    source: str

    def __init__(
        self, database: peewee.Database, peers: Peers, doorbells: Doorbells, stream_seconds: float
    ) -> None:
        self.database = database
        self.peers = peers
        self.doorbells = doorbells
        self.stream_seconds = stream_seconds
        self._lock = threading.Lock()
        self._stream: Any = None
        # Events handled since start (seen by tests, and to reset the backoff after progress).
        self.handled = 0
        # The last event passed by (acts_on), and the timer that writes it (None: written).
        self.passed_write_seconds = PASSED_WRITE_SECONDS
        self._passed_sequence = 0
        self._passed_writer: threading.Timer | None = None

    @abc.abstractmethod
    def open_stream(self, after_sequence: int, timeout: float) -> Iterator[EventResponse]:
        """The peer's stream after after_sequence (a cancellable call, raw grpc.RpcError)."""

    @abc.abstractmethod
    def apply(self, event: E) -> bool:
        """Applies one event inside the cursor's transaction; True if work was queued."""

    @abc.abstractmethod
    def order_id_of(self, event: E) -> str:
        """The id of the order the event is about."""

    @abc.abstractmethod
    def span_attributes(self, event: E) -> Mapping[str, str | int]:
        """The pasar.* attributes of the event's span (its order's and payment's ids...)."""

    def passed_sequence(self, response: Any) -> int:
        """The sequence a message without an event says the stream has passed over (events
        it was not sent: not of the types asked for), to move the cursor past; 0 otherwise."""
        return 0

    def acts_on(self, event: E) -> bool:
        """Whether apply may change anything for this event; one it never does for is
        passed by without a transaction (the cursor catches up later)."""
        return True

    def run(self, stopping: threading.Event) -> None:
        threading.Thread(target=self._cancel_on_stop, args=(stopping,), daemon=True).start()
        delay = FIRST_RETRY_SECONDS
        while not stopping.is_set():
            handled_before = self.handled
            try:
                if self._follow(stopping):
                    delay = FIRST_RETRY_SECONDS
                    continue  # the stream reached its deadline: reopen it at once
            except grpc.RpcError as error:
                if stopping.is_set():
                    break
                code = cast(grpc.Call, error).code()
                log.warning(
                    f"{self.source} events unavailable; retrying",
                    extra={"code": code.name, "retry_in": delay},
                )
            except Exception:  # the database, or a bug: log it and try again, never stop following
                log.exception(f"handling {self.source} events failed; retrying", extra={"retry_in": delay})
            if self.handled != handled_before:
                delay = FIRST_RETRY_SECONDS  # it worked for a while: start backing off afresh
            stopping.wait(delay)
            delay = min(delay * 2, MAX_RETRY_SECONDS)

    def _follow(self, stopping: threading.Event) -> bool:
        """Streams from the cursor until the stream ends; True if it ended at its deadline."""
        with self.database.connection_context():
            after = self.cursor()
        stream = self.open_stream(after, timeout=self.stream_seconds)
        with self._lock:
            self._stream = stream
        if stopping.is_set():
            cast(grpc.Call, stream).cancel()
        try:
            for response in stream:
                passed = self.passed_sequence(response)
                if passed:
                    self._pass(passed)
                    continue
                event = response.event
                if self.acts_on(event):
                    with (
                        request_context(f"{self.source}-event-{event.sequence}"),
                        self.database.connection_context(),
                    ):
                        self.handle(event)
                else:
                    self._pass(event.sequence)
                self.handled += 1
        except grpc.RpcError as error:
            if cast(grpc.Call, error).code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                return True
            raise
        finally:
            cast(grpc.Call, stream).cancel()  # a no-op once it ended; frees it if we stopped reading
            with self._lock:
                self._stream = None
            self._write_passed()
        return False

    def _pass(self, sequence: int) -> None:
        with self._lock:
            self._passed_sequence = max(self._passed_sequence, sequence)
            if self._passed_writer is None:
                self._passed_writer = threading.Timer(self.passed_write_seconds, self._write_passed)
                self._passed_writer.daemon = True
                self._passed_writer.start()

    def _write_passed(self) -> None:
        """Moves the cursor past the events passed by (never back: one handled since may be later)."""
        with self._lock:
            writer, self._passed_writer = self._passed_writer, None
            sequence = self._passed_sequence
        if writer is None:
            return  # written already
        writer.cancel()  # when the stream's end writes first
        try:
            with self.database.connection_context():
                EventCursor.update(sequence=sequence, update_time=utc_now()).where(
                    (EventCursor.name == self.cursor_name) & (EventCursor.sequence < sequence)
                ).execute()
        except peewee.DatabaseError as error:  # the next event or stream writes it
            log.warning(
                f"cannot move the {self.source} events cursor past passed events now",
                extra={"sequence": sequence, "error": repr(error)},
            )

    def _cancel_on_stop(self, stopping: threading.Event) -> None:
        stopping.wait()
        with self._lock:
            if self._stream is not None:
                self._stream.cancel()

    def cursor(self) -> int:
        """The sequence of the last event handled (0 before the first)."""
        EventCursor.insert(
            name=self.cursor_name, sequence=0, update_time=utc_now()
        ).on_conflict_ignore().execute()
        sequence: int = EventCursor.get_by_id(self.cursor_name).sequence
        return sequence

    def handle(self, event: E) -> bool:
        """Applies one event and advances the cursor past it; False if it was handled before."""
        with atomic_write(self.database):
            query = EventCursor.select().where(EventCursor.name == self.cursor_name)
            if is_mysql(self.database):
                query = query.for_update()  # instances handling the same event queue behind each other
            cursor = query.get_or_none()
            if cursor is None:  # handled before run() made the row (a test, or a first event)
                self.cursor()
                cursor = query.get()
            if event.sequence <= cursor.sequence:
                return False
            with self._span(event):
                changed = self.apply(event)
                EventCursor.update(sequence=event.sequence, update_time=utc_now()).where(
                    (EventCursor.name == self.cursor_name) & (EventCursor.sequence < event.sequence)
                ).execute()
        if changed:
            self.doorbells.ring()
        return True

    def _span(self, event: E) -> contextlib.AbstractContextManager[None]:
        """The event's span: child of its order's checkout context (read in the cursor's
        transaction: one row by its key, and only when tracing is on), linked to the event's
        context; child of the event's context when the order is unknown or was untraced."""
        if not telemetry.tracing_enabled():
            return contextlib.nullcontext()
        order: Order | None = (
            Order.select(Order.traceparent, Order.tracestate)
            .where(Order.id == self.order_id_of(event))
            .get_or_none()
        )
        checkout = stored_context(order) if order is not None else None
        if checkout is not None and checkout.traceparent:
            parent, links = checkout, [event.trace_context]
        else:
            parent, links = event.trace_context, []
        return work_span(
            self.cursor_name,
            event.sequence,
            parent=parent,
            links=links,
            attributes=self.span_attributes(event),
        )
