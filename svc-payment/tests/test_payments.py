"""CreatePayment, GetPayment and CancelPayment over gRPC, on each database."""

from __future__ import annotations

import logging
import re
from collections.abc import Iterator
from functools import partial
from typing import NamedTuple

import grpc
import peewee
import pytest
from conftest import (
    PAYMENT_STATE,
    PHONE_WALLETS,
    RunningService,
    StartService,
    create_payment,
    create_request,
    run_concurrently,
    stored_events,
)

from pasar.common.v1.error_reason_pb2 import ErrorReason as CommonErrorReason
from pasar.payment.v1 import payment_pb2, payment_service_pb2, payment_service_pb2_grpc
from pasar.payment.v1.error_reason_pb2 import ErrorReason
from pasar_kit.ids import new_id
from pasar_kit.logs import JsonFormatter
from pasar_kit.money import rupiah
from pasar_payment import reasons
from pasar_payment.events import EventFeed
from pasar_payment.expiry import expire_due_payments
from pasar_payment.models import Payment, PaymentChannel, PaymentEvent
from pasar_payment.providers.base import OpenedPayment, PaymentOrder
from pasar_payment.providers.sandbox import SandboxProvider
from pasar_testkit.assertions import error_metadata, reason_of, refused, violated_fields

PaymentStub = payment_service_pb2_grpc.PaymentServiceStub
KIND = payment_pb2.PaymentChannelKind


def rows(database: peewee.Database) -> tuple[int, int]:
    """How many payments and events are stored."""
    with database.connection_context():
        return Payment.select().count(), PaymentEvent.select().count()


def get(stub: PaymentStub, payment_id: str) -> payment_pb2.Payment:
    response = stub.GetPayment(payment_service_pb2.GetPaymentRequest(id=payment_id), timeout=10)
    return response.payment


def cancel(stub: PaymentStub, payment_id: str) -> payment_pb2.Payment:
    response = stub.CancelPayment(payment_service_pb2.CancelPaymentRequest(id=payment_id), timeout=10)
    return response.payment


class Expected(NamedTuple):
    channel_code: str
    amount: int
    fee: int
    kind: int
    instructions: str
    ttl: int


@pytest.mark.parametrize(
    "expected",
    [
        Expected(
            "bca_va", 50_000, 4_000, KIND.PAYMENT_CHANNEL_KIND_VIRTUAL_ACCOUNT, "virtual_account", 86_400
        ),
        Expected("qris", 15_001, 106, KIND.PAYMENT_CHANNEL_KIND_QRIS, "qris", 900),
        Expected("gopay", 12_345, 247, KIND.PAYMENT_CHANNEL_KIND_EWALLET, "ewallet", 1_800),
        Expected(
            "indomaret", 100_000, 5_000, KIND.PAYMENT_CHANNEL_KIND_RETAIL_OUTLET, "retail_outlet", 86_400
        ),
    ],
    ids=lambda expected: expected.channel_code,
)
def test_a_payment_is_created_with_fee_instructions_and_expiry(
    service: RunningService, expected: Expected
) -> None:
    channel_code, amount, fee, kind, instructions, ttl = expected
    order_id = new_id("ord")
    payment = create_payment(service.stub, order_id=order_id, channel_code=channel_code, amount=amount)
    assert re.fullmatch(r"pay_[0-9a-f]{32}", payment.id)
    assert payment.order_id == order_id
    assert payment.channel_code == channel_code
    assert payment.channel_kind == kind
    assert payment.state == PAYMENT_STATE.PAYMENT_STATE_PENDING
    assert (payment.amount.currency_code, payment.amount.amount) == ("IDR", amount)
    assert (payment.fee.amount, payment.total.amount) == (fee, amount + fee)
    assert payment.WhichOneof("instructions") == instructions
    assert payment.provider == "sandbox"
    assert payment.provider_reference
    assert payment.expire_time.ToSeconds() - payment.create_time.ToSeconds() == ttl
    assert payment.update_time == payment.create_time
    assert not payment.HasField("paid_time")
    assert get(service.stub, payment.id) == payment, "read back exactly as it was returned"
    events = stored_events(service.database)
    assert events == [(1, "CREATED", payment.id)]


