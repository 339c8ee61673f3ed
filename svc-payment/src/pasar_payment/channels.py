"""The payment channels a shopper can choose, and the terms each puts on a payment."""

from __future__ import annotations

from dataclasses import dataclass

from pasar_kit.page_tokens import PageTokens
from pasar_kit.prepared import PreparedQuery
from pasar_payment import reasons
from pasar_payment.models import PaymentChannel, database_proxy

DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 100
# Sealed keyset tokens (pasar_kit.page_tokens): a made-up one is INVALID_PAGE_TOKEN.
_TOKENS = PageTokens("payment")
_CHANNELS = "payment-channels"
# Read by every CreatePayment: its SQL built once (pasar_kit.prepared).
_CHANNEL_OF_CODE = PreparedQuery(
    database_proxy, lambda code: PaymentChannel.select().where(PaymentChannel.code == code).limit(1)
)


@dataclass(frozen=True)
class PaymentWindows:
    """How long a payment through each channel can be paid: the channel's payment_ttl,
    capped by max_seconds (``PASAR_PAYMENT_TTL_MAX_SECONDS``) when set.

    One value for both uses: ListPaymentChannels reports it and CreatePayment gives it, so
    the deadline a shopper is shown is the one the payment (and its order) expires at.
    """

    max_seconds: int | None = None

    def seconds(self, channel: PaymentChannel) -> int:
        ttl: int = channel.payment_ttl_seconds
        return ttl if self.max_seconds is None else min(ttl, self.max_seconds)


def list_enabled_channels(page_size: int, page_token: str) -> tuple[list[PaymentChannel], str]:
    """A page of enabled channels in display order, and the token of the next page ("" at the end).

    Keyset paging on (sort_order, code): a page never repeats or skips a channel when
    channels are added or disabled between two pages.
    """
    size = min(page_size or DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE)
    query = PaymentChannel.select().where(PaymentChannel.enabled == True)  # noqa: E712 - SQL, not Python
    if page_token:
        sort_order, code = _read_page_token(page_token)
        query = query.where(
            (PaymentChannel.sort_order > sort_order)
            | ((PaymentChannel.sort_order == sort_order) & (PaymentChannel.code > code))
        )
    channels = list(query.order_by(PaymentChannel.sort_order, PaymentChannel.code).limit(size + 1))
    if len(channels) <= size:
        return channels, ""
    last = channels[size - 1]
    return channels[:size], _page_token(last.sort_order, last.code)


def _page_token(sort_order: int, code: str) -> str:
    return _TOKENS.encode(_CHANNELS, [sort_order, code])


def _read_page_token(token: str) -> tuple[int, str]:
    match _TOKENS.decode(token, _CHANNELS):
        case [int(sort_order), str(code)] if not isinstance(sort_order, bool):
            return sort_order, code
    raise reasons.page_token_not_ours()


def find_channel(code: str) -> PaymentChannel:
    channel = _CHANNEL_OF_CODE.first(PaymentChannel, code)
    if channel is None:
        raise reasons.channel_not_found(code)
    return channel


def check_channel_accepts(channel: PaymentChannel, amount: int, payer_phone_number: str) -> None:
    """Raises unless the channel is enabled and takes this order amount (FAILED_PRECONDITION),
    and has the payer's phone number when it sends the request to a wallet by it
    (INVALID_ARGUMENT)."""
    if not channel.enabled:
        raise reasons.channel_disabled(channel)
    if not channel.min_amount <= amount <= channel.max_amount:
        raise reasons.amount_out_of_range(channel, amount)
    if channel.requires_phone_number and not payer_phone_number:
        raise reasons.payer_phone_number_required(channel)
