"""The payer's phone number, for an e-wallet that sends its payment request to the wallet of
a phone number (OVO): required before anything is reserved, passed to CreatePayment, part
of the request's content, and never logged."""

from __future__ import annotations

import logging

import grpc
import pytest
from conftest import RunningService, create_request
from fakes import FakeCatalog, FakePayments, outage

from pasar.order.v1 import order_service_pb2
from pasar.order.v1.error_reason_pb2 import ErrorReason
from pasar.payment.v1.error_reason_pb2 import ErrorReason as PaymentErrorReason
from pasar_testkit.assertions import error_metadata, reason_of, refused, violated_fields

PHONE = "081298765432"


def ovo_request(phone: str, request_id: str = "") -> order_service_pb2.CreateOrderRequest:
    request = create_request(("pulsa-10k", 1), channel="ovo", request_id=request_id)
    request.payer_phone_number = phone
    return request


def test_a_wallet_that_needs_a_phone_number_refuses_an_order_without_one_before_reserving(
    service: RunningService, fake_catalog: FakeCatalog, fake_payments: FakePayments
) -> None:
    error = refused(lambda: service.stub.CreateOrder(ovo_request("")))

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason_of(error) == PaymentErrorReason.Name(PaymentErrorReason.PAYER_PHONE_NUMBER_REQUIRED)
    assert error_metadata(error) == {"channel_code": "ovo"}
    assert fake_catalog.hooks.count("ReserveStock") == 0
    assert fake_payments.payments == {}


def test_the_phone_number_goes_to_the_payment(service: RunningService, fake_payments: FakePayments) -> None:
    placed: order_service_pb2.CreateOrderResponse = service.stub.CreateOrder(ovo_request("+6281298765432"))

    assert fake_payments.payer_phone_numbers[placed.order.id] == "+6281298765432"
    # The wallet's request went to that number: the order shows it masked, with no link.
    assert placed.order.payment_instructions.ewallet.phone_number == "+628****5432"
    assert placed.order.payment_instructions.ewallet.checkout_url == ""


def test_other_channels_take_no_phone_number_and_ignore_one(
    service: RunningService, fake_payments: FakePayments
) -> None:
    request = create_request(("pulsa-10k", 1), channel="qris")
    request.payer_phone_number = PHONE
    placed: order_service_pb2.CreateOrderResponse = service.stub.CreateOrder(request)
    assert placed.order.payment_instructions.HasField("qris")


@pytest.mark.parametrize("phone", ["0812-9876-5432", "0212345678", "81298765432"])
def test_a_phone_number_of_another_shape_is_an_invalid_argument(service: RunningService, phone: str) -> None:
    error = refused(lambda: service.stub.CreateOrder(ovo_request(phone)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violated_fields(error) == ["payer_phone_number"]


def test_the_phone_number_is_part_of_the_requests_content(service: RunningService) -> None:
    first = service.stub.CreateOrder(ovo_request(PHONE, request_id="checkout-ovo-1"))
    again = service.stub.CreateOrder(ovo_request(PHONE, request_id="checkout-ovo-1"))
    assert again.order.id == first.order.id

    other = refused(
        lambda: service.stub.CreateOrder(ovo_request("081211112222", request_id="checkout-ovo-1"))
    )
    assert other.code() == grpc.StatusCode.ALREADY_EXISTS
    assert reason_of(other) == ErrorReason.Name(ErrorReason.REQUEST_ID_REUSED)


def test_the_phone_number_is_never_logged(
    service: RunningService, fake_payments: FakePayments, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # the SQL at debug level carries every value, e-mail addresses too
    refused(lambda: service.stub.CreateOrder(ovo_request("0812-9876-5432")))  # of another shape
    fake_payments.hooks.before["CreatePayment"] = outage  # a failed checkout, logged and undone
    fake_payments.hooks.keep = True  # however often the call is retried
    refused(lambda: service.stub.CreateOrder(ovo_request(PHONE)))
    del fake_payments.hooks.before["CreatePayment"]
    service.stub.CreateOrder(ovo_request(PHONE))

    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert "98765432" not in logged
    assert "9876-5432" not in logged
