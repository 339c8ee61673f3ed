"""What a paid order may and may not become (contracts v1.2): PAID is no longer final.

Once paid, an order goes on to FULFILLED (every line delivered) or REFUNDED (a delivery
failed and was refunded), at any moment the delivery service answers. So "paid" is any of
the three states, and a second read of a paid order matches the first in everything fixed
at payment, while its state, update_time, complete_time, refunded_total and the lines'
fulfillment and refund may only move forward.
"""

from __future__ import annotations

from pasar.order.v1 import order_pb2
from pasar.payment.v1 import payment_pb2

PAID = order_pb2.ORDER_STATE_PAID
# The states an order is in once its payment arrived: delivering, or one of its two ends.
PAID_STATES = frozenset({PAID, order_pb2.ORDER_STATE_FULFILLED, order_pb2.ORDER_STATE_REFUNDED})
PAID_STATE_NAMES = frozenset(order_pb2.OrderState.Name(state) for state in PAID_STATES)
# A paid order's payment: paid, or refunded in full when no line was delivered.
PAID_PAYMENT_STATES = frozenset({payment_pb2.PAYMENT_STATE_PAID, payment_pb2.PAYMENT_STATE_REFUNDED})


def is_paid(order: order_pb2.Order) -> bool:
    return order.state in PAID_STATES


def moved_on(earlier: order_pb2.OrderState.ValueType, later: order_pb2.OrderState.ValueType) -> bool:
    """Whether a paid order read in state earlier may later be in state later: the same,
    or from PAID to one of the two final states (never back, never across)."""
    return later == earlier or (earlier == PAID and later in PAID_STATES)


def fixed_at_payment(order: order_pb2.Order) -> order_pb2.Order:
    """order without what may change after payment: what two reads of it must agree on."""
    fixed = order_pb2.Order()
    fixed.CopyFrom(order)
    for name in ("state", "update_time", "complete_time", "refunded_total"):
        fixed.ClearField(name)
    for line in fixed.lines:
        line.ClearField("fulfillment")
        line.ClearField("refund")
    return fixed


def assert_same_paid_order(first: order_pb2.Order, again: order_pb2.Order) -> None:
    """again, read after first, is the same paid order, at most further along."""
    assert is_paid(first), f"order {first.id} is {order_pb2.OrderState.Name(first.state)}, not paid"
    assert fixed_at_payment(again) == fixed_at_payment(first), (
        f"order {first.id} changed after payment beyond its state and deliveries:\n{first}\n---\n{again}"
    )
    assert moved_on(first.state, again.state), (
        f"order {first.id} went from {order_pb2.OrderState.Name(first.state)} "
        f"to {order_pb2.OrderState.Name(again.state)}"
    )
    assert again.update_time.ToDatetime() >= first.update_time.ToDatetime()
    if again.state == first.state != PAID:  # a final state: nothing moves any more
        assert again == first, f"order {first.id} changed in its final state:\n{first}\n---\n{again}"
