"""Expiry: a pending payment that reaches its expire_time unpaid becomes EXPIRED.

A background task of every instance sweeps the due payments. Several instances may
sweep at once: each payment is expired under its row lock, only while PENDING and due, so
exactly one sweep changes it and records its EXPIRED event; the others change nothing.
A payment settled a moment before the sweep stays PAID for the same reason.

The work on each payment is a span in the trace of the checkout that created it (the
payment's stored trace context), and its EXPIRED event carries that context as its cause:
the service expired the payment on its own, and the purchase's trace shows it.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from datetime import datetime

import peewee

from pasar.common.v1.trace_context_pb2 import TraceContext
from pasar_kit.sweeps import batch_sweep_task
from pasar_kit.telemetry import PAYMENT_ID_ATTRIBUTE, span_for_stored_work, stored_trace_context
from pasar_kit.timestamps import utc_now
from pasar_payment.events import EventFeed, payment_change, record_event
from pasar_payment.models import EventType, Payment, PaymentState
from pasar_payment.payments import change_locked_payment, locked_payment

log = logging.getLogger(__name__)

SWEEP_BATCH = 100
# The name of the expiry work in traces (OpenTelemetry's messaging conventions: "process"
# and the queue, here the due payments).
EXPIRY_WORK = "payment-expiry"


def expire_due_payments(
    database: peewee.Database, feed: EventFeed, now: datetime | None = None, limit: int = SWEEP_BATCH
) -> int:
    """Expires up to limit pending payments due at now; returns how many this call expired."""
    due_at = now or utc_now()
    expired = 0
    with database.connection_context():
        due = [
            (payment.id, stored_trace_context(payment.traceparent, payment.tracestate))
            for payment in Payment.select(Payment.id, Payment.traceparent, Payment.tracestate)
            .where((Payment.state == PaymentState.PENDING.value) & (Payment.expire_time <= due_at))
            .order_by(Payment.expire_time)
            .limit(limit)
        ]
        for payment_id, created in due:
            with span_for_stored_work(
                f"process {EXPIRY_WORK}", parent=created, attributes=_span_attributes(payment_id)
            ):
                if _expire(database, feed, payment_id, due_at, created):
                    expired += 1
                    log.info("payment expired", extra={"payment_id": payment_id})
    return expired


def _expire(
    database: peewee.Database, feed: EventFeed, payment_id: str, due_at: datetime, created: TraceContext
) -> bool:
    """Expires one payment if it is still pending and due; whether this call expired it."""
    # One transaction per payment keeps row locks short and the event counter last.
    with payment_change(database, feed):
        payment = locked_payment(payment_id)
        changed = (
            payment is not None and payment.state == PaymentState.PENDING and payment.expire_time <= due_at
        )
        if changed:
            payment = change_locked_payment(payment_id, state=PaymentState.EXPIRED.value)
            record_event(EventType.EXPIRED, payment, cause=created)
    return bool(changed)


def _span_attributes(payment_id: str) -> dict[str, str | int]:
    """OpenTelemetry's messaging attributes (the kit adds the system and the operation)."""
    return {
        "messaging.destination.name": EXPIRY_WORK,
        "messaging.message.id": payment_id,
        PAYMENT_ID_ATTRIBUTE: payment_id,
    }


def expiry_task(
    database: peewee.Database, feed: EventFeed, interval_seconds: float
) -> Callable[[threading.Event], None]:
    """A GrpcServer background task expiring due payments every interval until the server stops."""
    return batch_sweep_task(
        "payment expiry", interval_seconds, lambda: expire_due_payments(database, feed), SWEEP_BATCH
    )
