"""Giving money back for lines that were not delivered (and the fee), made durable.

deliveries queues a RefundTask in the transaction that records a failed line (or, when
no line was delivered, the fee); this dispatcher calls RefundPayment until the payment
service has made the refund, so that an outage of the payment service delays a refund
but never loses one. RefundPayment is idempotent on the request id (the failed
fulfillment's id, or ``<order id>:fee``), so a call repeated after a crash refunds once.
A refusal no retry changes (more than what is left to refund, a payment that cannot be
refunded, a request id used for another refund) is logged as an error and the row kept
as FAILED: the money then needs a person. Any other refusal (the order service not
allowed as a caller, say) is logged as an error and retried with backoff.
"""

from __future__ import annotations

import logging

import peewee

from pasar.common.v1 import money_pb2
from pasar_kit.database import atomic_write, released_while_waiting
from pasar_kit.timestamps import utc_now
from pasar_order import deliveries, reasons
from pasar_order.models import Order, RefundTask
from pasar_order.peers import Peers
from pasar_order.reasons import PeerError
from pasar_order.settlement import Doorbells
from pasar_order.work_queue import Backoff, TaskDispatcher

log = logging.getLogger(__name__)


class RefundDispatcher(TaskDispatcher[RefundTask]):
    """Carries out queued refunds at the payment service."""

    destination = "refund-requests"

    def __init__(
        self, database: peewee.Database, peers: Peers, backoff: Backoff, doorbells: Doorbells
    ) -> None:
        super().__init__(RefundTask, backoff)
        self.database = database
        self.peers = peers
        self.doorbells = doorbells

    def carry_out(self, task: RefundTask) -> None:
        order: Order = Order.get_by_id(task.order_id)
        assert order.payment_id is not None, "a paid order has its payment"
        reason = deliveries.LINE_REFUND_REASON if task.line_id is not None else deliveries.FEE_REFUND_REASON
        try:
            # On SQLite the round's connection goes back to the pool while the payment
            # service answers (pasar_kit.database.released_while_waiting).
            with released_while_waiting(self.database):
                refund = self.peers.refund_payment(
                    payment_id=order.payment_id,
                    request_id=task.request_id,
                    amount=money_pb2.Money(currency_code=order.currency_code, amount=task.amount),
                    reason=reason,
                )
        except PeerError as error:
            if error.is_passing:
                self.queue.retry_later(task, error.message)
                return
            details = {
                "order_id": order.id,
                "payment_id": order.payment_id,
                "request_id": task.request_id,
                "amount": task.amount,
                "reason": error.reason,
                "code": error.code.name,
            }
            if error.reason in reasons.REFUND_REFUSALS:
                log.error("the payment service refused a refund; the money needs a person", extra=details)
                self.queue.give_up(task, f"{error.reason}: {error.message}")
            else:
                # Not an answer RefundPayment gives for the refund itself (the order service
                # not allowed as a caller, say): keep trying, slowly, once it is set right.
                log.error("a refund failed; retrying", extra=details)
                self.queue.retry_later(task, f"{error.reason or error.code.name}: {error.message}")
            return
        with atomic_write(self.database):
            changed = deliveries.record_refund(order.id, refund, utc_now())
        self.queue.complete(task)
        if changed:
            self.doorbells.mail.ring()
        log.info(
            "refund made",
            extra={
                "order_id": order.id,
                "request_id": task.request_id,
                "refund_id": refund.id,
                "amount": task.amount,
            },
        )
