"""Asking the fulfillment service to deliver each line of a paid order, made durable.

The transaction that marks an order paid also queues one FulfillmentTask per line
(:func:`pasar_order.deliveries.queue_fulfillments`); this
dispatcher then calls CreateFulfillment until the fulfillment service accepts the line,
so that an outage of that service delays deliveries but never loses one. A line the
fulfillment service says it can never deliver (DELIVERY_KIND_NOT_SUPPORTED, or a request
it finds invalid) fails here and is refunded like a line whose delivery failed. The call is
idempotent on the line (order and package id) at the fulfillment service, so a call
repeated after a crash or a lost answer asks for nothing twice. What happens to the
delivery afterwards comes from the fulfillment events (:mod:`pasar_order.fulfillment_events`).
"""

from __future__ import annotations

import logging

import grpc
import peewee

from pasar.common.v1 import money_pb2
from pasar.fulfillment.v1 import fulfillment_service_pb2
from pasar_kit.database import atomic_write, released_while_waiting
from pasar_kit.destinations import mask_destination
from pasar_kit.timestamps import utc_now
from pasar_order import deliveries, reasons
from pasar_order.models import FulfillmentTask, Order, OrderLine, line_destination
from pasar_order.peers import Peers
from pasar_order.reasons import PeerError
from pasar_order.settlement import Doorbells
from pasar_order.work_queue import Backoff, TaskDispatcher

log = logging.getLogger(__name__)


def fulfillment_request(order: Order, line: OrderLine) -> fulfillment_service_pb2.CreateFulfillmentRequest:
    """CreateFulfillment for one line: the same content on every retry."""
    return fulfillment_service_pb2.CreateFulfillmentRequest(
        order_id=order.id,
        package_id=line.package_id,
        product_id=line.product_id,
        delivery_kind=line.delivery_kind,  # type: ignore[arg-type]  # stored as its number
        quantity=line.quantity,
        amount=money_pb2.Money(currency_code=order.currency_code, amount=line.line_total),
        destination=line_destination(line),
    )


class FulfillmentDispatcher(TaskDispatcher[FulfillmentTask]):
    """Carries out queued fulfillment requests at the fulfillment service."""

    destination = "fulfillment-requests"

    def __init__(
        self, database: peewee.Database, peers: Peers, backoff: Backoff, doorbells: Doorbells
    ) -> None:
        super().__init__(FulfillmentTask, backoff)
        self.database = database
        self.peers = peers
        self.doorbells = doorbells

    def carry_out(self, task: FulfillmentTask) -> None:
        order: Order = Order.get_by_id(task.order_id)
        line: OrderLine = OrderLine.get_by_id(task.line_id)
        try:
            # On SQLite the round's connection goes back to the pool while the fulfillment
            # service answers (pasar_kit.database.released_while_waiting).
            with released_while_waiting(self.database):
                fulfillment = self.peers.create_fulfillment(fulfillment_request(order, line))
        except PeerError as error:
            if error.is_passing:
                self.queue.retry_later(task, error.message)
                return
            self._refused(task, order, line, error)
            return
        # A retry may find the line delivered (or failed) already: its answer counts like
        # the event that will tell the same.
        with atomic_write(self.database):
            changed = deliveries.record_fulfillment(fulfillment, utc_now())
        self.queue.complete(task)
        if changed:
            self.doorbells.ring()
        log.info(
            "fulfillment requested",
            extra={
                "order_id": order.id,
                "package_id": line.package_id,
                "fulfillment_id": fulfillment.id,
                "destination": mask_destination(line_destination(line)),
            },
        )

    def _refused(self, task: FulfillmentTask, order: Order, line: OrderLine, error: PeerError) -> None:
        details = {
            "order_id": order.id,
            "package_id": line.package_id,
            "destination": mask_destination(line_destination(line)),
            "reason": error.reason,
            "code": error.code.name,
        }
        if (
            error.reason == reasons.DELIVERY_KIND_NOT_SUPPORTED
            or error.code == grpc.StatusCode.INVALID_ARGUMENT
        ):
            # The line can never be delivered (a kind the biller does not deliver, or a
            # line the contract cannot carry, such as a product without a delivery kind):
            # it fails here, and its price goes back like any failed line's.
            log.error("a paid line cannot be delivered; refunding it", extra=details)
            with atomic_write(self.database):
                deliveries.record_undeliverable(
                    fulfillment_request(order, line),
                    f"{error.reason or error.code.name}: {error.message}",
                    utc_now(),
                )
            self.queue.complete(task)
            self.doorbells.ring()
        elif error.code == grpc.StatusCode.ALREADY_EXISTS:
            # Another content under this line's key (FULFILLMENT_CONFLICT): what it will
            # deliver is unknown here, so the line needs a person.
            log.error("the fulfillment service holds another request for a paid line", extra=details)
            self.queue.give_up(task, f"{error.reason or error.code.name}: {error.message}")
        else:
            # The order service not allowed as a caller, say: keep trying, slowly, once set right.
            log.error("a fulfillment request failed; retrying", extra=details)
            self.queue.retry_later(task, f"{error.reason or error.code.name}: {error.message}")