def test_the_created_event_carries_the_payment(service: RunningService) -> None:
    payment = create_payment(service.stub, channel_code="qris", amount=20_000)
    with service.database.connection_context():
        event = PaymentEvent.get()
    snapshot = payment_pb2.Payment.FromString(bytes(event.payment))
    assert snapshot == payment
    assert event.type == "CREATED"


def test_a_retried_create_returns_the_same_payment(service: RunningService) -> None:
    request = create_request(channel_code="bri_va", amount=75_000)
    first = service.stub.CreatePayment(request, timeout=10).payment
    again = service.stub.CreatePayment(request, timeout=10).payment
    assert again == first
    assert rows(service.database) == (1, 1)


def test_a_retry_returns_the_payment_even_if_the_channel_was_disabled_since(service: RunningService) -> None:
    request = create_request(channel_code="ovo", amount=30_000)
    first = service.stub.CreatePayment(request, timeout=10).payment
    with service.database.connection_context():
        PaymentChannel.update(enabled=False).where(PaymentChannel.code == "ovo").execute()
    assert service.stub.CreatePayment(request, timeout=10).payment == first


@pytest.mark.parametrize(("channel_code", "amount"), [("bni_va", 50_000), ("bca_va", 50_001)])
def test_the_same_order_on_other_terms_is_a_conflict(
    service: RunningService, channel_code: str, amount: int
) -> None:
    order_id = new_id("ord")
    first = create_payment(service.stub, order_id=order_id, channel_code="bca_va", amount=50_000)
    error = refused(
        lambda: create_payment(service.stub, order_id=order_id, channel_code=channel_code, amount=amount)
    )
    assert (error.code(), reason_of(error), error_metadata(error)) == (
        grpc.StatusCode.ALREADY_EXISTS,
        ErrorReason.Name(ErrorReason.PAYMENT_CONFLICT),
        {"order_id": order_id, "payment_id": first.id},
    )
    assert rows(service.database) == (1, 1)


def test_concurrent_creates_for_one_order_make_one_payment(service: RunningService) -> None:
    request = create_request(channel_code="mandiri_va", amount=60_000)
    results = run_concurrently(10, lambda _: service.stub.CreatePayment(request, timeout=30).payment)
    assert all(isinstance(result, payment_pb2.Payment) for result in results), results
    assert len({result.id for result in results if isinstance(result, payment_pb2.Payment)}) == 1
    assert rows(service.database) == (1, 1)


def test_order_ids_differing_only_in_case_are_other_orders(service: RunningService) -> None:
    """Order ids are case-sensitive (the contract's pattern allows both cases): on MariaDB,
    whose default collation ignores case, order_id is compared byte for byte."""
    lower = create_payment(service.stub, order_id="ord-abc", amount=50_000)
    upper = create_payment(service.stub, order_id="ORD-ABC", amount=50_001)
    assert lower.id != upper.id
    assert (lower.order_id, upper.order_id) == ("ord-abc", "ORD-ABC")
    found = service.stub.FindPaymentByOrder(
        payment_service_pb2.FindPaymentByOrderRequest(order_id="ORD-ABC"), timeout=10
    ).payment
    assert found == upper
    assert rows(service.database) == (2, 2)


def test_unknown_channel_is_not_found(service: RunningService) -> None:
    error = refused(lambda: create_payment(service.stub, channel_code="paypal"))
    assert (error.code(), reason_of(error), error_metadata(error)) == (
        grpc.StatusCode.NOT_FOUND,
        ErrorReason.Name(ErrorReason.CHANNEL_NOT_FOUND),
        {"channel_code": "paypal"},
    )
    assert rows(service.database) == (0, 0)


