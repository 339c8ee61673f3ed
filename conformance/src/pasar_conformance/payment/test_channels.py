"""ListPaymentChannels: enabled channels in display order with their terms, the sandbox flag, paging."""

from __future__ import annotations

import base64
from functools import partial

import pytest

from pasar.common.v1.error_reason_pb2 import ErrorReason as CommonReason
from pasar.payment.v1 import payment_pb2, payment_service_pb2
from pasar_conformance.answers import expect_invalid_argument, expect_reason
from pasar_conformance.payment.shop import CURRENCY, PaymentDesk, rpc
from pasar_conformance.target import Target

LIST = rpc("ListPaymentChannels")
DEFAULT_PAGE = 50
LARGEST_PAGE = 100


def page(
    target: Target, page_size: int = 0, page_token: str = ""
) -> payment_service_pb2.ListPaymentChannelsResponse:
    answer = target.call(
        LIST, payment_service_pb2.ListPaymentChannelsRequest(page_size=page_size, page_token=page_token)
    )
    assert isinstance(answer, payment_service_pb2.ListPaymentChannelsResponse)
    return answer


def test_channels_are_enabled_in_display_order_with_their_terms(payments: PaymentDesk) -> None:
    channels = payments.channels()
    assert channels, "the target lists no payment channel"
    orders = [c.sort_order for c in channels]
    assert orders == sorted(orders), f"channels are not in display order (lower sort_order first): {orders}"
    assert len({c.code for c in channels}) == len(channels), "a channel is listed twice"
    for channel in channels:
        assert channel.enabled, f"{channel.code} is listed but not enabled"
        assert channel.display_name, f"{channel.code} has no display name"
        assert channel.kind != payment_pb2.PAYMENT_CHANNEL_KIND_UNSPECIFIED, f"{channel.code} has no kind"
        for money in (channel.flat_fee, channel.min_amount, channel.max_amount):
            assert money.currency_code == CURRENCY, f"{channel.code}: {money}"
        assert 0 <= channel.min_amount.amount <= channel.max_amount.amount, f"{channel.code} limits"
        assert channel.percent_fee_bps >= 0
        assert channel.payment_ttl.ToSeconds() > 0, f"{channel.code} has no time to pay"
        assert channel.logo_url, f"{channel.code} has no logo"


def test_the_sandbox_flag_is_the_same_on_every_page(target: Target, payments: PaymentDesk) -> None:
    first, second = page(target, page_size=1), page(target, page_size=1)
    assert first.sandbox == second.sandbox == payments.sandbox()


def test_pages_of_one_give_every_channel_exactly_once_in_order(target: Target, payments: PaymentDesk) -> None:
    codes: list[str] = []
    token = ""
    for _ in range(len(payments.channels()) + 1):
        answer = page(target, page_size=1, page_token=token)
        assert len(answer.payment_channels) <= 1
        codes.extend(c.code for c in answer.payment_channels)
        token = answer.next_page_token
        if not token:
            break
    assert not token, "the pages of one never end"
    assert codes == [c.code for c in payments.channels()]


def test_the_default_page_is_fifty_and_the_largest_a_hundred(target: Target, payments: PaymentDesk) -> None:
    count = len(payments.channels())
    default, largest = page(target), page(target, page_size=LARGEST_PAGE)
    assert len(default.payment_channels) == min(count, DEFAULT_PAGE)
    assert bool(default.next_page_token) == (count > DEFAULT_PAGE)
    assert len(largest.payment_channels) == min(count, LARGEST_PAGE)
    for size in (LARGEST_PAGE + 1, -1):
        expect_invalid_argument(partial(page, target, page_size=size), "page_size")


def test_a_tampered_or_made_up_page_token_is_refused(target: Target, payments: PaymentDesk) -> None:
    if len(payments.channels()) < 2:
        pytest.skip("a page token needs two channels")
    token = page(target, page_size=1).next_page_token
    assert token, "a page of one of several channels has no next page token"
    middle = len(token) // 2
    tampered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1 :]
    made_up = base64.urlsafe_b64encode(target.run.new("channel").encode()).decode()
    invalid = CommonReason.Name(CommonReason.INVALID_PAGE_TOKEN)
    for bad in (tampered, made_up, "not a token at all"):
        expect_reason(partial(page, target, page_size=1, page_token=bad), invalid)
