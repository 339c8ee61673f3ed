"""Ending an order: paid, or closed unpaid (cancelled by the shopper, or expired).

Closing an unpaid order starts at the payment service, never locally: the payment is
cancelled first, and only a payment that is really cancelled (or expired) lets the order
close and its stock go back. If the money arrived in the meantime, cancelling fails with
PAYMENT_PAID and the order becomes PAID instead. This ordering is what keeps "every paid
payment has a paid order" true when a shopper pays at the last second.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import peewee

from pasar.payment.v1 import payment_pb2
from pasar_kit.background import Doorbell
from pasar_kit.database import atomic_write
from pasar_kit.timestamps import utc_now
from pasar_order import orders, reasons
from pasar_order.models import Order, OrderState
from pasar_order.peers import PAYMENT_SERVICE, Peers
from pasar_order.reasons import PeerError

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Doorbells:
    """The background dispatchers to wake when a change queued work for them."""

    mail: Doorbell
    reservations: Doorbell
    fulfillments: Doorbell
    refunds: Doorbell

    def ring(self) -> None:
        self.mail.ring()
        self.reservations.ring()
        self.fulfillments.ring()
        self.refunds.ring()


class OrderSettler:
    """Applies a payment's outcome to its order."""

    def __init__(self, database: peewee.Database, peers: Peers, doorbells: Doorbells) -> None:
        self.database = database
        self.peers = peers
        self.doorbells = doorbells

    def record_paid(self, order_id: str, payment: payment_pb2.Payment) -> bool:
        """Marks the order paid (idempotent); True if this call changed it."""
        with atomic_write(self.database):
            changed = orders.mark_paid(order_id, payment, utc_now())
        if changed:
            log.info("order paid", extra={"order_id": order_id, "payment_id": payment.id})
            self.doorbells.ring()
        return changed

    def cancel(self, order: Order) -> Order:
        """CancelOrder: closes a pending order as CANCELLED; a cancelled one stays as it is;
        any other (paid, expired, or paid while being cancelled) is ORDER_NOT_CANCELLABLE."""
        if order.state == OrderState.PENDING_PAYMENT:
            order = self.close_unpaid(order, OrderState.CANCELLED)
        if order.state != OrderState.CANCELLED:  # paid (delivered or refunded too) or expired
            raise reasons.order_not_cancellable(OrderState(order.state))
        return order

    def close_unpaid(self, order: Order, state: OrderState) -> Order:
        """Cancels the order's payment, then closes the order as state (CANCELLED or EXPIRED).

        Returns the order as it ends: PAID if the payment was paid after all, EXPIRED if
        the payment had expired, otherwise state. A payment service that cannot be
        reached raises UNAVAILABLE and changes nothing."""
        payment_id = order.payment_id
        if payment_id is None:
            raise ValueError(f"order {order.id} has no payment to cancel")
        try:
            payment = self.peers.cancel_payment(payment_id)
        except PeerError as error:
            if error.reason != reasons.PAYMENT_PAID:
                raise
            payment = self.peers.get_payment(payment_id)
        if payment.state == payment_pb2.PAYMENT_STATE_PAID:
            self.record_paid(order.id, payment)
        elif payment.state in (payment_pb2.PAYMENT_STATE_CANCELLED, payment_pb2.PAYMENT_STATE_EXPIRED):
            final = OrderState.EXPIRED if payment.state == payment_pb2.PAYMENT_STATE_EXPIRED else state
            with atomic_write(self.database):
                changed = orders.mark_closed(order.id, final, utc_now())
            if changed:
                log.info("order closed unpaid", extra={"order_id": order.id, "state": final})
                self.doorbells.ring()  # the release of its stock; an expired order's e-mail
        else:
            state_name = payment_pb2.PaymentState.Name(payment.state)
            raise reasons.dependency_unavailable(
                PAYMENT_SERVICE,
                f"the payment service left payment {payment_id} {state_name} when asked to cancel it",
            )
        closed: Order = Order.get_by_id(order.id)
        return closed
