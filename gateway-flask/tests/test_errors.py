"""Every failure answers the one error shape, with the HTTP status mapped from the gRPC status."""

from __future__ import annotations

import grpc
import pytest
from conftest import AppFactory
from fakes import METER_CUSTOMER, METER_PRODUCT_ID, UNKNOWN_METER, FakeShop, error_info, violated_fields
from flask.testing import FlaskClient
from google.rpc import code_pb2, error_details_pb2, status_pb2

from pasar.common.v1.error_reason_pb2 import ErrorReason as CommonErrorReason
from pasar.fulfillment.v1.error_reason_pb2 import ErrorReason as FulfillmentErrorReason
from pasar.order.v1.error_reason_pb2 import ErrorReason as OrderErrorReason
from pasar.payment.v1.error_reason_pb2 import ErrorReason as PaymentErrorReason
from pasar.product.v1.error_reason_pb2 import ErrorReason as ProductErrorReason
from pasar_kit import errors

EXPECTED_STATUS = {
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 409,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNAUTHENTICATED: 401,
}


def assert_error_shape(body: object, code: str) -> dict[str, object]:
    assert isinstance(body, dict)
    assert set(body) == {"error"}
    error = body["error"]
    assert set(error) == {"code", "message", "details"}
    assert error["code"] == code
    assert isinstance(error["message"], str)
    assert error["message"]
    assert isinstance(error["details"], list)
    checked: dict[str, object] = error
    return checked


def test_every_status_code_has_a_mapping() -> None:
    assert set(EXPECTED_STATUS) == set(grpc.StatusCode) - {grpc.StatusCode.OK}


@pytest.mark.parametrize("code", list(EXPECTED_STATUS), ids=lambda code: code.name)
def test_each_grpc_status_maps_to_its_http_status(
    client: FlaskClient, shop: FakeShop, code: grpc.StatusCode
) -> None:
    shop.payment.fail_with = code
    response = client.get("/api/v1/payment-channels")
    assert response.status_code == EXPECTED_STATUS[code]
    assert response.mimetype == "application/json"
    assert response.headers["X-Request-Id"]
    error = assert_error_shape(response.get_json(), code.name)
    if code in (grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL, grpc.StatusCode.DATA_LOSS):
        assert "told to fail" not in str(error["message"])  # a service's internals stay inside
        assert "payment service" in str(error["message"])
    elif code not in (grpc.StatusCode.DEADLINE_EXCEEDED, grpc.StatusCode.UNAVAILABLE):
        assert error["message"] == f"told to fail with {code.name}"


def test_status_details_are_passed_through_as_json(client: FlaskClient) -> None:
    response = client.get("/api/v1/products/no-such-product")
    assert response.status_code == 404
    error = assert_error_shape(response.get_json(), "NOT_FOUND")
    assert error["details"] == [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": ProductErrorReason.Name(ProductErrorReason.PRODUCT_NOT_FOUND),
            "domain": "pasar.shop",
            "metadata": {"product_id": "no-such-product"},
        }
    ]


def test_field_violations_from_a_service_are_passed_through(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/orders", json={"customerEmail": "a@example.com", "paymentChannelCode": "bca_va"}
    )
    assert response.status_code == 400
    error = assert_error_shape(response.get_json(), "INVALID_ARGUMENT")
    assert error["details"] == [
        {
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [
                {"field": "lines", "description": "value must contain at least 1 item(s)", "reason": ""}
            ],
        }
    ]


def test_details_write_default_values_as_success_bodies_do(client: FlaskClient, shop: FakeShop) -> None:
    """One rule for every JSON body: a field at its default value is written, not left out."""
    status = status_pb2.Status()
    status.details.add().Pack(error_details_pb2.ErrorInfo(reason="TOLD_TO_FAIL"))
    status.details.add().Pack(
        error_details_pb2.BadRequest(
            field_violations=[error_details_pb2.BadRequest.FieldViolation(field="x")]
        )
    )
    shop.payment.fail_status = grpc_status(code_pb2.ABORTED, "conflict", status.details)
    error = assert_error_shape(client.get("/api/v1/payment-channels").get_json(), "ABORTED")
    assert error["details"] == [
        {
            "@type": "type.googleapis.com/google.rpc.ErrorInfo",
            "reason": "TOLD_TO_FAIL",
            "domain": "",
            "metadata": {},
        },
        {
            "@type": "type.googleapis.com/google.rpc.BadRequest",
            "fieldViolations": [{"field": "x", "description": "", "reason": ""}],
        },
    ]
    # A success body with a field at its default value writes it too (the same writer).
    shop.payment.fail_status = None
    channels = client.get("/api/v1/payment-channels").get_json()
    assert channels["nextPageToken"] == ""


@pytest.mark.parametrize(
    ("reason", "status"),
    [
        (PaymentErrorReason.Name(PaymentErrorReason.AMOUNT_OUT_OF_RANGE), 422),
        (PaymentErrorReason.Name(PaymentErrorReason.CHANNEL_DISABLED), 422),
        (OrderErrorReason.Name(OrderErrorReason.PACKAGE_NOT_DELIVERABLE), 422),
        (ProductErrorReason.Name(ProductErrorReason.OUT_OF_STOCK), 409),
        (PaymentErrorReason.Name(PaymentErrorReason.PAYMENT_PAID), 409),
    ],
)
def test_failed_precondition_is_422_for_unprocessable_reasons(
    client: FlaskClient, shop: FakeShop, reason: str, status: int
) -> None:
    shop.order.fail_status = errors.FailedPrecondition("cannot", reason=reason).to_status()
    response = client.post("/api/v1/orders", json={})
    assert response.status_code == status
    error = assert_error_shape(response.get_json(), "FAILED_PRECONDITION")
    assert error["details"][0]["reason"] == reason  # type: ignore[index]


