"""NotifyFulfillment: a biller's signed notification ends a pending fulfillment once.

The kit writes the sandbox biller's notifications (svc-fulfillment/README.md: a JSON
object naming the fulfillment and the biller's reference) signed with ``--webhook-secret``,
for fulfillments the sandbox answers late, so the kit's notification comes first. Against
another biller the cases that need the format skip, saying why.
"""

from __future__ import annotations

import json
from functools import partial

from pasar.fulfillment.v1 import fulfillment_pb2 as ful_pb
from pasar.fulfillment.v1 import fulfillment_service_pb2 as pb
from pasar.fulfillment.v1.error_reason_pb2 import ErrorReason
from pasar.product.v1 import product_pb2
from pasar_conformance.answers import expect_reason, refused, violated_fields
from pasar_conformance.fulfillment.desk import PACKAGE, FulfillmentDesk
from pasar_conformance.fulfillment.log import CREATED, FAILED, SUCCEEDED, read_until, types_of
from pasar_conformance.fulfillment.sandbox import delivery_fields, sign
from pasar_conformance.target import Target

NOT_PENDING = ErrorReason.Name(ErrorReason.FULFILLMENT_NOT_PENDING)
NOT_FOUND = ErrorReason.Name(ErrorReason.FULFILLMENT_NOT_FOUND)


def state_name(state: ful_pb.FulfillmentState.ValueType) -> str:
    return ful_pb.FulfillmentState.Name(state)


def sent_deliveries(request: pb.NotifyFulfillmentRequest) -> list[dict[str, str]]:
    body = json.loads(request.payload)
    deliveries: list[dict[str, str]] = body.get("deliveries", [])
    return deliveries


def test_a_signed_notification_delivers_the_line_and_a_repeat_is_a_duplicate_changing_nothing(
    target: Target, desk: FulfillmentDesk, cursor: int
) -> None:
    desk.require_sandbox(NOT_PENDING)
    pending = desk.pending_with_reference(product_pb2.DELIVERY_KIND_ELECTRICITY_TOKEN, quantity=2)
    notification = desk.notification(pending)
    first = desk.notify(notification)
    assert not first.duplicate
    delivered = first.fulfillment
    assert (delivered.id, delivered.state) == (pending.id, ful_pb.FULFILLMENT_STATE_SUCCEEDED)
    assert [delivery_fields(d) for d in delivered.deliveries] == sent_deliveries(notification), (
        "the deliveries as the biller sent them"
    )
    assert delivered.HasField("complete_time")
    assert delivered.update_time.ToDatetime() >= pending.update_time.ToDatetime()
    assert not delivered.HasField("failure")
    assert desk.get(pending.id) == delivered
    again = desk.notify(notification)
    assert again.duplicate, "a repeated notification is a duplicate"
    assert again.fulfillment == delivered, "a repeated notification changed the fulfillment"
    assert desk.get(pending.id) == delivered
    marker = desk.open()
    events = read_until(target, cursor, (marker.id, CREATED))
    assert types_of(events, pending.id) == [CREATED, SUCCEEDED], "the delivery is told once"


def test_a_failure_notification_ends_the_line_failed_with_the_reason(
    target: Target, desk: FulfillmentDesk, cursor: int
) -> None:
    desk.require_sandbox()
    pending = desk.pending_with_reference()
    notification = desk.notification(
        pending, ful_pb.FULFILLMENT_STATE_FAILED, failure_reason=ful_pb.FAILURE_REASON_PRODUCT_UNAVAILABLE
    )
    answer = desk.notify(notification)
    assert not answer.duplicate
    failed = answer.fulfillment
    assert failed.state == ful_pb.FULFILLMENT_STATE_FAILED
    assert failed.failure.reason == ful_pb.FAILURE_REASON_PRODUCT_UNAVAILABLE
    assert failed.failure.message, "the biller's explanation is kept"
    assert not failed.deliveries
    assert failed.HasField("complete_time")
    assert desk.notify(notification) == pb.NotifyFulfillmentResponse(fulfillment=failed, duplicate=True)
    marker = desk.open()
    events = read_until(target, cursor, (marker.id, CREATED))
    assert types_of(events, pending.id) == [CREATED, FAILED]


def test_a_contrary_answer_after_the_end_is_not_pending_and_changes_nothing(desk: FulfillmentDesk) -> None:
    desk.require_sandbox(NOT_PENDING)
    for first_status, contrary in (
        (ful_pb.FULFILLMENT_STATE_SUCCEEDED, ful_pb.FULFILLMENT_STATE_FAILED),
        (ful_pb.FULFILLMENT_STATE_FAILED, ful_pb.FULFILLMENT_STATE_SUCCEEDED),
    ):
        pending = desk.pending_with_reference()
        ended = desk.notify(desk.notification(pending, first_status)).fulfillment
        assert ended.state == first_status
        expect_reason(
            partial(desk.notify, desk.notification(pending, contrary)),
            NOT_PENDING,
            metadata={"fulfillment_id": pending.id, "state": state_name(first_status)},
        )
        assert desk.get(pending.id) == ended, "a contrary answer changed the fulfillment"


def test_a_notification_with_a_bad_signature_is_refused_naming_the_biller(desk: FulfillmentDesk) -> None:
    """Whatever the biller: the signature is checked before the payload is read."""
    pending = desk.pending_with_reference()
    payload = desk.notification(pending).payload
    biller = desk.biller()
    for signature in (
        sign(payload, desk.webhook_secret + "x"),
        "0" * 64,
        sign(payload + b" ", desk.webhook_secret),  # another payload's
    ):
        forged = pb.NotifyFulfillmentRequest(biller=biller, payload=payload, signature=signature)
        expect_reason(
            partial(desk.notify, forged),
            ErrorReason.Name(ErrorReason.BAD_SIGNATURE),  # the payment provider's too: judged as the biller's
            metadata={"biller": biller},
            package=PACKAGE,
        )
    assert desk.get(pending.id) == pending, "a forged notification changed the fulfillment"


def test_a_notification_from_an_unknown_biller_is_refused_naming_it(
    target: Target, desk: FulfillmentDesk
) -> None:
    pending = desk.pending_with_reference()
    biller = target.run.new("biller").replace("-", "_")
    payload = b'{"status":"SUCCEEDED"}'
    request = pb.NotifyFulfillmentRequest(biller=biller, payload=payload, signature=sign(payload, "x"))
    error = refused(lambda: desk.notify(request))
    expect_reason(error, ErrorReason.Name(ErrorReason.UNKNOWN_BILLER), metadata={"biller": biller})
    assert "biller" in violated_fields(error)
    assert desk.get(pending.id) == pending


def test_a_notification_for_no_fulfillment_of_the_service_is_not_found(desk: FulfillmentDesk) -> None:
    desk.require_sandbox()
    pending = desk.pending_with_reference()
    stranger = ful_pb.Fulfillment()
    stranger.CopyFrom(pending)
    stranger.id = "ful_" + ("f" if pending.id[-1] != "f" else "e") * 32
    expect_reason(
        partial(desk.notify, desk.notification(stranger)), NOT_FOUND, metadata={"fulfillment_id": stranger.id}
    )
    # The right fulfillment id with a reference the biller did not give it (or in another case).
    for reference in (desk.target.run.new("reference"), pending.biller_reference.swapcase()):
        if reference == pending.biller_reference:
            continue  # a reference without letters has no other case
        request = desk.notification(pending, biller_reference=reference)
        expect_reason(partial(desk.notify, request), NOT_FOUND, metadata={"fulfillment_id": pending.id})
    assert desk.get(pending.id) == pending, "a notification for another fulfillment changed this one"
