"""Settlement: a provider's signed notification that the shopper paid makes the payment PAID.

Providers deliver notifications at least once and retry on any doubt, so the same
notification may arrive many times, even at the same moment. The signature is checked
first, in constant time; nothing in an unverified payload is trusted or logged. Then the
payment's row lock decides: whoever holds it while the payment is PENDING makes it PAID
and records the PAID event in the same transaction; every other delivery finds the
payment already paid (or refunded since) and is answered as a duplicate, changing
nothing. A provider's settlement of a payment that was cancelled or had expired cannot
make it paid: the money arrived for nothing, and the log says, as an ERROR, that it must
be refunded.

The sandbox's SimulatePayment builds the notification the sandbox would send and hands
it to the very path of NotifyPayment. It works only while the sandbox is enabled (never
in production, unless a demo shop says its payments are fake). Simulating a payment that
is no longer pending moves no money, so it is refused without the refund alarm: anyone
holding a payment id can ask, and a false alarm must not be theirs to raise.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import peewee

from pasar_payment import reasons
from pasar_payment.events import EventFeed, payment_change, record_event
from pasar_payment.models import EventType, Payment, PaymentState
from pasar_payment.payments import WAS_PAID, change_locked_payment, get_payment, locked_payment
from pasar_payment.providers.base import MalformedNotification, PaymentProvider, ProviderSettlement
from pasar_payment.providers.sandbox import SandboxProvider
from pasar_payment.signatures import signature_matches

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SettlementOutcome:
    """The payment after a notification, and whether the notification changed nothing."""

    payment: Payment
    duplicate: bool


class PaymentSettler:
    """Handles the notifications of the service's one provider, signed with webhook_secret."""

    def __init__(
        self,
        database: peewee.Database,
        provider: PaymentProvider,
        webhook_secret: str,
        feed: EventFeed,
        *,
        sandbox_enabled: bool,
    ) -> None:
        """sandbox_enabled: whether SimulatePayment may settle payments (Settings.sandbox_enabled)."""
        self.database = database
        self.provider = provider
        self._webhook_secret = webhook_secret
        self.feed = feed
        self.sandbox_enabled = sandbox_enabled and isinstance(provider, SandboxProvider)

    def handle_notification(self, provider: str, payload: bytes, signature: str) -> SettlementOutcome:
        """Verifies and applies one notification (NotifyPayment)."""
        return self._handle(provider, payload, signature, money_moved=True)

    def _handle(
        self, provider: str, payload: bytes, signature: str, *, money_moved: bool
    ) -> SettlementOutcome:
        """money_moved: the notification says a shopper's money arrived (False: simulated)."""
        if provider != self.provider.name:
            raise reasons.unknown_provider(provider, self.provider.name)
        if not signature_matches(payload, signature, self._webhook_secret):
            log.warning(
                "rejected a payment notification with a bad signature",
                extra={"provider": provider, "payload_bytes": len(payload)},
            )
            raise reasons.bad_signature(provider)
        try:
            settlement = self.provider.read_settlement(payload)
        except MalformedNotification as error:
            log.warning("rejected a malformed payment notification", extra={"provider": provider})
            raise reasons.not_a_settlement(str(error)) from None
        return self._settle(settlement, money_moved=money_moved)

    def simulate_payment(self, payment_id: str) -> Payment:
        """Makes the sandbox settle a payment, as if the shopper had paid (SimulatePayment)."""
        sandbox = self.provider
        if not self.sandbox_enabled or not isinstance(sandbox, SandboxProvider):
            raise reasons.sandbox_disabled(
                "this shop's payments are not settled by the sandbox: only a real payment settles them"
            )
        payment = get_payment(payment_id)
        if payment.provider != sandbox.name:
            raise reasons.sandbox_disabled(
                f"payment {payment_id} was opened with {payment.provider}, not the sandbox"
            )
        if payment.state in WAS_PAID:
            # The sandbox closes an account once it is paid: there is nothing left to pay,
            # refunded or not.
            return payment
        if payment.state != PaymentState.PENDING:
            log.info(
                "refused to simulate the payment of a payment that is not pending",
                extra={"payment_id": payment.id, "state": payment.state},
            )
            raise reasons.payment_not_pending(payment)
        notification = sandbox.settlement_notification(
            payment_id=payment.id,
            provider_reference=payment.provider_reference,
            paid_amount=payment.total,
            currency_code=payment.currency_code,
        )
        return self._handle(
            sandbox.name, notification.payload, notification.signature, money_moved=False
        ).payment

    def _settle(self, settlement: ProviderSettlement, *, money_moved: bool) -> SettlementOutcome:
        payment: Payment | None = Payment.get_or_none(
            (Payment.provider == self.provider.name)
            & (Payment.provider_reference == settlement.provider_reference)
        )
        if payment is None or payment.id != settlement.payment_id:
            log.warning(
                "a settlement names no payment of ours",
                extra={
                    "payment_id": settlement.payment_id,
                    "provider_reference": settlement.provider_reference,
                },
            )
            raise reasons.settled_payment_not_found(
                self.provider.name, settlement.provider_reference, settlement.payment_id
            )
        if settlement.paid_amount != payment.total or settlement.currency_code != payment.currency_code:
            log.error(
                "a settlement's amount differs from the payment's total: check it with the provider",
                extra=_details(payment, settlement),
            )
            raise reasons.paid_amount_differs(payment, settlement.paid_amount, settlement.currency_code)
        with payment_change(self.database, self.feed):
            payment = locked_payment(payment.id) or payment  # never deleted
            settled = payment.state == PaymentState.PENDING
            if settled:
                payment = change_locked_payment(
                    payment.id,
                    state=PaymentState.PAID.value,
                    paid_time=settlement.paid_time,
                    settlement_id=settlement.notification_id,
                )
                record_event(EventType.PAID, payment)
        if settled:
            log.info("payment paid", extra=_details(payment, settlement))
            return SettlementOutcome(payment, duplicate=False)
        if payment.state in WAS_PAID:
            # A refund since changes nothing: the settlement was handled once.
            if payment.settlement_id != settlement.notification_id:
                log.warning(
                    "a second settlement of a paid payment: ask the provider whether the shopper paid twice",
                    extra=_details(payment, settlement),
                )
            return SettlementOutcome(payment, duplicate=True)
        if not money_moved:
            # Cancelled or expired between the simulation's look and its update: the
            # sandbox moved no money, so there is nothing to refund.
            log.info(
                "refused to simulate the payment of a payment that is not pending",
                extra={**_details(payment, settlement), "state": payment.state},
            )
            raise reasons.payment_not_pending(payment)
        log.error(
            "a payment was settled after it ended unpaid: the money must be refunded",
            extra={**_details(payment, settlement), "state": payment.state},
        )
        raise reasons.payment_not_pending(payment, "the shopper must be refunded")


def _details(payment: Payment, settlement: ProviderSettlement) -> dict[str, object]:
    return {
        "payment_id": payment.id,
        "order_id": payment.order_id,
        "provider": payment.provider,
        "provider_reference": payment.provider_reference,
        "notification_id": settlement.notification_id,
        "paid_amount": settlement.paid_amount,
        "total": payment.total,
    }