def test_disabled_channel_is_a_failed_precondition(service: RunningService) -> None:
    """With the metadata the contract names for CHANNEL_DISABLED, channel_code alone (before,
    the channel's amount limits came along, which belong to AMOUNT_OUT_OF_RANGE)."""
    with service.database.connection_context():
        PaymentChannel.update(enabled=False).where(PaymentChannel.code == "dana").execute()
    error = refused(lambda: create_payment(service.stub, channel_code="dana", amount=20_000))
    assert (error.code(), reason_of(error), error_metadata(error)) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        ErrorReason.Name(ErrorReason.CHANNEL_DISABLED),
        {"channel_code": "dana"},
    )
    assert rows(service.database) == (0, 0)


@pytest.mark.parametrize(
    ("channel_code", "amount", "accepted"),
    [
        ("bca_va", 9_999, False),
        ("bca_va", 10_000, True),
        ("bca_va", 50_000_000, True),
        ("bca_va", 50_000_001, False),
        ("qris", 999, False),
        ("qris", 10_000_001, False),
        ("alfamart", 5_000_001, False),
    ],
)
def test_amounts_outside_the_channel_limits_are_refused(
    service: RunningService, channel_code: str, amount: int, accepted: bool
) -> None:
    if accepted:
        assert create_payment(service.stub, channel_code=channel_code, amount=amount).amount.amount == amount
        return
    error = refused(lambda: create_payment(service.stub, channel_code=channel_code, amount=amount))
    assert (error.code(), reason_of(error)) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        ErrorReason.Name(ErrorReason.AMOUNT_OUT_OF_RANGE),
    )
    with service.database.connection_context():
        channel = PaymentChannel.get_by_id(channel_code)
    assert error_metadata(error) == {
        "channel_code": channel_code,
        "min_amount": str(channel.min_amount),
        "max_amount": str(channel.max_amount),
    }
    assert rows(service.database) == (0, 0)


def bad_requests() -> Iterator[tuple[str, payment_service_pb2.CreatePaymentRequest, list[str]]]:
    usd = create_request()
    usd.amount.currency_code = "USD"
    yield "dollars", usd, ["amount.currency_code"]
    lower = create_request()
    lower.amount.currency_code = "idr"
    yield "lower-case currency", lower, ["amount.currency_code"]
    yield "an order id with spaces", create_request(order_id="ord 1"), ["order_id"]
    yield "an order id too long", create_request(order_id="o" * 65), ["order_id"]
    yield "an upper-case channel", create_request(channel_code="BCA_VA"), ["channel_code"]
    yield "a huge channel code", create_request(channel_code="a" * 33), ["channel_code"]
    yield "nothing to pay", create_request(amount=0), ["amount"]
    negative = create_request()
    negative.amount.amount = -5
    yield "a negative amount", negative, ["amount.amount", "amount"]
    no_amount = create_request()
    no_amount.ClearField("amount")
    yield "no amount", no_amount, ["amount"]
    yield "a malformed e-mail", create_request(customer_email="siti@"), ["customer_email"]
    yield "no e-mail", create_request(customer_email=""), ["customer_email"]
    yield "an oversized description", create_request(description="d" * 201), ["description"]
    for phone in ("0812345", "021234567890", "+62 812 3456 7890", "08123456789012345", "62-812345678"):
        yield f"a phone number {phone}", create_request(payer_phone_number=phone), ["payer_phone_number"]
    empty = create_request()
    empty.order_id = ""
    empty.channel_code = ""
    yield "no order id and no channel", empty, ["order_id", "channel_code"]


@pytest.mark.parametrize(
    ("name", "request_message", "fields"),
    list(bad_requests()),
    ids=[case[0] for case in bad_requests()],
)
def test_bad_input_is_invalid_argument_and_leaves_no_row(
    service: RunningService,
    name: str,
    request_message: payment_service_pb2.CreatePaymentRequest,
    fields: list[str],
) -> None:
    error = refused(lambda: service.stub.CreatePayment(request_message, timeout=10))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, name
    assert set(violated_fields(error)) == set(fields)
    assert rows(service.database) == (0, 0)


