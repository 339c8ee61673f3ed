"""The payment event log (WatchPaymentEvents), read with the kit's one event-log reader:
a stream's events until the reader has what it waits for, and where a payment's CREATED
event sits in the log."""

from __future__ import annotations

from pasar.payment.v1 import payment_pb2, payment_service_pb2
from pasar_conformance.event_log import READ_SECONDS, EventLog, Key
from pasar_conformance.payment.shop import rpc
from pasar_conformance.target import Target

__all__ = ["CREATED", "LOG", "READ_SECONDS", "WATCH", "Key", "key", "read", "sequence_of"]

WATCH = rpc("WatchPaymentEvents")
CREATED = payment_pb2.PAYMENT_EVENT_TYPE_CREATED

LOG = EventLog[payment_pb2.PaymentEvent](
    WATCH, lambda after: payment_service_pb2.WatchPaymentEventsRequest(after_sequence=after), "payment"
)
key = LOG.key
read = LOG.read


def sequence_of(target: Target, payment: payment_pb2.Payment, after: int = 0) -> int:
    """The sequence of payment's CREATED event, read from the log after `after`."""
    return LOG.sequence_of(target, (payment.id, CREATED), after)
