"""The payment service's errors, each with the status code and ``ErrorInfo`` the contract names.

Callers branch on the reason, never on the message, so every error is built here from the
generated enum (``pasar.payment.v1.ErrorReason``; its comments in
``contracts/proto/pasar/payment/v1/error_reason.proto`` name each reason's status code and
metadata keys) rather than spelled out where it is raised. Errors without a reason (a field
the contract's rules cannot check) are built here too, so that one module shows everything
the service answers with.
"""

from __future__ import annotations

from pasar.common.v1.error_reason_pb2 import ErrorReason as CommonErrorReason
from pasar.payment.v1.error_reason_pb2 import ErrorReason
from pasar_kit import page_tokens
from pasar_kit.errors import (
    Aborted,
    AlreadyExists,
    FailedPrecondition,
    InvalidArgument,
    NotFound,
    Unauthenticated,
    Unavailable,
)
from pasar_payment.messages import payment_state_name
from pasar_payment.models import Payment, PaymentChannel, PaymentState, Refund


def channel_not_found(channel_code: str) -> NotFound:
    return NotFound(
        f"there is no payment channel {channel_code!r}",
        reason=ErrorReason.Name(ErrorReason.CHANNEL_NOT_FOUND),
        metadata={"channel_code": channel_code},
    )


def channel_disabled(channel: PaymentChannel) -> FailedPrecondition:
    return FailedPrecondition(
        f"{channel.display_name} cannot be chosen now",
        reason=ErrorReason.Name(ErrorReason.CHANNEL_DISABLED),
        metadata={"channel_code": channel.code},
    )


def amount_out_of_range(channel: PaymentChannel, amount: int) -> FailedPrecondition:
    return FailedPrecondition(
        f"{channel.display_name} takes amounts from {channel.min_amount} to {channel.max_amount} IDR,"
        f" not {amount}",
        reason=ErrorReason.Name(ErrorReason.AMOUNT_OUT_OF_RANGE),
        metadata={
            "channel_code": channel.code,
            "min_amount": str(channel.min_amount),
            "max_amount": str(channel.max_amount),
        },
    )


def payer_phone_number_required(channel: PaymentChannel) -> InvalidArgument:
    """CreatePayment through a channel that pushes the request to a wallet's phone number,
    without one."""
    return InvalidArgument(
        f"{channel.display_name} sends the payment request to the payer's wallet: give payer_phone_number",
        reason=ErrorReason.Name(ErrorReason.PAYER_PHONE_NUMBER_REQUIRED),
        metadata={"channel_code": channel.code},
        field_violations=[("payer_phone_number", f"is required for {channel.code}")],
    )


def page_token_not_ours() -> InvalidArgument:
    """INVALID_PAGE_TOKEN (pasar.common.v1): a channel page token this service did not issue."""
    return page_tokens.invalid_page_token(page_tokens.NOT_OURS)


def payment_not_found(payment_id: str) -> NotFound:
    return NotFound(
        f"there is no payment {payment_id}",
        reason=ErrorReason.Name(ErrorReason.PAYMENT_NOT_FOUND),
        metadata={"payment_id": payment_id},
    )


def settled_payment_not_found(provider: str, provider_reference: str, payment_id: str) -> NotFound:
    """A settlement whose provider reference and payment id name no payment of this shop."""
    return NotFound(
        f"{provider} reference {provider_reference} is no payment of this shop",
        reason=ErrorReason.Name(ErrorReason.PAYMENT_NOT_FOUND),
        metadata={"payment_id": payment_id},
    )


def payment_conflict(order_id: str, existing: Payment) -> AlreadyExists:
    return AlreadyExists(
        f"order {order_id} already has payment {existing.id}, through {existing.channel_code}"
        f" for {existing.amount} {existing.currency_code}",
        reason=ErrorReason.Name(ErrorReason.PAYMENT_CONFLICT),
        metadata={"order_id": order_id, "payment_id": existing.id},
    )


def payment_paid(payment: Payment) -> FailedPrecondition:
    """CancelPayment of a payment that was paid (PAID, or REFUNDED since: the state says which)."""
    return FailedPrecondition(
        f"payment {payment.id} was paid and cannot be cancelled",
        reason=ErrorReason.Name(ErrorReason.PAYMENT_PAID),
        metadata={"payment_id": payment.id, "state": payment_state_name(PaymentState(payment.state))},
    )


