"""A checkout in progress, persisted before it touches another service.

The order row is written (state CREATING, with its priced lines) before the stock is
reserved, so that whatever happens next, the order service knows which remote steps may
have been taken for it. A worker holds the intent through a lease (owner and expiry);
every step it records is conditional on still holding it, so two workers (a retry of
the same request, the sweeper) never drive one checkout at once.

An intent that fails, or whose worker vanished (a crash: the lease expires), is
abandoned: its request id is freed, its payment cancelled and its stock released (each
idempotent, so repeating after another crash is safe), then the row is deleted. A
failed checkout thus leaves nothing behind, here or at the peers.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from typing import Any

import peewee

from pasar.payment.v1 import payment_pb2
from pasar_kit.database import atomic_write
from pasar_kit.prepared import PreparedWrite, insert_of
from pasar_kit.timestamps import utc_now
from pasar_order import order_numbers, reasons
from pasar_order.mail_outbox import queue_email
from pasar_order.models import (
    CHECKOUT_STATES,
    EmailKind,
    Order,
    OrderLine,
    OrderState,
    database_proxy,
    stored_destination,
)
from pasar_order.order_locks import locked_order
from pasar_order.peers import Peers
from pasar_order.pricing import PricedOrder
from pasar_order.reasons import PeerError
from pasar_order.settlement import OrderSettler
from pasar_order.tracing import traced_columns

log = logging.getLogger(__name__)

# How often an intent draws another order number after a collision (each draw collides with
# a chance of one in hundreds of thousands at most, so the second one all but always does).
ORDER_NUMBER_DRAWS = 10

# Answers to ReleaseReservation that mean no stock is held for the order any more.
NOTHING_HELD = frozenset({reasons.RESERVATION_RELEASED, reasons.RESERVATION_NOT_FOUND})


# A checkout's writes, their SQL built once (pasar_kit.prepared): peewee's building them
# was about a seventh of the order service's CPU per checkout.
_ORDER_COLUMNS = (
    "id",
    "order_number",
    "request_id",
    "request_fingerprint",
    "state",
    "customer_email",
    "language_code",
    "payment_channel_code",
    "currency_code",
    "subtotal",
    "access_token_hash",
    "lease_owner",
    "lease_until",
    "create_time",
    "update_time",
    "traceparent",
    "tracestate",
)
_LINE_COLUMNS = (
    "order",
    "position",
    "package_id",
    "package_display_name",
    "product_id",
    "product_display_name",
    "package_display_name_en",
    "product_display_name_en",
    "unit_price",
    "quantity",
    "line_total",
    "destination",
    "delivery_kind",
)
_INSERT_ORDER = insert_of(database_proxy, Order, _ORDER_COLUMNS)
_INSERT_LINES = insert_of(database_proxy, OrderLine, _LINE_COLUMNS)
# What complete() sets.
_COMPLETED_COLUMNS = (
    "state",
    "payment_id",
    "fee",
    "total",
    "payment_snapshot",
    "expire_time",
    "update_time",
    "lease_owner",
    "lease_until",
)


def _holds(order: Order | None, owner: str) -> bool:
    """Whether owner holds the intent (order: its row, locked for the transaction).

    Every step decides on the row locked by its key (order_locks.locked_order), then writes
    by key alone: an UPDATE of the id, the state and the owner was planned by MariaDB
    through the (state, expire_time) index, locking the entry before the row, and copies
    of one request claiming the intent while its worker completed it could deadlock."""
    return order is not None and order.state == OrderState.CREATING and order.lease_owner == owner


_NOTE_PAYMENT_REQUESTED = PreparedWrite(
    database_proxy,
    lambda order_id, update_time: Order.update(payment_requested=True, update_time=update_time).where(
        Order.id == order_id
    ),
)
_COMPLETE = PreparedWrite(
    database_proxy,
    lambda order_id, *values: Order.update(dict(zip(_COMPLETED_COLUMNS, values, strict=True))).where(
        Order.id == order_id
    ),
)


def payment_description(order_id: str) -> str:
    """What the payment says it is for; fixed per order, as retries of CreatePayment must match."""
    return f"Pasar order {order_id}"


def create(
    *,
    order_id: str,
    request_id: str,
    fingerprint: str,
    customer_email: str,
    language_code: str,
    payment_channel_code: str,
    priced: PricedOrder,
    access_token_hash: str,
    owner: str,
    lease: timedelta,
    database: peewee.Database,
) -> tuple[Order, list[OrderLine]]:
    """Writes the intent and its lines, leased to owner, with a fresh order number (drawn
    again while it collides), and returns them as written (the checkout reads neither back).
    IntegrityError if request_id is taken."""
    now = utc_now()
    order_row: dict[str, Any] = {
        "id": order_id,
        "request_id": request_id or None,
        "request_fingerprint": fingerprint,
        "state": OrderState.CREATING,
        "customer_email": customer_email,
        "language_code": language_code,
        "payment_channel_code": payment_channel_code,
        "currency_code": priced.currency_code,
        "subtotal": priced.subtotal,
        "access_token_hash": access_token_hash,
        "lease_owner": owner,
        "lease_until": now + lease,
        "create_time": now,
        "update_time": now,
        **traced_columns(),  # the checkout's: the order's settlement and deliveries join its trace
    }
    line_rows = [
        {
            "order": order_id,
            "position": position,
            "package_id": line.package_id,
            "package_display_name": line.package_display_name,
            "product_id": line.product_id,
            "product_display_name": line.product_display_name,
            "package_display_name_en": line.package_display_name_en,
            "product_display_name_en": line.product_display_name_en,
            "unit_price": line.unit_price,
            "quantity": line.quantity,
            "line_total": line.line_total,
            "destination": stored_destination(dict(line.destination)),
            "delivery_kind": line.delivery_kind,
        }
        for position, line in enumerate(priced.lines)
    ]
    for _ in range(ORDER_NUMBER_DRAWS):
        number = order_numbers.new_order_number()
        try:
            row = {**order_row, "order_number": number}
            with atomic_write(database):
                _INSERT_ORDER.execute(row)
                _INSERT_LINES.execute(*line_rows)
            return Order(**row), [OrderLine(**line_row) for line_row in line_rows]
        except peewee.IntegrityError:
            if not Order.select().where(Order.order_number == number).exists():
                raise  # the request id, not the number
            log.info("order number taken; drawing another", extra={"order_id": order_id})
    raise RuntimeError(f"no free order number after {ORDER_NUMBER_DRAWS} draws")


def claim(order_id: str, owner: str, lease: timedelta) -> bool:
    """Takes over a CREATING intent whose worker's lease has expired (to resume it)."""
    with atomic_write(database_proxy.obj):
        now = utc_now()
        order = locked_order(order_id)
        if order is None or order.state != OrderState.CREATING or not _lease_expired(order, now):
            return False
        Order.update(lease_owner=owner, lease_until=now + lease).where(Order.id == order_id).execute()
    return True


