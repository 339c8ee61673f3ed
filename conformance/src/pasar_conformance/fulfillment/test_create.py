"""CreateFulfillment and GetFulfillment: a line accepted PENDING as asked, idempotent on the
line (order id and package id): the same content answers the existing fulfillment, other
content is FULFILLMENT_CONFLICT naming it; reads, and FULFILLMENT_NOT_FOUND."""

from __future__ import annotations

import re
from concurrent.futures import ThreadPoolExecutor

import grpc
import pytest

from pasar.fulfillment.v1 import fulfillment_pb2 as ful_pb
from pasar.fulfillment.v1 import fulfillment_service_pb2 as pb
from pasar.fulfillment.v1.error_reason_pb2 import ErrorReason
from pasar.product.v1 import product_pb2
from pasar_conformance.answers import answer_or_refusal, expect_reason, retrying
from pasar_conformance.fulfillment.desk import (
    GET,
    KINDS,
    UNIT_PRICE,
    FulfillmentDesk,
    assert_unchanged_but_for_the_reference,
    kind_name,
    rupiah,
)
from pasar_conformance.fulfillment.sandbox import LATE, destination_for
from pasar_conformance.target import Target

FULFILLMENT_ID = re.compile(r"^ful_[0-9a-f]{32}$")
CONFLICT = ErrorReason.Name(ErrorReason.FULFILLMENT_CONFLICT)
NOT_FOUND = ErrorReason.Name(ErrorReason.FULFILLMENT_NOT_FOUND)
PARALLEL_RETRIES = 8


def copy(request: pb.CreateFulfillmentRequest) -> pb.CreateFulfillmentRequest:
    made = pb.CreateFulfillmentRequest()
    made.CopyFrom(request)
    return made


def assert_accepted_as_asked(fulfillment: ful_pb.Fulfillment, request: pb.CreateFulfillmentRequest) -> None:
    assert FULFILLMENT_ID.match(fulfillment.id), f"the id {fulfillment.id!r} is not ful_ and 32 hex digits"
    asked = (
        request.order_id,
        request.package_id,
        request.product_id,
        request.delivery_kind,
        request.quantity,
        request.amount,
        dict(request.destination),
    )
    assert (
        fulfillment.order_id,
        fulfillment.package_id,
        fulfillment.product_id,
        fulfillment.delivery_kind,
        fulfillment.quantity,
        fulfillment.amount,
        dict(fulfillment.destination),
    ) == asked


def test_a_line_is_accepted_pending_as_asked(desk: FulfillmentDesk) -> None:
    request = desk.request(product_pb2.DELIVERY_KIND_ELECTRICITY_TOKEN, quantity=2, ending=LATE)
    fulfillment = desk.create(request)
    assert_accepted_as_asked(fulfillment, request)
    assert fulfillment.state == ful_pb.FULFILLMENT_STATE_PENDING
    assert fulfillment.biller, "a fulfillment names the biller handling it"
    assert fulfillment.HasField("create_time")
    assert fulfillment.update_time.ToDatetime() >= fulfillment.create_time.ToDatetime()
    assert not fulfillment.HasField("complete_time"), "complete_time is unset while PENDING"
    assert not fulfillment.deliveries
    assert not fulfillment.HasField("failure")


def test_every_delivery_kind_is_accepted_or_refused_as_not_supported(desk: FulfillmentDesk) -> None:
    """A biller may not deliver every kind: then DELIVERY_KIND_NOT_SUPPORTED naming the kind."""
    for kind in KINDS:
        request = desk.request(kind, ending=LATE)
        try:
            assert_accepted_as_asked(desk.create(request), request)
        except grpc.RpcError as error:
            expect_reason(
                error,
                ErrorReason.Name(ErrorReason.DELIVERY_KIND_NOT_SUPPORTED),
                metadata={"delivery_kind": kind_name(kind)},
            )


def test_get_returns_the_fulfillment_as_created(desk: FulfillmentDesk) -> None:
    created = desk.open(ending=LATE)
    assert_unchanged_but_for_the_reference(desk.get(created.id), created, "GetFulfillment")


def test_a_retry_with_the_same_content_returns_the_same_fulfillment(desk: FulfillmentDesk) -> None:
    request = desk.request(product_pb2.DELIVERY_KIND_ACCOUNT_TOPUP, quantity=3, ending=LATE)
    first = desk.create(request)
    again = desk.create(copy(request))
    assert_unchanged_but_for_the_reference(again, first, "a retry")
    referenced = desk.referenced(first.id)
    assert desk.create(copy(request)) == referenced, "a retry answers the fulfillment as it is"


def test_a_retry_after_the_line_ended_returns_it_as_it_ended(desk: FulfillmentDesk) -> None:
    desk.require_sandbox()
    request = desk.request()
    first = desk.create(request)
    ended = desk.ended(first.id)
    assert desk.create(copy(request)) == ended, "a retry of an ended line must return it as it ended"


