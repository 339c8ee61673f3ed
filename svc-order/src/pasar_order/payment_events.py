"""Following the payment service's events, from a cursor kept in the order database.

The consumer streams PaymentService.WatchPaymentEvents after the last sequence it
handled (:mod:`pasar_order.event_consumer`: each event applied exactly once, in one
transaction with the cursor's advance):

- PAID: the order becomes PAID, "payment received" is queued, the reservation's commit
  is queued (see :mod:`pasar_order.orders`);
- EXPIRED / CANCELLED: a pending order closes the same way and its stock is released;
- REFUNDED: the refund is recorded on its line (or as the fee's) if the order service
  asked for it, which may end the order REFUNDED (see :mod:`pasar_order.deliveries`);
- CREATED: nothing to do.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping

from pasar.payment.v1 import payment_pb2, payment_service_pb2
from pasar_kit.timestamps import utc_now
from pasar_order import deliveries, orders
from pasar_order.event_consumer import EventConsumer, EventResponse
from pasar_order.models import PAID_STATES, Order, OrderState
from pasar_order.tracing import ORDER_ID, PAYMENT_ID

log = logging.getLogger(__name__)

CURSOR_NAME = "payment-events"
# The events apply acts on; the others (a payment created) change no order.
ACTED_ON = frozenset(
    {
        payment_pb2.PAYMENT_EVENT_TYPE_PAID,
        payment_pb2.PAYMENT_EVENT_TYPE_EXPIRED,
        payment_pb2.PAYMENT_EVENT_TYPE_CANCELLED,
        payment_pb2.PAYMENT_EVENT_TYPE_REFUNDED,
    }
)


class PaymentEventConsumer(EventConsumer[payment_pb2.PaymentEvent]):
    """Applies payment events to orders; run() is a background task."""

    cursor_name = CURSOR_NAME
    source = "payment"

    def open_stream(self, after_sequence: int, timeout: float) -> Iterator[EventResponse]:
        # Only what apply acts on: a payment service that knows the field sends no CREATED
        # event (one per checkout); an older one sends every type, and acts_on passes them by.
        return self.peers.watch_payment_events(after_sequence, timeout=timeout, types=ACTED_ON)

    def passed_sequence(self, response: payment_service_pb2.WatchPaymentEventsResponse) -> int:
        return 0 if response.HasField("event") else response.passed_sequence

    def order_id_of(self, event: payment_pb2.PaymentEvent) -> str:
        return event.payment.order_id

    def span_attributes(self, event: payment_pb2.PaymentEvent) -> Mapping[str, str | int]:
        return {ORDER_ID: event.payment.order_id, PAYMENT_ID: event.payment.id}

    def acts_on(self, event: payment_pb2.PaymentEvent) -> bool:
        return event.type in ACTED_ON

    def apply(self, event: payment_pb2.PaymentEvent) -> bool:
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
        if event.type == payment_pb2.PAYMENT_EVENT_TYPE_REFUNDED:
            return deliveries.record_refund(payment.order_id, event.refund, now)
        return False

    def _check_paid_order(self, payment: payment_pb2.Payment) -> None:
        """A PAID event that changed nothing: fine if the order is already paid, loud if not."""
        order: Order | None = Order.get_or_none(Order.id == payment.order_id)
        if order is not None and order.state in PAID_STATES:
            return
        log.error(
            "a payment was paid but its order cannot be marked paid",
            extra={
                "order_id": payment.order_id,
                "payment_id": payment.id,
                "order_state": order.state if order is not None else None,
            },
        )
