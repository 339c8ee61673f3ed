"""What becomes of a paid order's lines: delivered, or refunded, and the order's end.

A paid order queues one FulfillmentTask per line (:func:`queue_fulfillments`, in the
transaction that marks it paid); what the fulfillment service then tells of each line is
recorded here.

Every change here runs inside a transaction that starts by locking the order's row (on
MariaDB; SQLite's transactions are serial anyway), so that the fulfillment-event consumer
and the refund dispatcher, which both end lines, see each other's last change:

- a line's fulfillment ends once (a conditional update from no state or PENDING): a line
  is delivered or refunded, never both;
- a FAILED line queues its refund (RefundPayment, request id = the fulfillment's id,
  amount = the line's total); a line the fulfillment service refuses to ever deliver
  fails the same way (request id ``<order id>:<package id>``);
- once every line has ended: all delivered -> FULFILLED and the "delivered" e-mail; any
  failed -> when none was delivered the fee's refund is queued too (request id
  ``<order id>:fee``), and once every refund is made -> REFUNDED, with the refunded total,
  and the "refunded" e-mail.

Outbox rows are unique per line, request id and e-mail kind, so repeating any of this
(a replayed event, a retried refund) queues nothing twice.
"""

from __future__ import annotations

import logging
from datetime import datetime

from pasar.fulfillment.v1 import fulfillment_pb2, fulfillment_service_pb2
from pasar.payment.v1 import payment_pb2
from pasar.product.v1 import product_pb2
from pasar_kit.timestamps import to_timestamp
from pasar_order.mail_outbox import queue_email
from pasar_order.models import (
    ENDED_FULFILLMENT_STATES,
    EmailKind,
    FulfillmentState,
    FulfillmentTask,
    Order,
    OrderLine,
    OrderState,
    RefundTask,
    lines_of,
    stored_refund,
)
from pasar_order.order_locks import locked_order
from pasar_order.tracing import traced_columns

log = logging.getLogger(__name__)

FEE_REFUND_SUFFIX = ":fee"
LINE_REFUND_REASON = "delivery failed"
FEE_REFUND_REASON = "service fee of an order that could not be delivered"


def fee_refund_request_id(order_id: str) -> str:
    """RefundPayment's request id for an order's fee."""
    return f"{order_id}{FEE_REFUND_SUFFIX}"


def queue_fulfillments(order_id: str, now: datetime) -> None:
    """Queues the delivery of each of the order's lines; call it in the transaction that
    marks the order paid (at most one task per line). A line without a delivery kind was
    placed before deliveries existed (checkout now refuses one): nobody delivers it here,
    so its order stays PAID, as the contract says of such orders, instead of being refused
    at the fulfillment service and refunded."""
    for line in lines_of(Order(id=order_id)):
        if line.delivery_kind == product_pb2.DELIVERY_KIND_UNSPECIFIED:
            continue
        FulfillmentTask.insert(
            order=order_id, line=line.id, next_attempt_time=now, create_time=now, **traced_columns()
        ).on_conflict_ignore().execute()


def record_fulfillment(fulfillment: fulfillment_pb2.Fulfillment, now: datetime) -> bool:
    """Records what the fulfillment service says of a line (an event, or its answer to
    CreateFulfillment); True if the line changed. Call it inside a transaction."""
    order = locked_order(fulfillment.order_id)
    line: OrderLine | None = OrderLine.get_or_none(
        (OrderLine.order == fulfillment.order_id) & (OrderLine.package_id == fulfillment.package_id)
    )
    if order is None or line is None:
        log.error(
            "a fulfillment names no line of this service",
            extra={"order_id": fulfillment.order_id, "package_id": fulfillment.package_id},
        )
        return False
    state = FulfillmentState(
        fulfillment_pb2.FulfillmentState.Name(fulfillment.state).removeprefix("FULFILLMENT_STATE_")
    )
    if line.fulfillment_state in ENDED_FULFILLMENT_STATES:
        if line.fulfillment_state != state and state in ENDED_FULFILLMENT_STATES:
            log.error(
                "a line's fulfillment ended twice, differently; the first end stands",
                extra={"order_id": order.id, "fulfillment_id": fulfillment.id, "state": state},
            )
        return False
    snapshot = fulfillment.SerializeToString(deterministic=True)
    changes = {
        OrderLine.fulfillment_id: fulfillment.id or None,
        OrderLine.fulfillment_state: state,
        OrderLine.fulfillment_snapshot: snapshot,
    }
    not_ended = OrderLine.fulfillment_state.is_null() | (
        OrderLine.fulfillment_state == FulfillmentState.PENDING
    )
    updated: int = OrderLine.update(changes).where((OrderLine.id == line.id) & not_ended).execute()
    if not updated or state == FulfillmentState.PENDING:
        return bool(updated)
    if state == FulfillmentState.FAILED:
        queue_refund(order.id, line.id, refund_request_id(fulfillment), line.line_total, now)
    log.info(
        "line delivered" if state == FulfillmentState.SUCCEEDED else "line not delivered; refund queued",
        extra={"order_id": order.id, "package_id": line.package_id, "fulfillment_id": fulfillment.id},
    )
    settle(order.id, now)
    return True


