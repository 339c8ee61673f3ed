"""The built-in sandbox provider: realistic instructions, and settlement on request.

It behaves like an Indonesian payment gateway in test mode. Virtual accounts get a
16-digit number made of the sandbox's company code at the bank and random digits; QRIS
gets a dynamic EMVCo payload with a valid checksum; e-wallets get no link (there is no
wallet app to open: never a placeholder address), and those paid by a push to the payer's
phone number get that number, masked; convenience stores get a payment code. Nothing
leaves the machine. When told to settle a payment (``SimulatePayment``), it writes the
notification a real gateway would post to the shop's webhook, signed with the shared
secret; the service then handles it exactly as it handles a real provider's
(``NotifyPayment``). It refunds at once: no money moved, so nothing has to travel back.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from datetime import datetime
from typing import Any

from pasar.payment.v1 import payment_pb2
from pasar_kit.timestamps import as_utc, utc_now
from pasar_payment.models import ChannelKind, RefundState
from pasar_payment.phone_numbers import masked_number
from pasar_payment.providers.base import (
    Instructions,
    MalformedNotification,
    Notification,
    OpenedPayment,
    PaymentOrder,
    ProviderRefund,
    ProviderSettlement,
    RefundOrder,
)
from pasar_payment.qris_payload import QrisMerchant, dynamic_payload
from pasar_payment.signatures import sign

NAME = "sandbox"
VIRTUAL_ACCOUNT_DIGITS = 16
# The sandbox's own company codes at each bank: the leading digits of its account numbers.
VIRTUAL_ACCOUNT_PREFIXES = {
    "bca_va": "11808",
    "bni_va": "8808",
    "bri_va": "12808",
    "mandiri_va": "88908",
    "permata_va": "8508",
}
DEFAULT_VIRTUAL_ACCOUNT_PREFIX = "9908"
ACCOUNT_NAME = "PASAR SANDBOX"
RETAIL_CODE_PREFIX = "PASAR"
RETAIL_CODE_DIGITS = 9
MERCHANT = QrisMerchant(
    acquirer_domain="ID.CO.PASAR.WWW",
    merchant_pan="9360080800000000017",
    merchant_id="PASAR0000000001",
    national_merchant_id="ID2026000000001",
    criteria="UKE",
    category_code="4814",  # telecommunication services: phone credit and data plans
    name="PASAR SANDBOX",
    city="JAKARTA PUSAT",
    postal_code="10110",
)
PAID = "PAID"


def _digits(count: int) -> str:
    return f"{secrets.randbelow(10**count):0{count}d}"


class SandboxProvider:
    """The sandbox payment gateway; its notifications are signed with webhook_secret."""

    def __init__(self, webhook_secret: str) -> None:
        self._webhook_secret = webhook_secret

    @property
    def name(self) -> str:
        return NAME

    def open_payment(self, order: PaymentOrder) -> OpenedPayment:
        # 23 characters: short enough for the QR's reference label (at most 25).
        reference = f"SBX{secrets.token_hex(10).upper()}"
        return OpenedPayment(provider_reference=reference, instructions=self._instructions(order, reference))

    def _instructions(self, order: PaymentOrder, reference: str) -> Instructions:
        if order.channel_kind is ChannelKind.VIRTUAL_ACCOUNT:
            prefix = VIRTUAL_ACCOUNT_PREFIXES.get(order.channel_code, DEFAULT_VIRTUAL_ACCOUNT_PREFIX)
            return payment_pb2.VirtualAccountInstructions(
                bank_name=order.issuer_name,
                account_number=prefix + _digits(VIRTUAL_ACCOUNT_DIGITS - len(prefix)),
                account_name=ACCOUNT_NAME,
            )
        if order.channel_kind is ChannelKind.QRIS:
            return payment_pb2.QrisInstructions(qr_string=dynamic_payload(MERCHANT, order.total, reference))
        if order.channel_kind is ChannelKind.EWALLET:
            # A real gateway answers a link-paid wallet with an app link; the sandbox has
            # no app to open, so it gives none (SimulatePayment stands for the payer).
            return payment_pb2.EwalletInstructions(
                wallet_name=order.issuer_name,
                phone_number=masked_number(order.payer_phone_number) if order.payer_phone_number else "",
            )
        return payment_pb2.RetailOutletInstructions(
            outlet_name=order.issuer_name,
            payment_code=RETAIL_CODE_PREFIX + _digits(RETAIL_CODE_DIGITS),
        )

    def refund_payment(self, order: RefundOrder) -> ProviderRefund:
        """Refunds at once. The reference is the same for the same payment and request id,
        as a gateway answers a refund asked again with the same idempotency key."""
        key = f"{order.payment_provider_reference}:{order.request_id}".encode()
        reference = f"SBXR{hashlib.sha256(key).hexdigest()[:20].upper()}"
        return ProviderRefund(
            provider_reference=reference, state=RefundState.SUCCEEDED, complete_time=utc_now()
        )

    def settlement_notification(
        self,
        *,
        payment_id: str,
        provider_reference: str,
        paid_amount: int,
        currency_code: str,
        paid_time: datetime | None = None,
    ) -> Notification:
        """The signed notification the sandbox posts when the shopper has paid."""
        body = {
            "notification_id": f"sbxn_{secrets.token_hex(12)}",
            "payment_id": payment_id,
            "provider_reference": provider_reference,
            "status": PAID,
            "paid_amount": paid_amount,
            "currency_code": currency_code,
            "paid_time": as_utc(paid_time or utc_now()).isoformat(timespec="microseconds"),
        }
        payload = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
        return Notification(payload=payload, signature=sign(payload, self._webhook_secret))

    def read_settlement(self, payload: bytes) -> ProviderSettlement:
        try:
            body = json.loads(payload)
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise MalformedNotification(f"the payload is not JSON: {error}") from None
        if not isinstance(body, dict):
            raise MalformedNotification("the payload is not a JSON object")
        status = _text(body, "status")
        if status != PAID:
            raise MalformedNotification(f"status is {status!r}; only {PAID!r} settles a payment")
        paid_time_text = _text(body, "paid_time")
        try:
            paid_time = datetime.fromisoformat(paid_time_text)
        except ValueError:
            raise MalformedNotification(f"paid_time {paid_time_text!r} is not an ISO 8601 time") from None
        if paid_time.tzinfo is None:
            raise MalformedNotification("paid_time has no UTC offset")
        paid_amount = body.get("paid_amount")
        if not isinstance(paid_amount, int) or isinstance(paid_amount, bool) or paid_amount <= 0:
            raise MalformedNotification("paid_amount must be a positive integer")
        return ProviderSettlement(
            notification_id=_text(body, "notification_id"),
            payment_id=_text(body, "payment_id"),
            provider_reference=_text(body, "provider_reference"),
            paid_amount=paid_amount,
            currency_code=_text(body, "currency_code"),
            paid_time=as_utc(paid_time),
        )


def _text(body: dict[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value or len(value) > 64:
        raise MalformedNotification(f"{key} must be a string of 1 to 64 characters")
    return value
