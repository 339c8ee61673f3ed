"""A check of the chosen payment channel before checkout touches any stock.

CreatePayment is the authority on channels, but it comes after ReserveStock; an unknown
channel or an amount the channel does not take would otherwise reserve stock only to
release it again. The enabled channels (with their limits) are read from PaymentService
and kept for a short while; an unknown code reads them again before it is refused, so a
channel enabled a moment ago is found.
"""

from __future__ import annotations

import threading
import time

from pasar.payment.v1 import payment_pb2
from pasar_kit.errors import FailedPrecondition, NotFound
from pasar_order.peers import PeerError, Peers

# An unknown code rereads the list, but not more often than this (unknown codes are cheap to send).
MIN_REREAD_SECONDS = 1.0


class PaymentChannelDirectory:
    """The enabled payment channels, read through to PaymentService."""

    def __init__(self, peers: Peers, max_age_seconds: float = 30.0) -> None:
        self.peers = peers
        self.max_age_seconds = max_age_seconds
        self._lock = threading.Lock()
        self._channels: dict[str, payment_pb2.PaymentChannel] | None = None
        self._read_at = 0.0

    def check(self, code: str, amount: int) -> payment_pb2.PaymentChannel:
        """The channel, if it is enabled and takes amount; otherwise the payment service's refusal."""
        channel = self._find(code)
        if channel is None:
            raise NotFound(
                f"payment channel {code!r} not found (unknown, or not enabled)",
                reason="CHANNEL_NOT_FOUND",
                metadata={"channel_code": code},
            )
        minimum, maximum = channel.min_amount.amount, channel.max_amount.amount
        if amount < minimum or (maximum and amount > maximum):
            raise FailedPrecondition(
                f"{channel.display_name} takes amounts from {minimum} to {maximum}, not {amount}",
                reason="AMOUNT_OUT_OF_RANGE",
                metadata={"channel_code": code, "min_amount": str(minimum), "max_amount": str(maximum)},
            )
        return channel

    def _find(self, code: str) -> payment_pb2.PaymentChannel | None:
        with self._lock:
            channels, age = self._channels, time.monotonic() - self._read_at
        if channels is not None and (
            age < MIN_REREAD_SECONDS or (age < self.max_age_seconds and code in channels)
        ):
            return channels.get(code)
        try:
            listed = self.peers.list_payment_channels()
        except PeerError:
            if channels is None:
                raise
            return channels.get(code)  # the payment service is down: the last list will do
        channels = {channel.code: channel for channel in listed}
        with self._lock:
            self._channels, self._read_at = channels, time.monotonic()
        return channels.get(code)
