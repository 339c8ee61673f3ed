"""An order's life after checkout: paid through its payment, or cancelled with its stock
given back; a paid order cannot be cancelled, a cancelled one is answered as it is.

A paid order may already be delivered (FULFILLED) or refunded (REFUNDED) when it is read:
the cases accept any of the three and judge what payment fixed (after_payment)."""

from __future__ import annotations

from pasar.order.v1 import order_pb2
from pasar.order.v1.error_reason_pb2 import ErrorReason
from pasar.payment.v1 import payment_pb2
from pasar_conformance.answers import expect_reason
from pasar_conformance.order.after_payment import (
    PAID_PAYMENT_STATES,
    PAID_STATE_NAMES,
    assert_same_paid_order,
    fixed_at_payment,
    moved_on,
)
from pasar_conformance.order.shop import Shop

CANCELLED = order_pb2.ORDER_STATE_CANCELLED


def test_an_order_becomes_paid_when_its_payment_is_paid_and_keeps_its_stock(shop: Shop) -> None:
    [package] = shop.packages((10,))
    placed = shop.place(shop.request((package.id, 2)))
    payment = shop.pay(placed.payment.id)
    assert payment.state == payment_pb2.PAYMENT_STATE_PAID
    order = shop.paid(placed)
    assert order.paid_time == payment.paid_time  # when the payment arrived
    assert order.update_time.ToDatetime() >= order.paid_time.ToDatetime()
    # All but the state, the deliveries and their times is as placed, paid_time aside.
    as_placed = fixed_at_payment(order)
    as_placed.ClearField("paid_time")
    assert as_placed == fixed_at_payment(placed.order)
    assert shop.stock(package.id) == [8]  # sold, not given back


def test_a_paid_order_cannot_be_cancelled_and_stays_paid(shop: Shop) -> None:
    placed = shop.placed()
    shop.pay(placed.payment.id)
    paid = shop.paid(placed)
    refused = expect_reason(
        lambda: shop.cancel(placed.order.id, placed.access_token),
        ErrorReason.Name(ErrorReason.ORDER_NOT_CANCELLABLE),
    )
    after = shop.get(placed.order.id, placed.access_token)
    assert_same_paid_order(paid, after)
    # The refusal names the state the order was in then: between the two reads.
    assert refused["state"] in PAID_STATE_NAMES, refused
    state = order_pb2.OrderState.Value(refused["state"])
    assert moved_on(paid.state, state), (refused, paid.state)
    assert moved_on(state, after.state), (refused, after.state)
    assert shop.payment_of(placed.payment.id).state in PAID_PAYMENT_STATES


def test_a_cancelled_order_gives_its_stock_back_and_its_payment_is_cancelled(shop: Shop) -> None:
    [package] = shop.packages((10,))
    placed = shop.place(shop.request((package.id, 3)))
    assert shop.stock(package.id) == [7]
    cancelled = shop.cancel(placed.order.id, placed.access_token)
    assert cancelled.state == CANCELLED
    assert (cancelled.id, cancelled.lines, cancelled.total) == (
        placed.order.id,
        placed.order.lines,
        placed.order.total,
    )
    assert not cancelled.HasField("paid_time")
    assert cancelled.create_time == placed.order.create_time
    assert cancelled.update_time.ToDatetime() >= placed.order.update_time.ToDatetime()
    assert shop.get(placed.order.id, placed.access_token) == cancelled
    assert shop.payment_of(placed.payment.id).state == payment_pb2.PAYMENT_STATE_CANCELLED
    shop.stock_becomes(package.id, 10)


def test_cancelling_a_cancelled_order_answers_it_unchanged(shop: Shop) -> None:
    [package] = shop.packages((10,))
    placed = shop.place(shop.request((package.id, 1)))
    cancelled = shop.cancel(placed.order.id, placed.access_token)
    for _again in range(3):
        assert shop.cancel(placed.order.id, placed.access_token) == cancelled
    shop.stock_becomes(package.id, 10)  # given back once


def test_a_checkout_retried_after_the_order_was_paid_answers_the_order_as_it_is(shop: Shop) -> None:
    [package] = shop.packages((10,))
    request = shop.request((package.id, 1))
    placed = shop.place(request)
    shop.pay(placed.payment.id)
    paid = shop.paid(placed)
    again = shop.place(request)
    assert again.access_token == placed.access_token
    assert_same_paid_order(paid, again.order)
    assert again.payment.id == placed.payment.id
    assert again.payment.state in PAID_PAYMENT_STATES
    assert shop.stock(package.id) == [9]  # nothing held again


def test_a_checkout_retried_after_the_order_was_cancelled_answers_the_cancelled_order(shop: Shop) -> None:
    [package] = shop.packages((10,))
    request = shop.request((package.id, 2))
    placed = shop.place(request)
    cancelled = shop.cancel(placed.order.id, placed.access_token)
    again = shop.place(request)
    assert (again.order, again.access_token, again.payment.id) == (
        cancelled,
        placed.access_token,
        placed.payment.id,
    )
    shop.stock_becomes(package.id, 10)  # and no stock is held for it again


def test_cancelling_right_after_the_payment_was_paid_is_refused_and_the_order_is_paid(shop: Shop) -> None:
    """The cancel may reach the order service before the news of the payment: the order is
    paid all the same, and the cancel says so."""
    [package] = shop.packages((10,))
    placed = shop.place(shop.request((package.id, 1)))
    paid_payment = shop.pay(placed.payment.id)
    refused = expect_reason(
        lambda: shop.cancel(placed.order.id, placed.access_token),
        ErrorReason.Name(ErrorReason.ORDER_NOT_CANCELLABLE),
    )
    assert refused["state"] in PAID_STATE_NAMES, refused  # paid, maybe delivered already
    paid = shop.paid(placed)
    assert moved_on(order_pb2.OrderState.Value(refused["state"]), paid.state), (refused, paid.state)
    assert paid.paid_time == paid_payment.paid_time
    assert shop.stock(package.id) == [9]