def lookup(client: FlaskClient, product_id: str, meter: str) -> tuple[int, dict[str, object]]:
    response = client.post(
        "/api/v1/destinations:lookup", json={"productId": product_id, "destination": {"meter_number": meter}}
    )
    body: dict[str, object] = response.get_json()
    return response.status_code, body


def test_a_destination_lookup_answers_the_biller_s_name(client: FlaskClient, shop: FakeShop) -> None:
    status, body = lookup(client, METER_PRODUCT_ID, "12345678901")
    assert status == 200
    assert body == {
        "customerName": METER_CUSTOMER,
        "detail": "R1/1300 VA",
        "operatorName": "",
        "matchesProduct": True,
    }
    (request,) = shop.fulfillment.requests
    assert dict(request.destination) == {"meter_number": "12345678901"}  # map keys stay as sent


def test_the_lookup_s_reasons_map_to_their_statuses(client: FlaskClient) -> None:
    """INVALID_DESTINATION 400 naming the field, DESTINATION_NOT_FOUND and PRODUCT_NOT_FOUND 404,
    LOOKUP_NOT_SUPPORTED 422 (the request names a product whose destination has no look-up)."""
    status, body = lookup(client, METER_PRODUCT_ID, "12345")
    assert status == 400
    assert_error_shape(body, "INVALID_ARGUMENT")
    assert error_info(body)["reason"] == CommonErrorReason.Name(CommonErrorReason.INVALID_DESTINATION)
    assert error_info(body)["metadata"] == {"product_id": METER_PRODUCT_ID, "field": "meter_number"}
    assert violated_fields(body) == ['destination["meter_number"]']

    status, body = lookup(client, METER_PRODUCT_ID, UNKNOWN_METER)
    assert status == 404
    assert_error_shape(body, "NOT_FOUND")
    assert error_info(body)["reason"] == FulfillmentErrorReason.Name(
        FulfillmentErrorReason.DESTINATION_NOT_FOUND
    )

    status, body = lookup(client, "no-such-product", "12345678901")
    assert status == 404
    assert error_info(body)["reason"] == ProductErrorReason.Name(ProductErrorReason.PRODUCT_NOT_FOUND)

    status, body = lookup(client, "pulsa-samudra", "12345678901")
    assert status == 422
    assert_error_shape(body, "FAILED_PRECONDITION")
    assert error_info(body)["reason"] == FulfillmentErrorReason.Name(
        FulfillmentErrorReason.LOOKUP_NOT_SUPPORTED
    )


def test_a_lookup_the_gateway_cannot_transcode_is_400_naming_the_field(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/destinations:lookup", json={"productId": METER_PRODUCT_ID, "destination": ["12345678901"]}
    )
    assert response.status_code == 400
    assert_error_shape(response.get_json(), "INVALID_ARGUMENT")


def test_a_detail_of_an_unknown_type_keeps_its_type(client: FlaskClient, shop: FakeShop) -> None:
    detail = status_pb2.Status()  # any message the gateway cannot find in its descriptor pool would do
    detail.details.add(type_url="type.googleapis.com/acme.Unknown", value=b"\x08\x01")
    shop.payment.fail_status = grpc_status(code_pb2.ABORTED, "conflict", detail.details)
    response = client.get("/api/v1/payment-channels")
    assert response.status_code == 409
    error = assert_error_shape(response.get_json(), "ABORTED")
    assert error["details"] == [{"@type": "type.googleapis.com/acme.Unknown"}]


def grpc_status(code: int, message: str, details: object) -> grpc.Status:
    from grpc_status import rpc_status

    status = status_pb2.Status(code=code, message=message)
    status.details.extend(details)  # type: ignore[arg-type]
    return rpc_status.to_status(status)


def test_flask_404_405_and_413_have_the_error_shape(make_app: AppFactory) -> None:
    client = make_app(MAX_BODY_BYTES="2048").test_client()
    not_found = client.get("/api/v1/nothing-here")
    assert not_found.status_code == 404
    assert_error_shape(not_found.get_json(), "NOT_FOUND")
    not_allowed = client.delete("/api/v1/products")
    assert not_allowed.status_code == 405
    assert not_allowed.headers["Allow"] == "GET, HEAD, OPTIONS"
    assert_error_shape(not_allowed.get_json(), "UNIMPLEMENTED")
    too_large = client.post("/api/v1/orders", data=b"{" + b" " * 5000 + b"}", content_type="application/json")
    assert too_large.status_code == 413
    error = assert_error_shape(too_large.get_json(), "RESOURCE_EXHAUSTED")
    assert "2048 bytes" in str(error["message"])


def test_a_post_to_an_unknown_api_path_is_404_not_405(make_app: AppFactory, tmp_path: object) -> None:
    from pathlib import Path

    assert isinstance(tmp_path, Path)
    (tmp_path / "index.html").write_text("<!doctype html><title>Pasar</title>")
    client = make_app(STATIC_DIR=str(tmp_path)).test_client()
    response = client.post("/api/v1/nothing-here", json={})
    assert response.status_code == 404
    assert_error_shape(response.get_json(), "NOT_FOUND")


def test_an_unexpected_exception_is_a_500_without_internals(
    client: FlaskClient, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    from pasar_gateway import transcoding

    def explode(*_args: object) -> object:
        raise RuntimeError("secret internals")

    monkeypatch.setattr(transcoding, "response_document", explode)
    monkeypatch.setattr("pasar_gateway.api.response_document", explode)
    response = client.get("/api/v1/categories")
    assert response.status_code == 500
    error = assert_error_shape(response.get_json(), "INTERNAL")
    assert "secret" not in str(error["message"])
    assert "secret internals" in caplog.text  # logged, with its traceback
