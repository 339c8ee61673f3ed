"""What the payment service needs from a payment provider.

A provider opens a payment (it returns how the shopper pays, and its own reference for
the payment) and, later, notifies the shop that the money arrived. The notification's
signature is checked by the service itself (:mod:`pasar_payment.signatures`), before the
provider is asked to read the payload, so a provider only ever parses trusted bytes.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from pasar.payment.v1 import payment_pb2
from pasar_payment.models import ChannelKind

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


def payment_code(instructions: Instructions) -> str | None:
    """The number a shopper types or tells to pay, which must be unique per channel."""
    if isinstance(instructions, payment_pb2.VirtualAccountInstructions):
        return instructions.account_number
    if isinstance(instructions, payment_pb2.RetailOutletInstructions):
        return instructions.payment_code
    return None
