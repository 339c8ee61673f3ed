"""Destinations at checkout: refused before anything is reserved, kept per line, part of a
request id's content, and never written to the logs in full."""

from __future__ import annotations

import logging

import grpc
import pytest
from conftest import create_request, with_destinations
from fakes import FakeCatalog, FakePayments

from pasar.common.v1.error_reason_pb2 import ErrorReason as CommonErrorReason
from pasar.order.v1 import order_service_pb2, order_service_pb2_grpc
from pasar.order.v1.error_reason_pb2 import ErrorReason
from pasar_testkit.assertions import error_metadata, reason_of, refused, violated_fields

INVALID_DESTINATION = CommonErrorReason.Name(CommonErrorReason.INVALID_DESTINATION)
PHONE = "081234567890"
METER = "12345678901"


def phone_order(phone: dict[str, str], **fields: str) -> order_service_pb2.CreateOrderRequest:
    return with_destinations(
        create_request(("pulsa-10k", 1), ("telkomsel-20k", 1), **fields), telkomsel_20k=phone
    )


@pytest.mark.parametrize(
    ("destination", "field"),
    [
        pytest.param({}, "phone_number", id="missing"),
        pytest.param({"phone_number": PHONE, "zone_id": "1234"}, "zone_id", id="unknown-key"),
        pytest.param({"phone_number": "081234567"}, "phone_number", id="too-short"),
        pytest.param({"phone_number": "08123456789012"}, "phone_number", id="too-long"),
        pytest.param({"phone_number": "081734567890"}, "phone_number", id="another-operators-prefix"),
        pytest.param({"phone_number": "0812-4567890"}, "phone_number", id="pattern"),
    ],
)
def test_a_destination_that_breaks_its_products_fields_is_refused_before_anything_is_reserved(
    stub: order_service_pb2_grpc.OrderServiceStub,
    fake_catalog: FakeCatalog,
    fake_payments: FakePayments,
    destination: dict[str, str],
    field: str,
) -> None:
    error = refused(lambda: stub.CreateOrder(phone_order(destination)))

    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert reason_of(error) == INVALID_DESTINATION
    assert error_metadata(error) == {"product_id": "pulsa-telkomsel", "field": field}
    assert violated_fields(error) == [f'lines[1].destination["{field}"]']
    assert fake_catalog.hooks.count("ReserveStock") == 0
    assert fake_payments.hooks.count("CreatePayment") == 0
    assert fake_catalog.stock("telkomsel-20k") == 10


def test_a_product_without_destination_fields_takes_none(
    stub: order_service_pb2_grpc.OrderServiceStub,
) -> None:
    request = with_destinations(create_request(("voucher-game-25k", 1)), voucher_game_25k={"user_id": "1234"})
    error = refused(lambda: stub.CreateOrder(request))
    assert reason_of(error) == INVALID_DESTINATION
    assert error_metadata(error) == {"product_id": "voucher-game", "field": "user_id"}
    assert violated_fields(error) == ['lines[0].destination["user_id"]']


def test_each_line_keeps_its_destination(stub: order_service_pb2_grpc.OrderServiceStub) -> None:
    request = with_destinations(
        create_request(("telkomsel-20k", 1), ("token-pln-50k", 2), ("voucher-game-25k", 1)),
        telkomsel_20k={"phone_number": PHONE},
        token_pln_50k={"meter_number": METER},
    )
    placed = stub.CreateOrder(request)

    destinations = [dict(line.destination) for line in placed.order.lines]
    assert destinations == [{"phone_number": PHONE}, {"meter_number": METER}, {}]
    got = stub.GetOrder(
        order_service_pb2.GetOrderRequest(id=placed.order.id, token=placed.access_token)
    ).order
    assert [dict(line.destination) for line in got.lines] == destinations


def test_a_retry_must_carry_the_same_destinations(stub: order_service_pb2_grpc.OrderServiceStub) -> None:
    first = stub.CreateOrder(phone_order({"phone_number": PHONE}, request_id="checkout-dest-1"))

    again = stub.CreateOrder(phone_order({"phone_number": PHONE}, request_id="checkout-dest-1"))
    assert again.order.id == first.order.id

    other = refused(
        lambda: stub.CreateOrder(phone_order({"phone_number": "081299999999"}, request_id="checkout-dest-1"))
    )
    assert other.code() == grpc.StatusCode.ALREADY_EXISTS
    assert reason_of(other) == ErrorReason.Name(ErrorReason.REQUEST_ID_REUSED)


def test_destinations_are_masked_in_the_logs(
    stub: order_service_pb2_grpc.OrderServiceStub, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)  # the SQL at debug level carries every value, e-mail addresses too
    refused(lambda: stub.CreateOrder(phone_order({"phone_number": "081734567890"})))
    stub.CreateOrder(phone_order({"phone_number": PHONE}))

    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert PHONE not in logged
    assert "081734567890" not in logged
