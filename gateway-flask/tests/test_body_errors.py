"""Which field a refused request body names, found by walking the descriptor, not json_format's text."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from google.protobuf import json_format

from pasar.order.v1 import order_service_pb2
from pasar.payment.v1 import payment_pb2
from pasar.product.v1 import product_pb2
from pasar_gateway.transcoding import find_invalid_field

CREATE_ORDER = order_service_pb2.CreateOrderRequest.DESCRIPTOR
PAYMENT = payment_pb2.Payment.DESCRIPTOR
PRODUCT = product_pb2.Product.DESCRIPTOR


@pytest.mark.parametrize(
    ("document", "message_type", "field", "fragment"),
    [
        ({"lines": [{"quantity": 1}, {"quantity": "many"}]}, CREATE_ORDER, "lines[1].quantity", '"many"'),
        ({"lines": [{"qty": 1}]}, CREATE_ORDER, "lines[0].qty", "unknown field"),
        ({"lines": [None]}, CREATE_ORDER, "lines[0]", "JSON object"),
        ({"lines": {"quantity": 1}}, CREATE_ORDER, "lines", "JSON array"),
        ({"customer_email": ["a"]}, CREATE_ORDER, "customer_email", "a string"),
        ({"lines": [{"quantity": 2**31}]}, CREATE_ORDER, "lines[0].quantity", "32-bit integer"),
        ({"state": "NOPE"}, PRODUCT, "state", "PRODUCT_STATE_ACTIVE"),
        ({"createTime": "yesterday"}, PRODUCT, "createTime", "RFC 3339"),
        ({"packages": [{"price": {"amount": "x"}}]}, PRODUCT, "packages[0].price.amount", "64-bit integer"),
        ({"qris": {}, "ewallet": {}}, PAYMENT, "ewallet", "alternatives"),
    ],
)
def test_the_first_field_that_does_not_fit_is_named_as_the_client_wrote_it(
    document: dict[str, Any], message_type: Any, field: str, fragment: str
) -> None:
    found = find_invalid_field(document, message_type)
    assert found is not None
    assert found[0] == field
    assert fragment in found[1]


def test_the_walk_agrees_with_json_format_on_a_body_it_accepts() -> None:
    document = {"customerEmail": "budi@example.com", "lines": [{"packageId": "p", "quantity": 2}]}
    json_format.ParseDict(document, order_service_pb2.CreateOrderRequest())
    assert find_invalid_field(document, CREATE_ORDER) is None
    assert find_invalid_field({"lines": None, "customerEmail": None}, CREATE_ORDER) is None  # null: default


def test_a_nested_error_is_a_400_naming_the_element(client: FlaskClient) -> None:
    body = {"lines": [{"packageId": "pulsa-nusantara-10k", "quantity": 1}, {"quantity": True}]}
    response = client.post("/api/v1/orders", json=body)
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "INVALID_ARGUMENT"
    assert (
        error["message"] == 'invalid value for field "lines[1].quantity": expected a 32-bit integer, not true'
    )
    assert error["details"][0]["fieldViolations"][0]["field"] == "lines[1].quantity"


def test_a_bad_query_value_says_what_the_field_takes(client: FlaskClient) -> None:
    response = client.get("/api/v1/products?pageSize=99999999999")
    assert response.status_code == 400
    message = response.get_json()["error"]["message"]
    assert message == 'query parameter "pageSize" is not valid: expected a 32-bit integer, not "99999999999"'
