"""A check of the chosen payment channel before checkout touches any stock, and its
payment window (payment_ttl), for which the stock is held.

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
from pasar_order import reasons
from pasar_order.peers import Peers
from pasar_order.reasons import PeerError

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
        channel = self.find(code)
        if channel is None:
            raise reasons.channel_not_found(code)
        # As CreatePayment checks it; an amount beyond int64 (which no column could hold)
        # is beyond every channel's maximum too.
        if not channel.min_amount.amount <= amount <= channel.max_amount.amount:
            raise reasons.amount_out_of_range(channel, amount)
        return channel

    def find(self, code: str) -> payment_pb2.PaymentChannel | None:
        """The enabled channel with this code, or None."""
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
