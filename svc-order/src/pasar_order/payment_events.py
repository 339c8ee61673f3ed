"""Following the payment service's events, from a cursor kept in the order database.

The consumer streams PaymentService.WatchPaymentEvents after the last sequence it
handled. Each event is handled in one local transaction together with the cursor's
advance, so an event is applied exactly once however often it is delivered (the stream
is at least once, and a reconnect replays from the cursor):

- PAID: the order becomes PAID, "payment received" is queued, the reservation's commit
  is queued (see :mod:`pasar_order.orders`);
- EXPIRED / CANCELLED: a pending order closes the same way and its stock is released;
- CREATED: nothing to do.

While the payment service is down the consumer retries with backoff; when it returns,
the backlog streams first, so nothing that happened meanwhile is missed.
"""

from __future__ import annotations

import logging
import threading
from typing import Any, cast

import grpc
import peewee

from pasar.payment.v1 import payment_pb2
from pasar_kit.database import atomic_write, is_mysql
from pasar_kit.logs import request_context
from pasar_kit.timestamps import utc_now
from pasar_order import orders
from pasar_order.models import EventCursor, Order, OrderState
from pasar_order.peers import Peers
from pasar_order.settlement import Doorbells

log = logging.getLogger(__name__)

CURSOR_NAME = "payment-events"
FIRST_RETRY_SECONDS = 0.2
MAX_RETRY_SECONDS = 5.0


class PaymentEventConsumer:
    """Applies payment events to orders; run() is a background task."""

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
                    "payment events unavailable; retrying", extra={"code": code.name, "retry_in": delay}
                )
            except Exception:  # the database, or a bug: log it and try again, never stop following
                log.exception("handling payment events failed; retrying", extra={"retry_in": delay})
            if self.handled != handled_before:
                delay = FIRST_RETRY_SECONDS  # it worked for a while: start backing off afresh
            stopping.wait(delay)
            delay = min(delay * 2, MAX_RETRY_SECONDS)

    def _follow(self, stopping: threading.Event) -> bool:
        """Streams from the cursor until the stream ends; True if it ended at its deadline."""
        with self.database.connection_context():
            after = self.cursor()
        stream = self.peers.watch_payment_events(after, timeout=self.stream_seconds)
        with self._lock:
            self._stream = stream
        if stopping.is_set():
            cast(grpc.Call, stream).cancel()
        try:
            for response in stream:
                sequence = response.event.sequence
                with request_context(f"payment-event-{sequence}"), self.database.connection_context():
                    self.handle(response.event)
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
        EventCursor.insert(name=CURSOR_NAME, sequence=0, update_time=utc_now()).on_conflict_ignore().execute()
        sequence: int = EventCursor.get_by_id(CURSOR_NAME).sequence
        return sequence

    def handle(self, event: payment_pb2.PaymentEvent) -> bool:
        """Applies one event and advances the cursor past it; False if it was handled before."""
        with atomic_write(self.database):
            query = EventCursor.select().where(EventCursor.name == CURSOR_NAME)
            if is_mysql(self.database):
                query = query.for_update()  # instances handling the same event queue behind each other
            cursor = query.get()
            if event.sequence <= cursor.sequence:
                return False
            changed = self._apply(event)
            EventCursor.update(sequence=event.sequence, update_time=utc_now()).where(
                (EventCursor.name == CURSOR_NAME) & (EventCursor.sequence < event.sequence)
            ).execute()
        if changed:
            self.doorbells.ring()
        return True

    def _apply(self, event: payment_pb2.PaymentEvent) -> bool:
        payment = event.payment
        now = utc_now()
        if event.type == payment_pb2.PAYMENT_EVENT_TYPE_PAID:
            changed = orders.mark_paid(payment.order_id, payment, now)
            if changed:
                log.info("order paid", extra={"order_id": payment.order_id, "payment_id": payment.id})
            else:
                self._check_paid_order(payment)
            return changed
        if event.type in (payment_pb2.PAYMENT_EVENT_TYPE_EXPIRED, payment_pb2.PAYMENT_EVENT_TYPE_CANCELLED):
            state = OrderState.EXPIRED
            if event.type == payment_pb2.PAYMENT_EVENT_TYPE_CANCELLED:
                # The order service is the only one that cancels payments: for an order past
                # its expiry it did so to expire it, otherwise because the shopper cancelled.
                order: Order | None = Order.get_or_none(Order.id == payment.order_id)
                expired = order is not None and order.expire_time is not None and order.expire_time <= now
                state = OrderState.EXPIRED if expired else OrderState.CANCELLED
            changed = orders.mark_closed(payment.order_id, state, now, payment_id=payment.id)
            if changed:
                log.info("order closed unpaid", extra={"order_id": payment.order_id, "state": state})
            return changed
        return False

    def _check_paid_order(self, payment: payment_pb2.Payment) -> None:
        """A PAID event that changed nothing: fine if the order is already paid, loud if not."""
        order: Order | None = Order.get_or_none(Order.id == payment.order_id)
        if order is not None and order.state == OrderState.PAID:
            return
        log.error(
            "a payment was paid but its order cannot be marked paid",
            extra={
                "order_id": payment.order_id,
                "payment_id": payment.id,
                "order_state": order.state if order is not None else None,
            },
        )