def _lease_expired(order: Order, now: datetime) -> bool:
    """Whether nobody holds the intent at now (its worker's lease has run out, or it has none)."""
    return order.lease_until is None or order.lease_until < now


def note_payment_requested(order_id: str, owner: str) -> bool:
    """Records, before calling CreatePayment, that a payment may exist from now on."""
    with atomic_write(database_proxy.obj):
        if not _holds(locked_order(order_id), owner):
            return False
        _NOTE_PAYMENT_REQUESTED.execute(order_id, utc_now())
    return True


def complete(
    order: Order,
    owner: str,
    payment: payment_pb2.Payment,
    latest_expiry: datetime,
    database: peewee.Database,
) -> bool:
    """The checkout's last step, in one transaction: the order becomes PENDING_PAYMENT with
    its payment, and its "order created" e-mail is queued. False if the lease was lost;
    True, and order (the intent's row) now as stored, if not: the answer needs no read back.

    The order expires when its payment does, unless that is after latest_expiry (the
    reservation's end minus its margin): then at latest_expiry, when the sweeper cancels
    the payment, so that a payment is never paid for stock the catalog let go."""
    payment_expires = payment_expiry(payment, latest_expiry)
    expire_time = min(payment_expires, latest_expiry)
    if expire_time < payment_expires:
        log.warning(
            "the payment outlives the stock's reservation; the order expires before it",
            extra={"order_id": order.id, "payment_id": payment.id},
        )
    with atomic_write(database):
        now = utc_now()
        held = _holds(locked_order(order.id), owner)
        changes: dict[str, Any] = {
            "state": OrderState.PENDING_PAYMENT,
            "payment_id": payment.id,
            "fee": payment.fee.amount,
            "total": payment.total.amount,
            "payment_snapshot": payment.SerializeToString(),
            "expire_time": expire_time,
            "update_time": now,
            "lease_owner": None,
            "lease_until": None,
        }
        if held:
            _COMPLETE.execute(order.id, *(changes[name] for name in _COMPLETED_COLUMNS))
            queue_email(order.id, EmailKind.ORDER_CREATED, now)
    if not held:
        return False
    for name, value in changes.items():
        setattr(order, name, value)
    return True


def payment_expiry(payment: payment_pb2.Payment, default: datetime) -> datetime:
    """The payment's expire_time, or default when it has none."""
    return payment.expire_time.ToDatetime(tzinfo=UTC) if payment.HasField("expire_time") else default


