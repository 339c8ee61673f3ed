"""LookupOrder ("Cek pesanan", contracts v1.3): an order found again by its number and the
e-mail address it was placed with (any case, surrounding spaces) or a destination of one of
its lines (a phone number as "08...", "62..." or "+62...", with spaces or dashes), answered
with the access token CreateOrder gave. A wrong contact answers exactly like an unknown
number; failed look-ups of one number, known or not, are RATE_LIMITED once there were too
many, even with the right contact, and never before.

The contract leaves the number of failures allowed to the deployment, so the cases find it
by failing until the number is limited (up to MOST_FAILURES_PROBED) and judge by it.
"""

from __future__ import annotations

import secrets
from functools import partial
from typing import cast

import grpc
import pytest

from pasar.common.v1.error_reason_pb2 import ErrorReason as CommonReason
from pasar.order.v1 import order_service_pb2 as order_pb
from pasar.order.v1.error_reason_pb2 import ErrorReason
from pasar_conformance.answers import error_info, expect_reason, refused
from pasar_conformance.destination_fields import PHONE_EXAMPLE
from pasar_conformance.order.shop import ORDER_NUMBER, ORDER_NUMBER_ALPHABET, Shop

ORDER_NOT_FOUND = ErrorReason.Name(ErrorReason.ORDER_NOT_FOUND)
RATE_LIMITED = CommonReason.Name(CommonReason.RATE_LIMITED)
# Failed look-ups of one number a case makes before it concludes the service never limits.
MOST_FAILURES_PROBED = 50
# PHONE_EXAMPLE (081234561234) as shoppers type it.
PHONE_FORMS = (
    PHONE_EXAMPLE,
    "+62" + PHONE_EXAMPLE[1:],
    "62" + PHONE_EXAMPLE[1:],
    "0812-3456-1234",
    "+62 812 3456 1234",
)


def unknown_number() -> str:
    return "PSR-" + "".join(secrets.choice(ORDER_NUMBER_ALPHABET) for _ in range(6))


def assert_found(shop: Shop, placed: order_pb.CreateOrderResponse, contact: str) -> None:
    found = shop.lookup(placed.order.order_number, contact)
    assert found.access_token == placed.access_token, f"looked up with {contact!r}: another token"
    assert found.order == shop.get(placed.order.id, placed.access_token), f"looked up with {contact!r}"


def refusal(error: grpc.RpcError, number: str) -> tuple[grpc.StatusCode, str, object]:
    """What a client sees of a refused look-up, the number it asked for left out."""
    call = cast(grpc.Call, error)
    return call.code(), (call.details() or "").replace(number, "<number>"), error_info(error)


def failures_until_limited(shop: Shop, number: str, contact: str) -> tuple[int, grpc.RpcError]:
    """Look-ups of number with a contact that does not match, until one is RATE_LIMITED:
    how many were answered ORDER_NOT_FOUND first, and the RATE_LIMITED refusal."""
    for failures in range(MOST_FAILURES_PROBED + 1):
        error = refused(lambda: shop.lookup(number, contact))
        info = error_info(error)
        if info is not None and info.reason == RATE_LIMITED:
            return failures, error
        expect_reason(error, ORDER_NOT_FOUND)
    pytest.fail(f"{MOST_FAILURES_PROBED} failed look-ups of {number} and it is still not RATE_LIMITED")


def test_an_order_is_found_by_its_number_and_e_mail_address_in_any_case(shop: Shop) -> None:
    placed = shop.placed()
    email = placed.order.customer_email
    for contact in (email, email.upper(), f"  {email.title()} "):
        assert_found(shop, placed, contact)


def test_an_order_is_found_by_the_phone_number_it_tops_up_in_any_usual_form(shop: Shop) -> None:
    package = shop.phone_package()
    request = shop.request((package.id, 1))
    request.lines[0].destination["phone_number"] = PHONE_EXAMPLE
    placed = shop.place(request)
    for contact in PHONE_FORMS:
        assert_found(shop, placed, contact)


def test_a_wrong_contact_answers_exactly_like_an_unknown_number(shop: Shop) -> None:
    # One order a wrong contact: a shop may limit a number after its first failed look-up.
    placed, other, third = shop.placed(), shop.placed(), shop.placed()
    stranger = f"{shop.order.run.new('stranger')}@example.com"
    attempts = {
        "an unknown number": (unknown_number(), placed.order.customer_email),
        "another e-mail address": (placed.order.order_number, stranger),
        "another order's e-mail address": (other.order.order_number, placed.order.customer_email),
        "a phone number it does not top up": (third.order.order_number, PHONE_EXAMPLE),
    }
    seen = {}
    for what, (number, contact) in attempts.items():
        error = refused(partial(shop.lookup, number, contact))
        expect_reason(error, ORDER_NOT_FOUND)
        seen[what] = refusal(error, number)
    first = next(iter(seen.values()))
    assert all(answer == first for answer in seen.values()), f"the answers tell the cases apart: {seen}"


def test_failed_look_ups_of_a_number_are_rate_limited_once_too_many_and_never_before(shop: Shop) -> None:
    limited, probe, spare = shop.placed(), shop.placed(), shop.placed()
    stranger = f"{shop.order.run.new('stranger')}@example.com"
    allowed, error = failures_until_limited(shop, limited.order.order_number, stranger)
    assert allowed >= 1, "the first failed look-up of a number was already RATE_LIMITED"
    metadata = expect_reason(error, RATE_LIMITED)
    assert int(metadata["retry_after_seconds"]) > 0, metadata
    # Limited now even with the right contact: the answer must not tell a guess was right.
    expect_reason(lambda: shop.lookup(limited.order.order_number, limited.order.customer_email), RATE_LIMITED)
    # The limit is the number's: another order's look-up is answered.
    assert_found(shop, spare, spare.order.customer_email)

    # Not before: one failure short of the limit, the right contact finds the order.
    for _ in range(allowed - 1):
        expect_reason(lambda: shop.lookup(probe.order.order_number, stranger), ORDER_NOT_FOUND)
    assert_found(shop, probe, probe.order.customer_email)


def test_unknown_numbers_are_rate_limited_like_known_ones(shop: Shop) -> None:
    """Failures count for a number nobody has too, so the limit tells nothing either."""
    known = shop.placed()
    stranger = f"{shop.order.run.new('stranger')}@example.com"
    allowed_known, _ = failures_until_limited(shop, known.order.order_number, stranger)
    number = unknown_number()
    assert ORDER_NUMBER.match(number)
    allowed_unknown, error = failures_until_limited(shop, number, stranger)
    assert allowed_unknown == allowed_known, (allowed_unknown, allowed_known)
    expect_reason(error, RATE_LIMITED)
