"""Following another service's event log from a cursor kept in the order database.

A consumer streams a peer's events after the last sequence it handled. Each event is
handled in one local transaction together with the cursor's advance, so an event is
applied exactly once however often it is delivered (the streams are at least once, and a
reconnect replays from the cursor); on MariaDB the cursor row is locked, so instances
handling the same event queue behind each other. While the peer is down the consumer
retries with backoff; when it returns, the backlog streams first, so nothing that
happened meanwhile is missed. The stream is reopened from the cursor every
``stream_seconds``.
"""

from __future__ import annotations

import abc
import logging
import threading
from collections.abc import Iterator
from typing import Any, Generic, Protocol, TypeVar, cast

import grpc
import peewee

from pasar_kit.database import atomic_write, is_mysql
from pasar_kit.logs import request_context
from pasar_kit.timestamps import utc_now
from pasar_order.models import EventCursor
from pasar_order.peers import Peers
from pasar_order.settlement import Doorbells

log = logging.getLogger(__name__)

FIRST_RETRY_SECONDS = 0.2
MAX_RETRY_SECONDS = 5.0


class Event(Protocol):
    @property
    def sequence(self) -> int: ...


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

    @abc.abstractmethod
    def open_stream(self, after_sequence: int, timeout: float) -> Iterator[EventResponse]:
        """The peer's stream after after_sequence (a cancellable call, raw grpc.RpcError)."""

    @abc.abstractmethod
    def apply(self, event: E) -> bool:
        """Applies one event inside the cursor's transaction; True if work was queued."""

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
                event = response.event
                with (
                    request_context(f"{self.source}-event-{event.sequence}"),
                    self.database.connection_context(),
                ):
                    self.handle(event)
                self.handled += 1
        except grpc.RpcError as error:
            if cast(grpc.Call, error).code() == grpc.StatusCode.DEADLINE_EXCEEDED:
                return True
            raise
        finally:
            cast(grpc.Call, stream).cancel()  # a no-op once it ended; frees it if we stopped reading
            with self._lock:
                self._stream = None
        return False

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
            changed = self.apply(event)
            EventCursor.update(sequence=event.sequence, update_time=utc_now()).where(
                (EventCursor.name == self.cursor_name) & (EventCursor.sequence < event.sequence)
            ).execute()
        if changed:
            self.doorbells.ring()
        return True
