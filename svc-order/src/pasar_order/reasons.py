"""The order service's errors, each with the status code and ``ErrorInfo`` the contract names.

Callers branch on the reason, never on the message, so every error is built here from the
generated enums rather than spelled out where it is raised: the order service's own
(``pasar.order.v1.ErrorReason``), the shared ones (``pasar.common.v1.ErrorReason``), and the
catalog's, the payment service's and the fulfillment service's, which checkout answers
itself when it can tell before asking them (a check that saves reserving stock only to
release it) and otherwise passes through as the peer sent them (:class:`PeerError`). The enums' comments in
``contracts/proto/pasar/*/v1/error_reason.proto`` name each reason's status code and
metadata keys.
"""

from __future__ import annotations

from typing import Any

import grpc

from pasar.common.v1.error_reason_pb2 import ErrorReason as CommonErrorReason
from pasar.fulfillment.v1.error_reason_pb2 import ErrorReason as FulfillmentErrorReason
from pasar.order.v1.error_reason_pb2 import ErrorReason
from pasar.payment.v1 import payment_pb2
from pasar.payment.v1.error_reason_pb2 import ErrorReason as PaymentErrorReason
from pasar.product.v1.error_reason_pb2 import ErrorReason as ProductErrorReason
from pasar_kit import errors
from pasar_kit.destinations import DestinationViolation
from pasar_kit.errors import (
    Aborted,
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    ResourceExhausted,
)
from pasar_order.messages import order_state_name
from pasar_order.models import OrderState

# The reasons of the catalog and the payment service that the order service branches on.
RESERVATION_COMMITTED = ProductErrorReason.Name(ProductErrorReason.RESERVATION_COMMITTED)
RESERVATION_RELEASED = ProductErrorReason.Name(ProductErrorReason.RESERVATION_RELEASED)
RESERVATION_NOT_FOUND = ProductErrorReason.Name(ProductErrorReason.RESERVATION_NOT_FOUND)
PAYMENT_PAID = PaymentErrorReason.Name(PaymentErrorReason.PAYMENT_PAID)
# The fulfillment service cannot deliver a line of this kind (its biller does not).
DELIVERY_KIND_NOT_SUPPORTED = FulfillmentErrorReason.Name(FulfillmentErrorReason.DELIVERY_KIND_NOT_SUPPORTED)
# Refusals of RefundPayment that no retry changes.
REFUND_REFUSALS = frozenset(
    PaymentErrorReason.Name(reason)
    for reason in (
        PaymentErrorReason.REFUND_EXCEEDS_PAYMENT,
        PaymentErrorReason.PAYMENT_NOT_REFUNDABLE,
        PaymentErrorReason.REFUND_REQUEST_REUSED,
    )
)
# A collision with another attempt: the caller retries the same request.
CONTENTION = CommonErrorReason.Name(CommonErrorReason.CONTENTION)


# The order service's own.


def order_not_found() -> NotFound:
    """The one answer for an unknown order and for a wrong token, so that ids cannot be probed."""
    return NotFound("order not found", reason=ErrorReason.Name(ErrorReason.ORDER_NOT_FOUND))


def lookups_limited(retry_after_seconds: int) -> ResourceExhausted:
    """LookupOrder of a number that had too many failed look-ups in its window."""
    return ResourceExhausted(
        f"too many failed look-ups of this order number; try again in {retry_after_seconds} s",
        reason=CommonErrorReason.Name(CommonErrorReason.RATE_LIMITED),
        metadata={"retry_after_seconds": str(retry_after_seconds)},
    )


def order_not_cancellable(state: OrderState) -> FailedPrecondition:
    state_name = order_state_name(state)
    return FailedPrecondition(
        f"the order is {state_name} and can no longer be cancelled",
        reason=ErrorReason.Name(ErrorReason.ORDER_NOT_CANCELLABLE),
        metadata={"state": state_name},
    )


def request_id_reused() -> AlreadyExists:
    return AlreadyExists(
        "this request_id was used for a different order; use a new request_id for a new order",
        reason=ErrorReason.Name(ErrorReason.REQUEST_ID_REUSED),
    )


def request_id_racing() -> Aborted:
    """Concurrent calls with one request id kept freeing and taking it: retry."""
    return Aborted("this request_id is being retried concurrently; try again", reason=CONTENTION)


def earlier_attempt_in_progress() -> Aborted:
    """A retry waited too long for the first attempt with its request id: retry."""
    return Aborted(
        "an earlier attempt with this request_id is still in progress; try again", reason=CONTENTION
    )


def checkout_abandoned() -> Aborted:
    """This checkout's worker was too slow and lost its lease: retry."""
    return Aborted("the checkout took too long and was abandoned; try again", reason=CONTENTION)


