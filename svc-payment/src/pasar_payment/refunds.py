"""Refunds: money of a paid payment given back through its provider, never more than was paid.

RefundPayment is idempotent on the caller's request id (the order service sends the id of
the fulfillment that failed): a retry with the same payment and amount answers the first
refund, unchanged; the same id for another payment or amount is REFUND_REQUEST_REUSED.

Concurrent refunds of one payment must never add up to more than its total, so each
refund is one read-then-write transaction holding the payment's row lock (SELECT ... FOR
UPDATE on MySQL/MariaDB; SQLite's write lock, taken at BEGIN by ``atomic_write``): it reads
what is left to refund, inserts the refund (claiming its request id), asks the provider,
adds the amount to the payment's refunded_total (REFUNDED once that reaches the total, PAID
until then), and records the REFUNDED event carrying the refund. Two requests with one
request id for two payments (two row locks) collide on the unique index before either asks
the provider: the loser answers as a retry. Should the transaction fail after the provider
answered, the caller's retry asks it again with the same request id, its idempotency key.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import peewee

from pasar_kit.ids import new_id
from pasar_kit.timestamps import utc_now
from pasar_payment import reasons
from pasar_payment.events import EventFeed, payment_change, record_event
from pasar_payment.models import EventType, Payment, PaymentState, Refund, RefundState
from pasar_payment.payments import get_payment, locked_payment
from pasar_payment.providers.base import PaymentProvider, RefundOrder

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class RefundOutcome:
    """The payment after the refund, and the refund (new, or the first one on a retry)."""

    payment: Payment
    refund: Refund


class PaymentRefunder:
    """Refunds paid payments through the service's provider, recording each in the event log."""

    def __init__(self, database: peewee.Database, provider: PaymentProvider, feed: EventFeed) -> None:
        self.database = database
        self.provider = provider
        self.feed = feed

    def refund_payment(self, *, payment_id: str, request_id: str, amount: int, reason: str) -> RefundOutcome:
        """Gives amount (whole rupiah, more than zero) of a paid payment back (RefundPayment)."""
        try:
            with payment_change(self.database, self.feed):
                payment = locked_payment(payment_id)
                # Looked for after the lock: a refund of this payment committed while this
                # call waited for it is found.
                existing = _existing_refund(request_id, payment_id, amount)
                if existing is not None:
                    return existing
                if payment is None:
                    raise reasons.payment_not_found(payment_id)
                refund = self._refund(payment, request_id, amount, reason)
        except peewee.IntegrityError:
            # A concurrent call with the same request id (for another payment: its lock was
            # another row) inserted its refund first.
            existing = _existing_refund(request_id, payment_id, amount)
            if existing is None:
                raise
            return existing
        log.info(
            "payment refunded",
            extra={
                "payment_id": payment.id,
                "refund_id": refund.id,
                "request_id": request_id,
                "amount": amount,
                "refunded_total": payment.refunded_total,
                "total": payment.total,
                "refund_state": refund.state,
            },
        )
        return RefundOutcome(payment, refund)

    def _refund(self, payment: Payment, request_id: str, amount: int, reason: str) -> Refund:
        """A new refund of payment, whose row the caller's transaction holds locked."""
        if payment.state != PaymentState.PAID:
            raise reasons.payment_not_refundable(payment)
        if amount > payment.total - payment.refunded_total:
            raise reasons.refund_exceeds_payment(payment, amount)
        now = utc_now()
        # The refund claims its request id before the provider is asked: a concurrent call
        # with the same id (for another payment, so not behind this row lock) fails on the
        # unique index here, before any money moves, and answers as a retry.
        refund: Refund = Refund.create(
            id=new_id("rfd"),
            payment=payment.id,
            request_id=request_id,
            currency_code=payment.currency_code,
            amount=amount,
            reason=reason,
            state=RefundState.PENDING.value,
            provider_reference="",
            create_time=now,
        )
        answer = self.provider.refund_payment(
            RefundOrder(
                refund_id=refund.id,
                payment_id=payment.id,
                payment_provider_reference=payment.provider_reference,
                request_id=request_id,
                amount=amount,
                currency_code=payment.currency_code,
                reason=reason,
            )
        )
        refund.state = answer.state.value
        refund.provider_reference = answer.provider_reference
        refund.complete_time = answer.complete_time
        refund.save(only=[Refund.state, Refund.provider_reference, Refund.complete_time])
        payment.refunded_total += amount
        if payment.refunded_total == payment.total:
            payment.state = PaymentState.REFUNDED.value
        payment.update_time = now
        payment.save(only=[Payment.refunded_total, Payment.state, Payment.update_time])
        record_event(EventType.REFUNDED, payment, refund)
        return refund


def _existing_refund(request_id: str, payment_id: str, amount: int) -> RefundOutcome | None:
    """The first refund of request_id with its payment as it is now, if there is one;
    REFUND_REQUEST_REUSED when it refunded another payment or amount."""
    existing: Refund | None = Refund.get_or_none(Refund.request_id == request_id)
    if existing is None:
        return None
    if existing.payment_id != payment_id or existing.amount != amount:
        raise reasons.refund_request_reused(existing)
    return RefundOutcome(get_payment(payment_id), existing)
