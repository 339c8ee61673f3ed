"""What the payment suite makes on its target: payments for the run's orders, through the contract.

:func:`desk` gives the run's :class:`PaymentDesk` of a target: it opens payments (one order
id of the run each), remembers their orders, and cancels the payments still pending when the run ends,
so a shop serving shoppers keeps no open payments of the suite's. Channels are reference
data the contract cannot change: the suite reads them, and chooses among them by kind.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import threading
import weakref
from datetime import UTC, datetime

import grpc
import pytest

from pasar.common.v1.money_pb2 import Money
from pasar.payment.v1 import payment_pb2, payment_service_pb2
from pasar.payment.v1.error_reason_pb2 import ErrorReason
from pasar_conformance.answers import skip_unreached
from pasar_conformance.target import Target

SERVICE = "pasar.payment.v1.PaymentService"
CURRENCY = "IDR"
# The provider whose settlement notifications the suite can write (svc-payment's sandbox:
# a JSON object signed with the webhook secret, see svc-payment/README.md "Providers").
SANDBOX = "sandbox"
# The amount the suite pays when the channel's limits allow it.
USUAL_AMOUNT = 50_000
# The payer's wallet number the suite gives a channel that requires one (requires_phone_number).
PAYER_PHONE_NUMBER = "081234567890"


def rpc(name: str) -> str:
    return f"{SERVICE}/{name}"


def rupiah(amount: int) -> Money:
    return Money(currency_code=CURRENCY, amount=amount)


def percent_fee(amount: int, bps: int) -> int:
    """The contract's proportional fee: amount x bps / 10000, rounded up to the rupiah."""
    return -(-amount * bps // 10_000)


def fee_of(channel: payment_pb2.PaymentChannel, amount: int) -> int:
    return channel.flat_fee.amount + percent_fee(amount, channel.percent_fee_bps)


def amount_for(channel: payment_pb2.PaymentChannel) -> int:
    """An amount within the channel's limits."""
    return min(max(USUAL_AMOUNT, channel.min_amount.amount), channel.max_amount.amount)


def sign(payload: bytes, secret: str) -> str:
    """The contract's signature: lower-case hex HMAC-SHA256 of the payload under the secret."""
    return hmac.new(secret.encode(), payload, hashlib.sha256).hexdigest()


def sandbox_notification(
    target: Target, payment: payment_pb2.Payment, *, notification_id: str | None = None
) -> payment_service_pb2.NotifyPaymentRequest:
    """The signed notification the sandbox provider posts when the payment's total arrived."""
    body = {
        "notification_id": notification_id or target.run.new("notification"),
        "payment_id": payment.id,
        "provider_reference": payment.provider_reference,
        "status": "PAID",
        "paid_amount": payment.total.amount,
        "currency_code": payment.total.currency_code,
        "paid_time": datetime.now(UTC).isoformat(timespec="microseconds"),
    }
    payload = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
    return payment_service_pb2.NotifyPaymentRequest(
        provider=SANDBOX, payload=payload, signature=sign(payload, target.webhook_secret)
    )


class PaymentDesk:
    """The run's payments on one target, and the channels it reads."""

    def __init__(self, target: Target) -> None:
        self.target = target
        self._lock = threading.Lock()
        self._orders: list[str] = []  # every order id the desk made a request for
        self._channels: list[payment_pb2.PaymentChannel] | None = None
        self._sandbox: bool | None = None

    def _read_channels(self) -> None:
        channels: list[payment_pb2.PaymentChannel] = []
        token = ""
        while True:
            page = self.target.call(
                rpc("ListPaymentChannels"),
                payment_service_pb2.ListPaymentChannelsRequest(page_size=100, page_token=token),
            )
            assert isinstance(page, payment_service_pb2.ListPaymentChannelsResponse)
            channels.extend(page.payment_channels)
            self._sandbox = page.sandbox
            token = page.next_page_token
            if not token:
                break
        self._channels = channels

    def channels(self) -> list[payment_pb2.PaymentChannel]:
        """Every enabled channel, in display order (read once a run)."""
        if self._channels is None:
            self._read_channels()
        assert self._channels is not None
        return self._channels

    def sandbox(self) -> bool:
        """Whether the target says its payments are settled by the sandbox."""
        if self._sandbox is None:
            self._read_channels()
        return bool(self._sandbox)

    def require_sandbox(self) -> None:
        if not self.sandbox():
            pytest.skip("the target's payments are not settled by the sandbox (ListPaymentChannels.sandbox)")

    def channel(
        self, kind: payment_pb2.PaymentChannelKind.ValueType = payment_pb2.PAYMENT_CHANNEL_KIND_QRIS
    ) -> payment_pb2.PaymentChannel:
        """The first enabled channel of a kind (skips the case when the target has none)."""
        for channel in self.channels():
            if channel.kind == kind:
                return channel
        pytest.skip(f"the target has no enabled channel of kind {payment_pb2.PaymentChannelKind.Name(kind)}")

    def phone_wallet(self) -> payment_pb2.PaymentChannel:
        """The first enabled channel that requires the payer's phone number (skips the case,
        recording reasons as unreached, when the target has none)."""
        wallets = [channel for channel in self.channels() if channel.requires_phone_number]
        if not wallets:
            skip_unreached(
                "the target has no channel that requires a phone number",
                ErrorReason.Name(ErrorReason.PAYER_PHONE_NUMBER_REQUIRED),
            )
        return wallets[0]

    def request(
        self, channel: payment_pb2.PaymentChannel | None = None, amount: int | None = None
    ) -> payment_service_pb2.CreatePaymentRequest:
        """A valid CreatePayment request for a new order of the run (with the payer's phone
        number when the channel requires one)."""
        channel = channel or self.channel()
        order_id = self.target.run.new("order")
        with self._lock:
            self._orders.append(order_id)
        return payment_service_pb2.CreatePaymentRequest(
            order_id=order_id,
            channel_code=channel.code,
            amount=rupiah(amount_for(channel) if amount is None else amount),
            description="Pesanan uji kesesuaian",
            customer_email="pembeli@example.com",
            payer_phone_number=PAYER_PHONE_NUMBER if channel.requires_phone_number else "",
        )

    def create(self, request: payment_service_pb2.CreatePaymentRequest) -> payment_pb2.Payment:
        answer = self.target.call(rpc("CreatePayment"), request)
        assert isinstance(answer, payment_service_pb2.CreatePaymentResponse)
        return answer.payment

    def open(
        self, channel: payment_pb2.PaymentChannel | None = None, amount: int | None = None
    ) -> payment_pb2.Payment:
        """A new pending payment for a new order of the run."""
        return self.create(self.request(channel, amount))

    def cancel(self, payment_id: str) -> payment_pb2.Payment:
        answer = self.target.call(
            rpc("CancelPayment"), payment_service_pb2.CancelPaymentRequest(id=payment_id)
        )
        assert isinstance(answer, payment_service_pb2.CancelPaymentResponse)
        return answer.payment

    def simulate(self, payment_id: str) -> payment_pb2.Payment:
        answer = self.target.call(
            rpc("SimulatePayment"), payment_service_pb2.SimulatePaymentRequest(id=payment_id)
        )
        assert isinstance(answer, payment_service_pb2.SimulatePaymentResponse)
        return answer.payment

    def paid(self, channel: payment_pb2.PaymentChannel | None = None) -> payment_pb2.Payment:
        """A new payment the sandbox settled (skips the case without the sandbox)."""
        self.require_sandbox()
        return self.simulate(self.open(channel).id)

    def refund_request(
        self, payment_id: str, amount: int, request_id: str | None = None
    ) -> payment_service_pb2.RefundPaymentRequest:
        """A RefundPayment request with a new request id of the run (or the one given)."""
        return payment_service_pb2.RefundPaymentRequest(
            payment_id=payment_id,
            request_id=request_id or self.target.run.new("refund"),
            amount=rupiah(amount),
            reason="pengiriman gagal",
        )

    def refund(
        self, request: payment_service_pb2.RefundPaymentRequest
    ) -> payment_service_pb2.RefundPaymentResponse:
        answer = self.target.call(rpc("RefundPayment"), request)
        assert isinstance(answer, payment_service_pb2.RefundPaymentResponse)
        return answer

    def get(self, payment_id: str) -> payment_pb2.Payment:
        answer = self.target.call(rpc("GetPayment"), payment_service_pb2.GetPaymentRequest(id=payment_id))
        assert isinstance(answer, payment_service_pb2.GetPaymentResponse)
        return answer.payment

    def cancel_leftovers(self) -> None:
        """Cancels the payments of the run's orders that are still pending (best effort: the
        run has ended; a request may have been sent with a deadline, or never)."""
        with self._lock:
            orders = list(self._orders)
        for order_id in orders:
            try:
                found = self.target.call(
                    rpc("FindPaymentByOrder"),
                    payment_service_pb2.FindPaymentByOrderRequest(order_id=order_id),
                )
                assert isinstance(found, payment_service_pb2.FindPaymentByOrderResponse)
                if found.payment.state == payment_pb2.PAYMENT_STATE_PENDING:
                    self.cancel(found.payment.id)
            except grpc.RpcError:
                continue


_desks: weakref.WeakKeyDictionary[Target, PaymentDesk] = weakref.WeakKeyDictionary()
_desks_lock = threading.Lock()


def desk(target: Target) -> PaymentDesk:
    """The run's payment desk on target (one per target)."""
    with _desks_lock:
        if target not in _desks:
            _desks[target] = PaymentDesk(target)
        return _desks[target]