def find_by_order(stub: PaymentStub, order_id: str) -> payment_service_pb2.FindPaymentByOrderResponse:
    request = payment_service_pb2.FindPaymentByOrderRequest(order_id=order_id)
    response: payment_service_pb2.FindPaymentByOrderResponse = stub.FindPaymentByOrder(request, timeout=10)
    return response


def test_the_payment_of_an_order_is_found_by_the_order_id_and_none_is_made(service: RunningService) -> None:
    order_id = new_id("ord")
    assert not find_by_order(service.stub, order_id).HasField("payment")
    assert rows(service.database) == (0, 0), "looking for a payment creates none"

    payment = create_payment(service.stub, order_id=order_id)
    assert find_by_order(service.stub, order_id).payment == payment
    cancelled = cancel(service.stub, payment.id)
    assert find_by_order(service.stub, order_id).payment == cancelled, "in whatever state it is"
    assert not find_by_order(service.stub, new_id("ord")).HasField("payment")
    assert rows(service.database) == (1, 2)


def test_a_malformed_order_id_is_invalid_argument_when_finding_a_payment(stub: PaymentStub) -> None:
    error = refused(lambda: find_by_order(stub, "ord 1"))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_fields(error) == ["order_id"]


def test_get_payment_of_an_unknown_id_is_not_found(stub: PaymentStub) -> None:
    missing = new_id("pay")
    error = refused(lambda: get(stub, missing))
    assert (error.code(), reason_of(error), error_metadata(error)) == (
        grpc.StatusCode.NOT_FOUND,
        ErrorReason.Name(ErrorReason.PAYMENT_NOT_FOUND),
        {"payment_id": missing},
    )


@pytest.mark.parametrize(
    "payment_id", ["", "pay_123", "ord_0123456789abcdef0123456789abcdef", "PAY_" + "0" * 32]
)
def test_malformed_payment_ids_are_invalid_argument(stub: PaymentStub, payment_id: str) -> None:
    for call in (get, cancel):
        error = refused(lambda call=call: call(stub, payment_id))  # type: ignore[misc]
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert violated_fields(error) == ["id"]


def test_cancelling_is_idempotent(service: RunningService) -> None:
    payment = create_payment(service.stub)
    cancelled = cancel(service.stub, payment.id)
    assert cancelled.state == PAYMENT_STATE.PAYMENT_STATE_CANCELLED
    assert cancelled.update_time.ToDatetime() > payment.update_time.ToDatetime()
    assert cancel(service.stub, payment.id) == cancelled
    assert get(service.stub, payment.id) == cancelled
    assert [event[1] for event in stored_events(service.database)] == ["CREATED", "CANCELLED"]


def test_cancelling_an_expired_payment_returns_it_unchanged(service: RunningService) -> None:
    payment = create_payment(service.stub, channel_code="qris", amount=10_000)
    with service.database.connection_context():
        due = Payment.get_by_id(payment.id).expire_time
    assert expire_due_payments(service.database, EventFeed(), now=due) == 1
    expired = get(service.stub, payment.id)
    assert expired.state == PAYMENT_STATE.PAYMENT_STATE_EXPIRED
    assert cancel(service.stub, payment.id) == expired
    assert [event[1] for event in stored_events(service.database)] == ["CREATED", "EXPIRED"]


def test_cancelling_a_paid_payment_is_refused(service: RunningService) -> None:
    payment = create_payment(service.stub)
    service.stub.SimulatePayment(payment_service_pb2.SimulatePaymentRequest(id=payment.id), timeout=10)
    error = refused(lambda: cancel(service.stub, payment.id))
    assert (error.code(), reason_of(error), error_metadata(error)) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        ErrorReason.Name(ErrorReason.PAYMENT_PAID),
        {"payment_id": payment.id, "state": "PAYMENT_STATE_PAID"},
    )
    assert get(service.stub, payment.id).state == PAYMENT_STATE.PAYMENT_STATE_PAID
    assert [event[1] for event in stored_events(service.database)] == ["CREATED", "PAID"]