def payment_not_refundable(payment: Payment) -> FailedPrecondition:
    """RefundPayment of a payment that is not PAID (pending, ended unpaid, or refunded in full)."""
    return FailedPrecondition(
        f"payment {payment.id} is {payment.state.lower()}: only a paid payment is refunded",
        reason=ErrorReason.Name(ErrorReason.PAYMENT_NOT_REFUNDABLE),
        metadata={"payment_id": payment.id, "state": payment_state_name(PaymentState(payment.state))},
    )


def refund_exceeds_payment(payment: Payment, amount: int) -> FailedPrecondition:
    refundable = payment.total - payment.refunded_total
    return FailedPrecondition(
        f"{amount} {payment.currency_code} is more than the {refundable} left to refund"
        f" of payment {payment.id}",
        reason=ErrorReason.Name(ErrorReason.REFUND_EXCEEDS_PAYMENT),
        metadata={"payment_id": payment.id, "refundable_amount": str(refundable)},
    )


def refund_request_reused(existing: Refund) -> AlreadyExists:
    """A refund request id already used for a refund of another payment or amount."""
    return AlreadyExists(
        f"request id {existing.request_id} was used for refund {existing.id}"
        f" of {existing.amount} {existing.currency_code} from payment {existing.payment_id}",
        reason=ErrorReason.Name(ErrorReason.REFUND_REQUEST_REUSED),
        metadata={"refund_id": existing.id},
    )


def payment_not_pending(payment: Payment, consequence: str = "") -> FailedPrecondition:
    """A settlement of a cancelled or expired payment; consequence: what someone must do now."""
    message = f"payment {payment.id} is {payment.state.lower()}, not pending"
    return FailedPrecondition(
        f"{message}: {consequence}" if consequence else message,
        reason=ErrorReason.Name(ErrorReason.PAYMENT_NOT_PENDING),
        metadata={"payment_id": payment.id, "state": payment_state_name(PaymentState(payment.state))},
    )


def sandbox_disabled(why: str) -> FailedPrecondition:
    return FailedPrecondition(why, reason=ErrorReason.Name(ErrorReason.SANDBOX_DISABLED))


def bad_signature(provider: str) -> Unauthenticated:
    return Unauthenticated(
        "the notification's signature does not match its payload",
        reason=ErrorReason.Name(ErrorReason.BAD_SIGNATURE),
        metadata={"provider": provider},
    )


def unknown_provider(provider: str, known: str) -> InvalidArgument:
    """A notification from provider, when known is the one provider of this shop."""
    return InvalidArgument(
        f"no payment provider {provider!r} sends notifications to this shop",
        reason=ErrorReason.Name(ErrorReason.UNKNOWN_PROVIDER),
        metadata={"provider": provider},
        field_violations=[("provider", f"must be {known!r}")],
    )


def not_a_settlement(why: str) -> InvalidArgument:
    """A correctly signed payload that does not say what a settlement must say (no reason)."""
    return InvalidArgument(
        f"the notification is not a settlement: {why}", field_violations=[("payload", why)]
    )


def paid_amount_differs(payment: Payment, paid_amount: int, currency_code: str) -> InvalidArgument:
    """A settlement of another amount than the payment's total (no reason: the payload is wrong)."""
    return InvalidArgument(
        f"paid {paid_amount} {currency_code}, but payment {payment.id}"
        f" asks for {payment.total} {payment.currency_code}",
        field_violations=[("payload", "paid_amount must equal the payment's total")],
    )


def payment_code_taken() -> Aborted:
    """Every payment code the provider gave was taken: a retry of the call succeeds."""
    return Aborted(
        "could not give the payment a unique payment code; retry the call",
        reason=CommonErrorReason.Name(CommonErrorReason.CONTENTION),
    )


def service_stopping() -> Unavailable:
    """Ends an event stream when the server stops (no reason: the consumer resumes elsewhere)."""
    return Unavailable("the payment service is stopping; resume after the last sequence you handled")
