"""What the payment service needs from a payment provider.

A provider opens a payment (it returns how the shopper pays, and its own reference for
the payment) and, later, notifies the shop that the money arrived. The notification's
signature is checked by the service itself (:mod:`pasar_payment.signatures`), before the
provider is asked to read the payload, so a provider only ever parses trusted bytes. It
also gives money of a paid payment back (:meth:`PaymentProvider.refund_payment`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pasar.payment.v1 import payment_pb2
from pasar_payment.models import ChannelKind, RefundState

Instructions = (
    payment_pb2.VirtualAccountInstructions
    | payment_pb2.QrisInstructions
    | payment_pb2.EwalletInstructions
    | payment_pb2.RetailOutletInstructions
)


@dataclass(frozen=True)
class PaymentOrder:
    """What the shop asks a provider to collect: the total, through one channel, by a time."""

    payment_id: str
    order_id: str
    channel_code: str
    channel_kind: ChannelKind
    # The bank, wallet or store chain behind the channel ("BCA", "GoPay", "Alfamart").
    issuer_name: str
    total: int
    currency_code: str
    expire_time: datetime
    description: str
    customer_email: str
    # The payer's wallet phone number in its national form ("0812..."), for a channel that
    # sends the request to a wallet by it (requires_phone_number); empty for the others.
    payer_phone_number: str = ""


@dataclass(frozen=True)
class OpenedPayment:
    """The provider's answer: its reference for the payment and how the shopper pays."""

    provider_reference: str
    instructions: Instructions


@dataclass(frozen=True)
class ProviderSettlement:
    """A provider's statement, read from a verified notification, that a payment was paid."""

    notification_id: str
    payment_id: str
    provider_reference: str
    paid_amount: int
    currency_code: str
    paid_time: datetime


@dataclass(frozen=True)
class Notification:
    """A notification as it travels: the exact payload bytes and their signature."""

    payload: bytes
    signature: str


@dataclass(frozen=True)
class RefundOrder:
    """What the shop asks a provider to give back, of one payment it took.

    request_id is the caller's idempotency key of the refund: a provider is asked to
    refund at most once per payment and request_id (gateways take such a key), so a
    refund asked again after the shop lost the first answer moves no money twice.
    """

    refund_id: str
    payment_id: str
    payment_provider_reference: str
    request_id: str
    amount: int
    currency_code: str
    reason: str


@dataclass(frozen=True)
class ProviderRefund:
    """The provider's answer to a refund: its reference, and whether the money went back.

    state SUCCEEDED comes with complete_time; PENDING (a provider that confirms refunds
    later) comes without one.
    """

    provider_reference: str
    state: RefundState
    complete_time: datetime | None


class MalformedNotification(ValueError):
    """A correctly signed payload that does not say what a settlement must say."""


class PaymentProvider(Protocol):
    """A payment provider as the payment service uses it."""

    @property
    def name(self) -> str:
        """The provider's name, as notifications name their sender ("sandbox")."""
        ...

    def open_payment(self, order: PaymentOrder) -> OpenedPayment:
        """Opens a payment at the provider: an account number, a QR code, a link or a code."""
        ...

    def read_settlement(self, payload: bytes) -> ProviderSettlement:
        """Reads a verified notification; raises MalformedNotification when it is not one."""
        ...

    def refund_payment(self, order: RefundOrder) -> ProviderRefund:
        """Gives order.amount of a paid payment back to its payer.

        Called inside the transaction that holds the payment's row lock (RefundPayment,
        :mod:`pasar_payment.refunds`), so that the check of what is left to refund and the
        refund itself are one step: it must answer quickly, and it is asked again with
        the same request_id when that transaction fails after it answered.

        The sandbox refunds at once (SUCCEEDED). A provider whose refunds are
        asynchronous answers PENDING with its reference: the refund is stored PENDING and
        already counts in the payment's refunded_total, so that nothing more than the
        total can be refunded while it is under way. Its later signed refund notification
        would come in through NotifyPayment like a settlement (read by a method beside
        read_settlement) and mark the refund SUCCEEDED with its complete_time, recording
        an event. That path is not built: no provider of this build answers PENDING.
        """
        ...


def payment_code(instructions: Instructions) -> str | None:
    """The number a shopper types or tells to pay, which must be unique per channel."""
    if isinstance(instructions, payment_pb2.VirtualAccountInstructions):
        return instructions.account_number
    if isinstance(instructions, payment_pb2.RetailOutletInstructions):
        return instructions.payment_code
    return None
