"""Reading orders, and the local state changes that follow what happened to the payment.

Each change happens only from the expected state (a conditional UPDATE, or a decision on
the order's row locked by its key first), so two instances or a repeated event cannot
apply it twice, plus the rows of the work it implies: the e-mail to send, the step on the
stock reservation, and for a paid order the delivery of each line. Callers run them
inside a transaction, together with whatever else must change with them (the event
cursor).
"""

from __future__ import annotations

from datetime import UTC, datetime

from pasar.payment.v1 import payment_pb2
from pasar_order import reasons
from pasar_order.access import token_opens
from pasar_order.deliveries import queue_fulfillments
from pasar_order.mail_outbox import queue_email, queue_expired_mail
from pasar_order.models import VISIBLE_STATES, EmailKind, Order, OrderState, ReservationStep
from pasar_order.order_locks import locked_order
from pasar_order.reservations import queue_reservation_step

# States from which a payment's arrival makes the order PAID: a checkout still in progress
# counts, because the money decides (a paid payment always has a paid order).
PAYABLE_STATES = (OrderState.PENDING_PAYMENT, OrderState.CREATING, OrderState.ABORTING)


def find_visible(order_id: str, token: str) -> Order:
    """The order, if it exists outside checkout and token opens it."""
    order: Order | None = Order.get_or_none(Order.id == order_id)
    # Compare the token even for an unknown id, so that timing tells nothing either.
    stored = order.access_token_hash if order is not None else "0" * 64
    if not token_opens(token, stored) or order is None or order.state not in VISIBLE_STATES:
        raise reasons.order_not_found()
    return order


def mark_paid(order_id: str, payment: payment_pb2.Payment, now: datetime) -> bool:
    """Marks the order paid; queues "payment received", the reservation's commit and the
    delivery of each line.

    An order paid while its checkout is still running (the PAID event came before the
    checkout's last step, or the undoing of a failed checkout found the payment paid)
    never reaches that step, which queues "order created": it is queued here, first, so
    that it goes out before "payment received" (an order's e-mails go out in queue
    order). The outbox keeps one e-mail of each kind per order, so an order that has it
    already keeps the one it has, whichever of the two ran first.

    False when the order was not waiting for this payment (already paid, closed, or
    unknown): then nothing changes."""
    paid_time = payment.paid_time.ToDatetime(tzinfo=UTC) if payment.HasField("paid_time") else now
    updated: int = (
        Order.update(
            state=OrderState.PAID,
            paid_time=paid_time,
            update_time=now,
            payment_id=payment.id,
            fee=payment.fee.amount,
            total=payment.total.amount,
            lease_owner=None,
            lease_until=None,
        )
        .where(
            (Order.id == payment.order_id)
            & (Order.id == order_id)
            & Order.state.in_(PAYABLE_STATES)
            & (Order.payment_id.is_null() | (Order.payment_id == payment.id))
        )
        .execute()
    )
    if updated:
        _keep_payment_for_order_created_email(order_id, payment)
        queue_email(order_id, EmailKind.ORDER_CREATED, now)
        queue_email(order_id, EmailKind.PAYMENT_RECEIVED, now)
        queue_reservation_step(order_id, ReservationStep.COMMIT, now)
        queue_fulfillments(order_id, now)
    return updated == 1


def _keep_payment_for_order_created_email(order_id: str, payment: payment_pb2.Payment) -> None:
    """Stores the payment (its instructions) and its expiry on an order paid during its
    checkout, which the "order created" e-mail shows; an order that has them keeps them."""
    expire_time = payment.expire_time.ToDatetime(tzinfo=UTC) if payment.HasField("expire_time") else None
    Order.update(payment_snapshot=payment.SerializeToString(), expire_time=expire_time).where(
        (Order.id == order_id) & Order.payment_snapshot.is_null()
    ).execute()


def mark_closed(order_id: str, state: OrderState, now: datetime, payment_id: str | None = None) -> bool:
    """Closes a pending order unpaid (CANCELLED or EXPIRED) and queues the release of its
    stock, and for an expired one its "expired" e-mail (a cancelled order gets none: the
    shopper cancelled it). Every way an order expires comes here: the sweeper, the
    payment's EXPIRED event, a cancellation found past the deadline.

    False when the order was no longer pending (paid or closed before): nothing changes."""
    assert state in (OrderState.CANCELLED, OrderState.EXPIRED)
    # Decided on the row locked by its key (order_locks.locked_order), not by an UPDATE of
    # the id and the state, which MariaDB planned through the (state, expire_time) index:
    # the sweeper and the payment events close the same order.
    order = locked_order(order_id)
    if (
        order is None
        or order.state != OrderState.PENDING_PAYMENT
        or (payment_id is not None and order.payment_id != payment_id)
    ):
        return False
    Order.update(state=state, update_time=now).where(Order.id == order_id).execute()
    queue_reservation_step(order_id, ReservationStep.RELEASE, now)
    if state == OrderState.EXPIRED:
        queue_expired_mail(order_id, now)
    return True