def test_cancelling_an_unknown_payment_is_not_found(stub: PaymentStub) -> None:
    missing = new_id("pay")
    error = refused(lambda: cancel(stub, missing))
    assert (error.code(), reason_of(error), error_metadata(error)) == (
        grpc.StatusCode.NOT_FOUND,
        ErrorReason.Name(ErrorReason.PAYMENT_NOT_FOUND),
        {"payment_id": missing},
    )


class CollidingSandbox(SandboxProvider):
    """The sandbox, but its first virtual account numbers repeat one another."""

    def __init__(self, repeats: int) -> None:
        super().__init__("unused")
        self.repeats = repeats
        self.opened = 0

    def open_payment(self, order: PaymentOrder) -> OpenedPayment:
        opened = super().open_payment(order)
        self.opened += 1
        if self.repeats and isinstance(opened.instructions, payment_pb2.VirtualAccountInstructions):
            self.repeats -= 1
            opened.instructions.account_number = "1180800000000001"
        return opened


def test_a_taken_account_number_is_replaced_by_a_fresh_one(start_service: StartService) -> None:
    provider = CollidingSandbox(repeats=3)
    running = start_service(provider=provider)
    first = create_payment(running.stub, channel_code="bca_va")
    assert first.virtual_account.account_number == "1180800000000001"
    second = create_payment(running.stub, channel_code="bca_va")
    assert second.virtual_account.account_number != "1180800000000001"
    assert provider.opened == 4, "opened again after each collision"
    assert rows(running.database) == (2, 2)
    assert [event[0] for event in stored_events(running.database)] == [1, 2], "no sequence lost"
    # The same number at another bank is another account.
    other_bank = CollidingSandbox(repeats=1)
    running_other = start_service(provider=other_bank)
    assert create_payment(running_other.stub, channel_code="bni_va").virtual_account.account_number == (
        "1180800000000001"
    )


def test_a_money_field_in_the_request_is_checked_for_rupiah(stub: PaymentStub) -> None:
    request = create_request()
    request.amount.CopyFrom(rupiah(50_000))
    request.amount.currency_code = "EUR"
    error = refused(lambda: stub.CreatePayment(request, timeout=10))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_fields(error) == ["amount.currency_code"]


def test_a_payment_code_collision_is_aborted_with_the_contention_reason() -> None:
    """Callers retry CONTENTION (an IDEMPOTENT CreatePayment repeats safely): issue 12."""
    error = reasons.payment_code_taken()
    assert error.code == grpc.StatusCode.ABORTED
    assert error.reason == CommonErrorReason.Name(CommonErrorReason.CONTENTION)


def test_the_capped_time_to_pay_is_the_one_a_payment_gets(start_service: StartService) -> None:
    """What ListPaymentChannels reports is what the payment expires after (the one deadline)."""
    running = start_service(PASAR_PAYMENT_TTL_MAX_SECONDS="120")
    listed = running.stub.ListPaymentChannels(payment_service_pb2.ListPaymentChannelsRequest(), timeout=10)
    windows = {channel.code: channel.payment_ttl.ToSeconds() for channel in listed.payment_channels}
    for channel_code in ("bca_va", "qris", "alfamart"):
        payment = create_payment(running.stub, channel_code=channel_code, amount=50_000)
        window = payment.expire_time.ToSeconds() - payment.create_time.ToSeconds()
        assert window == windows[channel_code] == 120


@pytest.mark.parametrize("channel_code", PHONE_WALLETS)
def test_a_wallet_paid_by_phone_number_needs_one(service: RunningService, channel_code: str) -> None:
    error = refused(
        lambda: create_payment(service.stub, channel_code=channel_code, amount=20_000, payer_phone_number="")
    )
    assert (error.code(), reason_of(error), error_metadata(error)) == (
        grpc.StatusCode.INVALID_ARGUMENT,
        ErrorReason.Name(ErrorReason.PAYER_PHONE_NUMBER_REQUIRED),
        {"channel_code": channel_code},
    )
    assert violated_fields(error) == ["payer_phone_number"]
    assert rows(service.database) == (0, 0)