def package_not_deliverable(package_id: str, product_id: str) -> FailedPrecondition:
    """A package whose product declares no delivery kind: nobody can deliver it, so it is not sold."""
    return FailedPrecondition(
        f"package {package_id!r} cannot be delivered: its product {product_id!r} declares no delivery kind",
        reason=ErrorReason.Name(ErrorReason.PACKAGE_NOT_DELIVERABLE),
        metadata={"package_id": package_id, "product_id": product_id},
    )


def invalid_destination(line_index: int, product_id: str, violation: DestinationViolation) -> InvalidArgument:
    """A line's destination breaks its product's destination fields (the first broken rule)."""
    path = f'lines[{line_index}].destination["{violation.field}"]'
    return InvalidArgument(
        f"{path} {violation.description}",
        reason=CommonErrorReason.Name(CommonErrorReason.INVALID_DESTINATION),
        metadata={"product_id": product_id, "field": violation.field},
        field_violations=[(path, violation.description)],
    )


# The catalog's, answered before it is asked.


def package_not_found(package_id: str) -> NotFound:
    return NotFound(
        f"package {package_id!r} not found",
        reason=ProductErrorReason.Name(ProductErrorReason.PACKAGE_NOT_FOUND),
        metadata={"package_id": package_id},
    )


def out_of_stock(package_id: str, requested: int, available: int) -> FailedPrecondition:
    return FailedPrecondition(
        f"package {package_id!r} has {available} units left, {requested} requested",
        reason=ProductErrorReason.Name(ProductErrorReason.OUT_OF_STOCK),
        metadata={"package_id": package_id, "requested": str(requested), "available": str(available)},
    )


def mixed_currencies() -> FailedPrecondition:
    """Packages priced in different currencies."""
    return FailedPrecondition(
        "the packages are priced in different currencies; order them separately",
        reason=ErrorReason.Name(ErrorReason.MIXED_CURRENCIES),
    )


# The payment service's, answered before it is asked.


def channel_not_found(channel_code: str) -> NotFound:
    """An unknown channel code, or one not enabled (ListPaymentChannels lists only those)."""
    return NotFound(
        f"payment channel {channel_code!r} not found (unknown, or not enabled)",
        reason=PaymentErrorReason.Name(PaymentErrorReason.CHANNEL_NOT_FOUND),
        metadata={"channel_code": channel_code},
    )


def payer_phone_number_required(channel_code: str) -> InvalidArgument:
    """The channel sends its payment request to a wallet named by a phone number, and none was given."""
    return InvalidArgument(
        f"payment channel {channel_code!r} needs payer_phone_number, the e-wallet account it asks to pay",
        reason=PaymentErrorReason.Name(PaymentErrorReason.PAYER_PHONE_NUMBER_REQUIRED),
        metadata={"channel_code": channel_code},
    )


def amount_out_of_range(channel: payment_pb2.PaymentChannel, amount: int) -> FailedPrecondition:
    minimum, maximum = channel.min_amount.amount, channel.max_amount.amount
    return FailedPrecondition(
        f"{channel.display_name} takes amounts from {minimum} to {maximum}, not {amount}",
        reason=PaymentErrorReason.Name(PaymentErrorReason.AMOUNT_OUT_OF_RANGE),
        metadata={"channel_code": channel.code, "min_amount": str(minimum), "max_amount": str(maximum)},
    )


# A peer's answer.


class PeerError(errors.ServiceError):
    """A call to another service failed; raised as the status the order service answers with."""

    def __init__(self, code: grpc.StatusCode, message: str, *, service: str, reason: str = "", **kw: Any):
        super().__init__(message, reason=reason, **kw)
        self.code = code
        self.service = service

    @property
    def is_outage(self) -> bool:
        """True when the peer was down or too slow: whether the call took effect is unknown."""
        return self.code == grpc.StatusCode.UNAVAILABLE

    @property
    def is_passing(self) -> bool:
        """True when a later try may succeed: an outage, or a passing condition the peer
        answered (ABORTED, RESOURCE_EXHAUSTED)."""
        return self.is_outage or self.code in _PASSING_CODES


_PASSING_CODES = {grpc.StatusCode.ABORTED, grpc.StatusCode.RESOURCE_EXHAUSTED}


def dependency_unavailable(service: str, message: str) -> PeerError:
    """The UNAVAILABLE the order service answers when service (a peer's full name) cannot do
    its part: callers, the gateway's circuit breaker among them, learn that the order
    service itself answered."""
    return PeerError(
        grpc.StatusCode.UNAVAILABLE,
        message,
        service=service,
        reason=CommonErrorReason.Name(CommonErrorReason.DEPENDENCY_UNAVAILABLE),
        metadata={"service": service},
    )


def refused_by_peer(
    code: grpc.StatusCode, message: str, service: str, reason: str, metadata: dict[str, str] | None
) -> PeerError:
    """A peer's domain error, passed on with its code, reason and metadata unchanged."""
    return PeerError(code, message, service=service, reason=reason, metadata=metadata)
