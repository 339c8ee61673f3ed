"""E-wallets: a channel that pushes the payment request to the payer's phone number needs
it and shows it back masked; no wallet answers a link to a placeholder host; a phone
number is ignored by the channels that do not use one."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

import pytest

from pasar.payment.v1 import payment_pb2, payment_service_pb2
from pasar.payment.v1.error_reason_pb2 import ErrorReason
from pasar_conformance.answers import expect_reason
from pasar_conformance.payment.shop import PAYER_PHONE_NUMBER, PaymentDesk

# Host names that can never be a real wallet's (RFC 2606 and RFC 6761 reserved names).
PLACEHOLDER_SUFFIXES = (".test", ".example", ".invalid", ".localhost", ".local")
PLACEHOLDER_DOMAINS = ("example.com", "example.net", "example.org", "localhost")
# The masked number: digits and a run of stars; at least one digit hidden.
MASKED = re.compile(r"^\+?[0-9]*\*+[0-9]{4}$")
# Another payer's number, in the international form, for the retry case.
ANOTHER_PHONE_NUMBER = "+6289876543210"


CreateRequest = payment_service_pb2.CreatePaymentRequest


def _without_phone(request: CreateRequest) -> CreateRequest:
    copy = payment_service_pb2.CreatePaymentRequest()
    copy.CopyFrom(request)
    copy.payer_phone_number = ""
    return copy


def _is_placeholder(url: str) -> bool:
    host = (urlsplit(url).hostname or "").lower()
    return (
        host in PLACEHOLDER_DOMAINS
        or host.endswith(PLACEHOLDER_SUFFIXES)
        or any(host.endswith("." + domain) for domain in PLACEHOLDER_DOMAINS)
    )


def test_a_wallet_paid_by_phone_number_needs_one_and_makes_nothing_without(payments: PaymentDesk) -> None:
    channel = payments.phone_wallet()
    request = _without_phone(payments.request(channel))
    expect_reason(
        lambda: payments.create(request),
        ErrorReason.Name(ErrorReason.PAYER_PHONE_NUMBER_REQUIRED),
        metadata={"channel_code": channel.code},
    )
    found = payments.target.call(
        "pasar.payment.v1.PaymentService/FindPaymentByOrder",
        payment_service_pb2.FindPaymentByOrderRequest(order_id=request.order_id),
    )
    assert isinstance(found, payment_service_pb2.FindPaymentByOrderResponse)
    assert not found.HasField("payment"), "a refused CreatePayment made a payment"


def test_the_request_goes_to_the_phone_number_shown_masked(payments: PaymentDesk) -> None:
    channel = payments.phone_wallet()
    payment = payments.open(channel)
    assert payment.WhichOneof("instructions") == "ewallet", f"{channel.code} is paid by phone number"
    shown = payment.ewallet.phone_number
    assert MASKED.match(shown), f"phone_number {shown!r} is not masked but its last four digits"
    assert shown.endswith(PAYER_PHONE_NUMBER[-4:]), f"phone_number {shown!r} is not the payer's"
    assert PAYER_PHONE_NUMBER[1:] not in shown, f"phone_number {shown!r} shows the whole number"
    assert payment.ewallet.checkout_url == "", "a request sent to the phone number has no link"
    assert payments.get(payment.id) == payment


def test_a_retry_with_another_phone_number_answers_the_first(payments: PaymentDesk) -> None:
    channel = payments.phone_wallet()
    request = payments.request(channel)
    first = payments.create(request)
    request.payer_phone_number = ANOTHER_PHONE_NUMBER
    assert payments.create(request) == first, "the request already went to the first number"
    assert payments.create(_without_phone(request)) == first


def test_no_wallet_answers_a_link_to_a_placeholder_host(payments: PaymentDesk) -> None:
    wallets = [c for c in payments.channels() if c.kind == payment_pb2.PAYMENT_CHANNEL_KIND_EWALLET]
    if not wallets:
        pytest.skip("the target has no enabled e-wallet channel")
    for channel in wallets:
        payment = payments.open(channel)
        link = payment.ewallet.checkout_url
        assert payment.ewallet.wallet_name, f"{channel.code} names no wallet"
        assert not _is_placeholder(link), f"{channel.code} links to a placeholder host: {link}"
        if link:
            assert urlsplit(link).scheme, f"{channel.code}'s link {link!r} is not absolute"
        if not channel.requires_phone_number:
            assert payment.ewallet.phone_number == "", f"{channel.code} is not paid by phone number"


def test_a_phone_number_is_ignored_by_a_channel_that_does_not_use_one(payments: PaymentDesk) -> None:
    others = [c for c in payments.channels() if not c.requires_phone_number]
    if not others:
        pytest.skip("every channel of the target requires a phone number")
    channel = others[0]
    request = payments.request(channel)
    request.payer_phone_number = PAYER_PHONE_NUMBER
    payment = payments.create(request)
    assert payment.state == payment_pb2.PAYMENT_STATE_PENDING
    if payment.WhichOneof("instructions") == "ewallet":
        assert payment.ewallet.phone_number == ""