@pytest.mark.parametrize("given", ["081234567890", "6281234567890", "+6281234567890"])
def test_the_request_goes_to_the_phone_number_shown_masked(service: RunningService, given: str) -> None:
    payment = create_payment(service.stub, channel_code="ovo", amount=20_000, payer_phone_number=given)
    assert payment.WhichOneof("instructions") == "ewallet"
    assert (payment.ewallet.wallet_name, payment.ewallet.phone_number, payment.ewallet.checkout_url) == (
        "OVO",
        "0812****7890",
        "",
    )
    assert get(service.stub, payment.id) == payment
    with service.database.connection_context():
        stored = Payment.get_by_id(payment.id)
    assert "1234567890" not in stored.instructions, "the full number is not kept"


def stored_text(database: peewee.Database) -> str:
    """Every value of every table, as text."""
    with database.connection_context():
        return "\n".join(
            repr(row)
            for table in database.get_tables()
            for row in database.execute_sql(f"SELECT * FROM {table}").fetchall()
        )


def test_the_payers_phone_number_is_neither_logged_nor_stored_whole(
    service: RunningService, caplog: pytest.LogCaptureFixture
) -> None:
    """Only its masked form ("0812****5432") is kept; the digits it hides ("9876", looked for
    with a neighbour each side: four digits alone turn up in random ids and lease owners)
    appear in no log record and no stored row, whichever form it came in, refused or accepted."""
    caplog.set_level(logging.DEBUG)
    for given in ("081298765432", "6281298765432", "+6281298765432"):
        payment = create_payment(service.stub, channel_code="dana", amount=20_000, payer_phone_number=given)
        assert payment.ewallet.phone_number == "0812****5432"
        refused(partial(create_payment, service.stub, channel_code="ovo", payer_phone_number=given + "0000"))
        create_payment(service.stub, channel_code="gopay", amount=20_000, payer_phone_number=given)
    calls = [record for record in caplog.records if getattr(record, "method", "").endswith("/CreatePayment")]
    assert len(calls) == 9, "every call was logged"
    logged = "\n".join(JsonFormatter().format(record) for record in caplog.records)
    assert "298765" not in logged
    assert "298765" not in stored_text(service.database)


@pytest.mark.parametrize("channel_code", ["gopay", "shopeepay"])
def test_other_wallets_ignore_a_phone_number_and_give_no_placeholder_link(
    service: RunningService, channel_code: str
) -> None:
    payment = create_payment(
        service.stub, channel_code=channel_code, amount=20_000, payer_phone_number="081234567890"
    )
    assert payment.ewallet.wallet_name
    assert (payment.ewallet.phone_number, payment.ewallet.checkout_url) == ("", "")


def test_a_phone_number_is_ignored_by_channels_not_paid_by_wallet(service: RunningService) -> None:
    payment = create_payment(service.stub, channel_code="bca_va", payer_phone_number="081234567890")
    assert payment.virtual_account.account_number
    assert get(service.stub, payment.id) == payment


@pytest.mark.parametrize("retried_with", ["089876543210", ""])
def test_a_retry_answers_the_first_phone_number(service: RunningService, retried_with: str) -> None:
    """As its description and e-mail: the request already went to the first number (only
    another channel or amount is PAYMENT_CONFLICT)."""
    order_id = new_id("ord")
    first = create_payment(service.stub, order_id=order_id, channel_code="dana", amount=25_000)
    again = create_payment(
        service.stub, order_id=order_id, channel_code="dana", amount=25_000, payer_phone_number=retried_with
    )
    assert again == first
    assert again.ewallet.phone_number == "0812****7890"
    assert rows(service.database) == (1, 1)
