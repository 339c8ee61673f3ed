"""Order numbers (contracts v1.3): "PSR-" and six characters people cannot mistake for one
another, given at checkout beside the id, unique, and the same on every later answer about
the order (reads, retried checkouts, cancellation, payment)."""

from __future__ import annotations

from pasar_conformance.order.shop import ORDER_NUMBER, Shop

# Orders placed to see that their numbers differ (a sample, not a proof of uniqueness).
SAMPLE = 12


def test_an_order_is_given_a_number_people_can_read_out(shop: Shop) -> None:
    placed = shop.placed()
    number = placed.order.order_number
    assert ORDER_NUMBER.match(number), f"order number {number!r} is not PSR- and six unambiguous characters"
    assert number != placed.order.id  # beside the id, which stays the key


def test_every_order_has_a_number_of_its_own(shop: Shop) -> None:
    [package] = shop.packages((SAMPLE,))
    numbers = [shop.place(shop.request((package.id, 1))).order.order_number for _ in range(SAMPLE)]
    assert all(ORDER_NUMBER.match(number) for number in numbers), numbers
    assert len(set(numbers)) == SAMPLE, f"two orders share a number: {sorted(numbers)}"


def test_the_number_stays_the_same_on_reads_retries_and_cancellation(shop: Shop) -> None:
    [package] = shop.packages((10,))
    request = shop.request((package.id, 1))
    placed = shop.place(request)
    number = placed.order.order_number
    assert shop.get(placed.order.id, placed.access_token).order_number == number
    assert shop.place(request).order.order_number == number  # the retried checkout
    assert shop.cancel(placed.order.id, placed.access_token).order_number == number
    assert shop.get(placed.order.id, placed.access_token).order_number == number


def test_a_paid_order_keeps_its_number(shop: Shop) -> None:
    placed = shop.placed()
    shop.pay(placed.payment.id)
    assert shop.paid(placed).order_number == placed.order.order_number