def abandon(order_id: str, owner: str, lease: timedelta) -> bool:
    """Gives up a checkout this worker holds: frees its request id for a fresh retry and
    marks it to be undone."""
    with atomic_write(database_proxy.obj):
        if not _holds(locked_order(order_id), owner):
            return False
        now = utc_now()
        Order.update(
            state=OrderState.ABORTING, request_id=None, lease_until=now + lease, update_time=now
        ).where(Order.id == order_id).execute()
    return True


def take_over_stale(order_id: str, owner: str, lease: timedelta) -> bool:
    """Takes a checkout whose worker vanished (lease expired), to undo it."""
    now = utc_now()
    updated: int = (
        Order.update(
            state=OrderState.ABORTING,
            request_id=None,
            lease_owner=owner,
            lease_until=now + lease,
            update_time=now,
        )
        .where(
            (Order.id == order_id)
            & Order.state.in_(CHECKOUT_STATES)
            & (Order.lease_until.is_null() | (Order.lease_until < now))
        )
        .execute()
    )
    return updated == 1


def stale(limit: int) -> list[Order]:
    """Checkouts whose worker's lease has expired (their ids and trace contexts only)."""
    now = utc_now()
    query = (
        Order.select(Order.id, Order.traceparent, Order.tracestate)
        .where(Order.state.in_(CHECKOUT_STATES) & (Order.lease_until.is_null() | (Order.lease_until < now)))
        .order_by(Order.create_time)
        .limit(limit)
    )
    return list(query)


class Compensation:
    """Undoes the remote steps of an abandoned checkout, then deletes it."""

    def __init__(self, database: peewee.Database, peers: Peers, settler: OrderSettler) -> None:
        self.database = database
        self.peers = peers
        self.settler = settler

    def undo(
        self,
        order_id: str,
        owner: str,
        *,
        stock_may_be_held: bool = True,
        payment_may_exist: bool | None = None,
        payment_request_may_be_running: bool = False,
    ) -> bool:
        """Cancels the payment, releases the stock, deletes the intent; True when the
        intent is finished (undone, or found paid). Raises PeerError when a peer cannot
        be reached: the intent stays ABORTING for the sweeper.

        The flags say what the caller knows did not happen (a refused step); by default
        every step the intent records as started is undone. payment_request_may_be_running:
        the checkout's own CreatePayment failed a moment ago without an answer, so the
        payment service may still be making the payment; finding none then proves
        nothing, and the intent is left (False) to the sweeper, which looks again once
        its lease has run out, long after that call's deadline."""
        order: Order | None = Order.get_or_none(
            (Order.id == order_id) & (Order.state == OrderState.ABORTING) & (Order.lease_owner == owner)
        )
        if order is None:
            return True  # someone else finished it
        if payment_may_exist is None:
            payment_may_exist = bool(order.payment_requested)
        if payment_may_exist:
            payment_id = order.payment_id or self._payment_of(order)
            if payment_id is None and payment_request_may_be_running:
                log.info(
                    "no payment yet for a failed checkout; the sweeper looks again later",
                    extra={"order_id": order_id},
                )
                return False
            if payment_id is not None and self._payment_was_paid(order, payment_id):
                return True  # the money arrived: the order is PAID now, and keeps its stock
        if stock_may_be_held:
            try:
                self.peers.release_reservation(order_id)
            except PeerError as error:
                if error.reason not in NOTHING_HELD:
                    raise
        with atomic_write(self.database):
            # Decided on the locked row, as every change of an intent is (_holds).
            order = locked_order(order_id)
            if order is not None and order.state == OrderState.ABORTING and order.lease_owner == owner:
                Order.delete().where(Order.id == order_id).execute()
                OrderLine.delete().where(OrderLine.order == order_id).execute()
        log.info("abandoned checkout undone", extra={"order_id": order_id})
        return True

    def _payment_of(self, order: Order) -> str | None:
        """The id of the payment made for the order, whose answer the checkout never got
        (a crash, or a lost answer); None if the payment service has none. Asked without
        CreatePayment, which would make a payment only for it to be cancelled."""
        payment = self.peers.find_payment_by_order(order.id)
        return payment.id if payment is not None else None

    def _payment_was_paid(self, order: Order, payment_id: str) -> bool:
        """Cancels the checkout's payment; True if it turned out paid."""
        try:
            payment = self.peers.cancel_payment(payment_id)
        except PeerError as error:
            if error.reason != reasons.PAYMENT_PAID:
                raise
            payment = self.peers.get_payment(payment_id)
        if payment.state == payment_pb2.PAYMENT_STATE_PAID:
            log.warning("an abandoned checkout was paid; the order is PAID", extra={"order_id": order.id})
            self.settler.record_paid(order.id, payment)
            return True
        return False