def record_undeliverable(
    request: fulfillment_service_pb2.CreateFulfillmentRequest, why: str, now: datetime
) -> bool:
    """Ends a line the fulfillment service refuses to ever deliver as FAILED (a fulfillment
    without an id, the refusal as its failure), which queues its refund."""
    fulfillment = fulfillment_pb2.Fulfillment(
        order_id=request.order_id,
        package_id=request.package_id,
        product_id=request.product_id,
        delivery_kind=request.delivery_kind,
        quantity=request.quantity,
        amount=request.amount,
        destination=request.destination,
        state=fulfillment_pb2.FULFILLMENT_STATE_FAILED,
        failure=fulfillment_pb2.Failure(reason=fulfillment_pb2.FAILURE_REASON_BILLER_ERROR, message=why),
        create_time=to_timestamp(now),
        update_time=to_timestamp(now),
        complete_time=to_timestamp(now),
    )
    return record_fulfillment(fulfillment, now)


def refund_request_id(fulfillment: fulfillment_pb2.Fulfillment) -> str:
    """RefundPayment's request id for a failed line: its fulfillment's id, or
    ``<order id>:<package id>`` for a line the fulfillment service never accepted."""
    return fulfillment.id or f"{fulfillment.order_id}:{fulfillment.package_id}"


def queue_refund(order_id: str, line_id: int | None, request_id: str, amount: int, now: datetime) -> None:
    """Queues a refund (a line's when line_id is set, else the fee); at most one per request id."""
    RefundTask.insert(
        order=order_id,
        line=line_id,
        request_id=request_id,
        amount=amount,
        next_attempt_time=now,
        create_time=now,
        **traced_columns(),
    ).on_conflict_ignore().execute()


def record_refund(order_id: str, refund: payment_pb2.Refund, now: datetime) -> bool:
    """Records a refund the payment service made for one of this order's refund requests
    (its answer to RefundPayment, or a REFUNDED event); True if something changed. A refund
    of another request id is not this service's: nothing changes. Call it inside a
    transaction."""
    order = locked_order(order_id)
    task: RefundTask | None = RefundTask.get_or_none(
        (RefundTask.request_id == refund.request_id) & (RefundTask.order == order_id)
    )
    if order is None or task is None:
        return False
    snapshot = refund.SerializeToString(deterministic=True)
    if task.line_id is not None:
        line: OrderLine = OrderLine.get_by_id(task.line_id)
        if not _newer(refund, line.refund_snapshot):
            return False
        OrderLine.update(refund_snapshot=snapshot).where(OrderLine.id == line.id).execute()
    else:
        if not _newer(refund, order.fee_refund_snapshot):
            return False
        Order.update(fee_refund_snapshot=snapshot).where(Order.id == order.id).execute()
    settle(order.id, now)
    return True


def _newer(refund: payment_pb2.Refund, stored: bytes | None) -> bool:
    """Whether refund tells more than the stored one: a first, or SUCCEEDED after PENDING."""
    before = stored_refund(stored)
    return before is None or (
        before.state != payment_pb2.REFUND_STATE_SUCCEEDED
        and refund.state == payment_pb2.REFUND_STATE_SUCCEEDED
    )


def settle(order_id: str, now: datetime) -> None:
    """Ends a paid order whose lines have all ended, as far as its refunds allow."""
    order: Order = Order.get_by_id(order_id)
    if order.state != OrderState.PAID:
        return
    lines = lines_of(order)
    if any(line.fulfillment_state not in ENDED_FULFILLMENT_STATES for line in lines):
        return
    failed = [line for line in lines if line.fulfillment_state == FulfillmentState.FAILED]
    if not failed:
        _end(order_id, OrderState.FULFILLED, now, EmailKind.DELIVERED)
        return
    refund_fee = len(failed) == len(lines) and (order.fee or 0) > 0
    if refund_fee:
        queue_refund(order_id, None, fee_refund_request_id(order_id), order.fee or 0, now)
    refunds = [stored_refund(line.refund_snapshot) for line in failed]
    if refund_fee:
        refunds.append(stored_refund(order.fee_refund_snapshot))
    made = [refund for refund in refunds if refund is not None]
    if len(made) < len(refunds):
        return  # a refund is still to be made
    refunded_total = sum(refund.amount.amount for refund in made)
    _end(order_id, OrderState.REFUNDED, now, EmailKind.REFUNDED, refunded_total=refunded_total)


def _end(order_id: str, state: OrderState, now: datetime, email: EmailKind, **changes: object) -> None:
    updated: int = (
        Order.update(state=state, complete_time=now, update_time=now, **changes)
        .where((Order.id == order_id) & (Order.state == OrderState.PAID))
        .execute()
    )
    if updated:
        queue_email(order_id, email, now)
        log.info("order ended", extra={"order_id": order_id, "state": state, **changes})
