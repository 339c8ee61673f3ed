"""The sandbox biller's documented behaviour (svc-fulfillment/README.md), when the target's
biller is the sandbox: the outcome chosen by the ending of any destination value (0000,
0001, 0002 fail, 0009 answers late, anything else is delivered), deliveries of each kind's
shape (serial numbers; 20-digit tokens in groups of four with their kWh; voucher codes),
one per unit, and a line delivered exactly once whatever the retries."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import pytest

from pasar.fulfillment.v1 import fulfillment_pb2 as ful_pb
from pasar.fulfillment.v1 import fulfillment_service_pb2 as pb
from pasar.product.v1 import product_pb2
from pasar_conformance.answers import retrying
from pasar_conformance.fulfillment.desk import KINDS, FulfillmentDesk, kind_name
from pasar_conformance.fulfillment.log import CREATED, SUCCEEDED, read_until, types_of
from pasar_conformance.fulfillment.sandbox import (
    LATE,
    NOT_FOUND_ENDING,
    REFUSED_ENDING,
    SANDBOX,
    UNAVAILABLE_ENDING,
    kwh_of,
)
from pasar_conformance.target import Target

SERIAL_NUMBER = re.compile(r"^[0-9]{16,20}$")
TOKEN = re.compile(r"^[0-9]{4}(-[0-9]{4}){4}$")
VOUCHER_CODE = re.compile(r"^[0-9A-Z]{4}(-[0-9A-Z]{4}){3}$")
MISREAD = set("0O1IL")
QUANTITY = 2
PARALLEL_RETRIES = 8


@pytest.fixture(autouse=True)
def sandbox(desk: FulfillmentDesk) -> None:
    desk.require_sandbox()


@pytest.mark.parametrize(
    ("ending", "reason"),
    [
        (NOT_FOUND_ENDING, ful_pb.FAILURE_REASON_DESTINATION_NOT_FOUND),
        (REFUSED_ENDING, ful_pb.FAILURE_REASON_DESTINATION_REFUSED),
        (UNAVAILABLE_ENDING, ful_pb.FAILURE_REASON_PRODUCT_UNAVAILABLE),
    ],
    ids=["0000-destination-not-found", "0001-destination-refused", "0002-product-unavailable"],
)
def test_a_destination_ending_in_a_documented_number_fails_with_its_reason(
    desk: FulfillmentDesk, ending: str, reason: ful_pb.FailureReason.ValueType
) -> None:
    made = desk.open(product_pb2.DELIVERY_KIND_ELECTRICITY_TOKEN, ending=ending)
    ended = desk.ended(made.id)
    assert ended.state == ful_pb.FULFILLMENT_STATE_FAILED
    assert ful_pb.FailureReason.Name(ended.failure.reason) == ful_pb.FailureReason.Name(reason)
    assert not ended.deliveries
    assert ended.HasField("complete_time")
    assert ended.biller == SANDBOX
    assert ended.biller_reference


def test_the_ending_of_any_value_of_the_destination_chooses(desk: FulfillmentDesk) -> None:
    """A game account's zone id ending in 0001: refused, whatever the user id."""
    request = desk.request(product_pb2.DELIVERY_KIND_ACCOUNT_TOPUP)
    request.destination["zone_id"] = "9" + REFUSED_ENDING
    ended = desk.ended(desk.create(request).id)
    assert ended.failure.reason == ful_pb.FAILURE_REASON_DESTINATION_REFUSED


@pytest.mark.parametrize("kind", KINDS, ids=[kind_name(k) for k in KINDS])
def test_a_line_is_delivered_one_delivery_a_unit_in_its_kind_s_shape(
    desk: FulfillmentDesk, kind: product_pb2.DeliveryKind.ValueType
) -> None:
    made = desk.open(kind, quantity=QUANTITY)
    ended = desk.ended(made.id)
    assert ended.state == ful_pb.FULFILLMENT_STATE_SUCCEEDED, f"failed: {ended.failure}"
    assert ended.HasField("complete_time")
    assert not ended.HasField("failure")
    assert len(ended.deliveries) == QUANTITY, "one delivery per unit"
    for delivery in ended.deliveries:
        assert SERIAL_NUMBER.match(delivery.serial_number), f"serial number {delivery.serial_number!r}"
        if kind == product_pb2.DELIVERY_KIND_ELECTRICITY_TOKEN:
            assert TOKEN.match(delivery.token), f"token {delivery.token!r}: 20 digits in groups of four"
            assert delivery.kwh == kwh_of(made.amount.amount, made.quantity), (
                f"{delivery.kwh} kWh for {made.amount.amount} rupiah / {made.quantity} units"
            )
        else:
            assert not delivery.token, f"a token for a {kind_name(kind)} line"
            assert not delivery.kwh, f"kWh for a {kind_name(kind)} line"
        if kind == product_pb2.DELIVERY_KIND_VOUCHER_CODE:
            assert VOUCHER_CODE.match(delivery.voucher_code), f"voucher code {delivery.voucher_code!r}"
            assert not MISREAD & set(delivery.voucher_code), f"{delivery.voucher_code}: characters misread"
        else:
            assert not delivery.voucher_code, f"a voucher code for a {kind_name(kind)} line"
    serials = [d.serial_number for d in ended.deliveries]
    assert len(set(serials)) == len(serials), f"units share a serial number: {serials}"


def test_a_line_without_a_destination_is_delivered(desk: FulfillmentDesk) -> None:
    """A product that declares no destination fields (a voucher handed to the shopper)."""
    request = desk.request(product_pb2.DELIVERY_KIND_VOUCHER_CODE, destination={})
    ended = desk.ended(desk.create(request).id)
    assert ended.state == ful_pb.FULFILLMENT_STATE_SUCCEEDED
    assert dict(ended.destination) == {}
    assert len(ended.deliveries) == 1


def test_a_late_destination_is_answered_after_an_ordinary_one(desk: FulfillmentDesk) -> None:
    late = desk.open(ending=LATE)
    ordinary = desk.open()
    desk.ended(ordinary.id)
    assert desk.get(late.id).state == ful_pb.FULFILLMENT_STATE_PENDING, (
        "a destination ending in 0009 is answered after PASAR_SANDBOX_BILLER_LATE_SECONDS (30 s by default)"
    )


def test_a_line_is_delivered_exactly_once_whatever_the_retries(
    target: Target, desk: FulfillmentDesk, cursor: int
) -> None:
    request = desk.request(product_pb2.DELIVERY_KIND_ELECTRICITY_TOKEN, quantity=QUANTITY)

    def create() -> ful_pb.Fulfillment:
        again = pb.CreateFulfillmentRequest()
        again.CopyFrom(request)
        return retrying(lambda: desk.create(again))

    with ThreadPoolExecutor(PARALLEL_RETRIES) as pool:
        made = list(pool.map(lambda _n: create(), range(PARALLEL_RETRIES)))
    assert len({f.id for f in made}) == 1
    ended = desk.ended(made[0].id)
    assert create() == ended, "a retry after the delivery answers the line as delivered"
    marker = desk.open(ending=LATE)
    events = read_until(target, cursor, (marker.id, CREATED))
    assert types_of(events, ended.id) == [CREATED, SUCCEEDED], "the line was delivered more than once"
    assert [e.fulfillment for e in events if e.fulfillment.id == ended.id][-1] == ended
    assert desk.get(ended.id) == ended
