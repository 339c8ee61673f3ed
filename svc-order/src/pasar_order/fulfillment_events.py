"""Following the fulfillment service's events, from a cursor kept in the order database.

The consumer streams FulfillmentService.WatchFulfillmentEvents after the last sequence it
handled (:mod:`pasar_order.event_consumer`: each event applied exactly once, in one
transaction with the cursor's advance). Each event's fulfillment is recorded on its line
(:func:`pasar_order.deliveries.record_fulfillment`): SUCCEEDED delivers it, FAILED queues
its refund, and the line that ends an order's last delivery ends the order (FULFILLED,
or REFUNDED once its refunds are made), queuing its e-mail.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from pasar.fulfillment.v1 import fulfillment_pb2
from pasar_kit.timestamps import utc_now
from pasar_order import deliveries
from pasar_order.event_consumer import EventConsumer, EventResponse
from pasar_order.tracing import FULFILLMENT_ID, ORDER_ID

CURSOR_NAME = "fulfillment-events"


class FulfillmentEventConsumer(EventConsumer[fulfillment_pb2.FulfillmentEvent]):
    """Applies fulfillment events to order lines; run() is a background task."""

    cursor_name = CURSOR_NAME
    source = "fulfillment"

    def open_stream(self, after_sequence: int, timeout: float) -> Iterator[EventResponse]:
        return self.peers.watch_fulfillment_events(after_sequence, timeout=timeout)

    def order_id_of(self, event: fulfillment_pb2.FulfillmentEvent) -> str:
        return event.fulfillment.order_id

    def span_attributes(self, event: fulfillment_pb2.FulfillmentEvent) -> Mapping[str, str | int]:
        return {ORDER_ID: event.fulfillment.order_id, FULFILLMENT_ID: event.fulfillment.id}

    def apply(self, event: fulfillment_pb2.FulfillmentEvent) -> bool:
        return deliveries.record_fulfillment(event.fulfillment, utc_now())
