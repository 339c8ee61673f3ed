"""The sweeper: finishes what nobody else will.

- Checkouts whose worker vanished (a crash, a killed instance) are undone: their lease
  has expired, so the sweeper takes them over, cancels their payment and releases their
  stock (see :mod:`pasar_order.intents`). Nothing stays reserved for a dead checkout.
- Unpaid orders past their expiry time are closed: payment cancelled first, then EXPIRED
  and the stock released (see :mod:`pasar_order.settlement`); an order paid at the last
  second becomes PAID instead.
- Counts of failed order look-ups whose window has passed are deleted.

Every step is conditional or idempotent, so sweepers of several instances can run at once.
Each order's undoing or expiry runs in a span whose parent is its checkout's trace context.
"""

from __future__ import annotations

import logging
import secrets
from datetime import datetime, timedelta

from pasar_kit.errors import ServiceError
from pasar_kit.timestamps import utc_now
from pasar_order import intents
from pasar_order.lookups import OrderLookup
from pasar_order.models import Order, OrderState
from pasar_order.settlement import OrderSettler
from pasar_order.tracing import ORDER_ID, row_span

log = logging.getLogger(__name__)

BATCH = 50
# The names of the sweeper's work in spans.
ABANDONED_CHECKOUTS = "abandoned-checkouts"
EXPIRED_ORDERS = "expired-orders"


class Sweeper:
    def __init__(
        self,
        compensation: intents.Compensation,
        settler: OrderSettler,
        lease: timedelta,
        lookup: OrderLookup,
    ) -> None:
        self.compensation = compensation
        self.lookup = lookup
        self.settler = settler
        self.lease = lease
        self.owner = secrets.token_hex(8)

    def sweep(self) -> bool:
        """One round; True when a full batch was handled and more may be waiting."""
        undone = self.undo_stale_checkouts()
        expired = self.expire_unpaid_orders()
        self.lookup.forget_passed_windows()
        return undone == BATCH or expired >= BATCH

    def undo_stale_checkouts(self) -> int:
        """Undoes abandoned checkouts; returns how many were undone."""
        undone = 0
        for checkout in intents.stale(BATCH):
            with row_span(ABANDONED_CHECKOUTS, checkout, checkout.id, {ORDER_ID: checkout.id}):
                undone += int(self._undo(checkout.id))
        return undone

    def _undo(self, order_id: str) -> bool:
        if not intents.take_over_stale(order_id, self.owner, self.lease):
            return False
        log.warning("undoing a checkout whose worker vanished", extra={"order_id": order_id})
        try:
            return self.compensation.undo(order_id, self.owner)
        except ServiceError as error:
            log.warning(
                "cannot undo the checkout now; retrying later",
                extra={"order_id": order_id, "error": error.message},
            )
            return False

    def expire_unpaid_orders(self, pages: int = 20) -> int:
        """Closes unpaid orders past their expiry, oldest first; returns how many were closed.

        The round reads the due orders a page at a time, up to `pages` pages: an order that
        cannot be closed now (its payment refused, for good or for a while) is passed over
        and retried next round, never holding back the orders due after it.
        """
        closed = 0
        overdue = (Order.state == OrderState.PENDING_PAYMENT) & (Order.expire_time <= utc_now())
        after: tuple[datetime, str] | None = None
        for _ in range(pages):
            due = Order.select().where(overdue)
            if after is not None:
                due = due.where(
                    (Order.expire_time > after[0]) | ((Order.expire_time == after[0]) & (Order.id > after[1]))
                )
            page = list(due.order_by(Order.expire_time, Order.id).limit(BATCH))
            for order in page:
                with row_span(EXPIRED_ORDERS, order, order.id, {ORDER_ID: order.id}):
                    closed += int(self._expire(order))
            if len(page) < BATCH:
                break
            after = (page[-1].expire_time, page[-1].id)
        return closed

    def _expire(self, order: Order) -> bool:
        try:
            ended = self.settler.close_unpaid(order, OrderState.EXPIRED)
        except ServiceError as error:
            log.warning(
                "cannot expire the order now; retrying later",
                extra={"order_id": order.id, "error": error.message},
            )
            return False
        log.info("unpaid order past its expiry", extra={"order_id": order.id, "state": ended.state})
        return True