@pytest.mark.parametrize(
    "change", ["product_id", "delivery_kind", "quantity", "amount", "destination value", "destination key"]
)
def test_other_content_for_the_same_line_is_a_conflict_naming_the_existing_fulfillment(
    target: Target, desk: FulfillmentDesk, change: str
) -> None:
    request, existing = desk.settled_line()
    other = copy(request)
    if change == "product_id":
        other.product_id = target.run.new("product")
    elif change == "delivery_kind":
        other.delivery_kind = product_pb2.DELIVERY_KIND_DATA_PLAN
    elif change == "quantity":
        other.quantity = 2
        other.amount.CopyFrom(rupiah(2 * UNIT_PRICE))  # the same unit price: only the quantity differs
    elif change == "amount":
        other.amount.CopyFrom(rupiah(UNIT_PRICE + 1))
    elif change == "destination value":
        other.destination["phone_number"] = destination_for(product_pb2.DELIVERY_KIND_PHONE_CREDIT, LATE)[
            "phone_number"
        ]
    else:
        other.destination["zone_id"] = "2101"
    expect_reason(lambda: desk.create(other), CONFLICT, metadata={"fulfillment_id": existing.id})
    assert desk.get(existing.id) == existing, "a conflicting request changed the existing fulfillment"


def test_another_package_of_the_same_order_is_another_line(target: Target, desk: FulfillmentDesk) -> None:
    first = desk.pending_with_reference()
    second_request = desk.request(ending=LATE, order_id=first.order_id)
    second = desk.create(second_request)
    assert second.id != first.id
    assert (second.order_id, second.package_id) == (first.order_id, second_request.package_id)
    assert desk.get(first.id) == first


def test_order_ids_differing_only_in_case_are_other_lines(target: Target, desk: FulfillmentDesk) -> None:
    """Order ids allow both cases (^[A-Za-z0-9_-]+$), compared byte for byte."""
    upper = desk.request(ending=LATE, order_id=target.run.new("order").upper())
    lower = copy(upper)
    lower.order_id = upper.order_id.lower()
    lower.quantity = 2
    lower.amount.CopyFrom(rupiah(2 * UNIT_PRICE))
    first = desk.create(upper)
    second = desk.create(lower)  # not FULFILLMENT_CONFLICT: another order's line
    assert second.id != first.id
    assert (first.order_id, second.order_id) == (upper.order_id, lower.order_id)
    same_content = copy(upper)
    same_content.order_id = target.run.new("order").lower()
    same_upper = copy(same_content)
    same_upper.order_id = same_content.order_id.upper()
    assert desk.create(same_content).id != desk.create(same_upper).id
    assert_unchanged_but_for_the_reference(desk.get(first.id), first, "GetFulfillment")


def test_parallel_retries_of_a_line_make_one_fulfillment(desk: FulfillmentDesk) -> None:
    request = desk.request(ending=LATE)
    with ThreadPoolExecutor(PARALLEL_RETRIES) as pool:
        made = list(
            pool.map(lambda _n: retrying(lambda: desk.create(copy(request))), range(PARALLEL_RETRIES))
        )
    assert len({f.id for f in made}) == 1, f"parallel retries made {len({f.id for f in made})} fulfillments"
    now = desk.get(made[0].id)
    for answer in made:
        assert_unchanged_but_for_the_reference(now, answer, "a parallel retry")


def test_parallel_creates_of_a_line_with_other_contents_make_one_fulfillment(desk: FulfillmentDesk) -> None:
    """Every answer is the one fulfillment made, or FULFILLMENT_CONFLICT naming it."""
    request = desk.request(ending=LATE)
    contents = []
    for quantity in range(1, PARALLEL_RETRIES + 1):
        content = copy(request)
        content.quantity = quantity
        content.amount.CopyFrom(rupiah(quantity * UNIT_PRICE))
        contents.append(content)

    with ThreadPoolExecutor(PARALLEL_RETRIES) as pool:
        answers = list(pool.map(lambda c: answer_or_refusal(lambda: desk.create(c)), contents))
    made = [a for a in answers if isinstance(a, ful_pb.Fulfillment)]
    assert len(made) == 1, f"{len(made)} of {len(answers)} conflicting creates of one line succeeded"
    for answer in answers:
        if isinstance(answer, grpc.RpcError):
            expect_reason(answer, CONFLICT, metadata={"fulfillment_id": made[0].id})


def test_an_unknown_fulfillment_is_not_found_naming_it(target: Target, desk: FulfillmentDesk) -> None:
    made = desk.open(ending=LATE)
    stranger = "ful_" + ("0" if made.id[-1] != "0" else "1") * 32
    expect_reason(
        lambda: target.call(GET, pb.GetFulfillmentRequest(id=stranger)),
        NOT_FOUND,
        metadata={"fulfillment_id": stranger},
    )
    # One hex digit away from an existing id is no fulfillment either.
    near = made.id[:-1] + ("0" if made.id[-1] != "0" else "1")
    expect_reason(
        lambda: target.call(GET, pb.GetFulfillmentRequest(id=near)),
        NOT_FOUND,
        metadata={"fulfillment_id": near},
    )


def test_a_line_without_a_destination_is_accepted(desk: FulfillmentDesk) -> None:
    """A product that declares no destination fields (a voucher) takes an empty destination."""
    request = desk.request(product_pb2.DELIVERY_KIND_VOUCHER_CODE, destination={})
    assert_accepted_as_asked(desk.create(request), request)
