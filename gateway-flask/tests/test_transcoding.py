"""REST → gRPC → REST through the gateway, against fake services: shapes, parameters, bodies, headers."""

from __future__ import annotations

import json

import pytest
from fakes import ORDER_ID, PAYMENT_ID, FakeShop, violated_fields
from flask.testing import FlaskClient
from google.protobuf import json_format
from werkzeug.datastructures import MultiDict

from pasar.order.v1.error_reason_pb2 import ErrorReason as OrderErrorReason
from pasar_gateway.bindings import contract_bindings
from pasar_gateway.transcoding import RequestTranscoder

ORDER_BODY = {
    "customerEmail": "budi@example.com",
    "lines": [{"packageId": "pulsa-nusantara-10k", "quantity": 1}],
    "paymentChannelCode": "bca_va",
}


def test_list_products_is_proto3_json_with_defaults(client: FlaskClient) -> None:
    response = client.get("/api/v1/products")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert set(body) == {"products", "nextPageToken"}
    product = body["products"][0]
    assert product["id"] == "pulsa-nusantara"
    assert product["state"] == "PRODUCT_STATE_ACTIVE"  # enums by name
    assert product["minPrice"] == {"currencyCode": "IDR", "amount": "10000"}  # int64 as a string
    assert product["description"] == ""  # default values are present
    assert product["imageUrl"] == ""
    assert product["createTime"] == "2027-01-15T08:00:00Z"
    assert product["packages"][0]["stockAvailable"] == 10


def test_study_and_canonical_product_routes_answer_the_same(client: FlaskClient) -> None:
    canonical = client.get("/api/v1/products/pulsa-nusantara")
    study = client.get("/api/v1/product/pulsa-nusantara")
    assert canonical.status_code == study.status_code == 200
    assert canonical.data == study.data
    assert canonical.get_json()["id"] == "pulsa-nusantara"  # response_body: the bare product


def test_study_and_canonical_payment_routes_answer_the_same(client: FlaskClient) -> None:
    assert client.get("/api/v1/payments").data == client.get("/api/v1/payment-channels").data
    channels = client.get("/api/v1/payment-channels").get_json()["paymentChannels"]
    assert channels[0]["paymentTtl"] == "86400s"
    canonical = client.get(f"/api/v1/payments/{PAYMENT_ID}")
    study = client.get(f"/api/v1/payment/{PAYMENT_ID}")
    assert canonical.status_code == study.status_code == 200
    assert canonical.data == study.data
    assert canonical.get_json()["virtualAccount"]["accountNumber"] == "8808123456789"


@pytest.mark.parametrize("name", ["pageSize", "page_size"])
def test_query_parameters_take_json_or_proto_names(client: FlaskClient, shop: FakeShop, name: str) -> None:
    response = client.get(f"/api/v1/products?{name}=1&categoryId=pulsa")
    assert response.status_code == 200
    body = response.get_json()
    assert [product["id"] for product in body["products"]] == ["pulsa-nusantara"]
    assert body["nextPageToken"] == "1"
    request = shop.product.requests[-1]
    assert (request.page_size, request.category_id) == (1, "pulsa")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("pageSize=many", "page_size"),
        ("pageSize=1&pageSize=2", "page_size"),
        ("colour=red", "colour"),
        ("pageSize=99999999999", "page_size"),
    ],
)
def test_bad_query_parameters_are_400_naming_the_field(client: FlaskClient, query: str, field: str) -> None:
    response = client.get(f"/api/v1/products?{query}")
    assert response.status_code == 400
    error = response.get_json()["error"]
    assert error["code"] == "INVALID_ARGUMENT"
    assert error["details"][0]["@type"] == "type.googleapis.com/google.rpc.BadRequest"
    assert error["details"][0]["fieldViolations"][0]["field"] == field


def test_path_variable_fields_cannot_be_set_by_query(client: FlaskClient) -> None:
    response = client.get("/api/v1/products/pulsa-nusantara?id=other")
    assert response.status_code == 400
    assert violated_fields(response.get_json()) == ["id"]


def test_create_order_and_read_it_with_the_token(client: FlaskClient, shop: FakeShop) -> None:
    created = client.post("/api/v1/orders", json=ORDER_BODY)
    assert created.status_code == 200
    body = created.get_json()
    assert set(body) == {"order", "accessToken", "payment"}
    order_id, token = body["order"]["id"], body["accessToken"]
    by_query = client.get(f"/api/v1/orders/{order_id}?token={token}")
    by_header = client.get(f"/api/v1/orders/{order_id}", headers={"X-Order-Token": token})
    study = client.get(f"/api/v1/order/{order_id}?token={token}")
    assert by_query.status_code == by_header.status_code == study.status_code == 200
    assert by_query.data == by_header.data == study.data
    assert by_query.get_json()["id"] == order_id
    assert by_query.headers["Cache-Control"] == "no-store"
    wrong = client.get(f"/api/v1/orders/{order_id}?token=wrong")
    assert wrong.status_code == 404
    assert wrong.get_json()["error"]["details"][0]["reason"] == OrderErrorReason.Name(
        OrderErrorReason.ORDER_NOT_FOUND
    )


def test_idempotency_key_header_makes_a_retry_return_the_same_order(
    client: FlaskClient, shop: FakeShop
) -> None:
    first = client.post("/api/v1/orders", json=ORDER_BODY, headers={"Idempotency-Key": "beli-123"})
    again = client.post("/api/v1/orders", json=ORDER_BODY, headers={"Idempotency-Key": "beli-123"})
    assert first.status_code == again.status_code == 200
    assert first.get_json()["order"]["id"] == again.get_json()["order"]["id"]
    assert shop.order.requests[-1].request_id == "beli-123"
    in_body = client.post("/api/v1/orders", json={**ORDER_BODY, "requestId": "beli-123"})
    assert in_body.get_json()["order"]["id"] == first.get_json()["order"]["id"]


def test_idempotency_key_and_body_request_id_must_agree(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/orders", json={**ORDER_BODY, "requestId": "a"}, headers={"Idempotency-Key": "b"}
    )
    assert response.status_code == 400
    assert response.get_json()["error"]["details"][0]["fieldViolations"][0]["field"] == "request_id"


def test_cancel_takes_the_token_in_the_body_or_header(client: FlaskClient) -> None:
    body = client.post("/api/v1/orders", json=ORDER_BODY).get_json()
    order_id, token = body["order"]["id"], body["accessToken"]
    cancelled = client.post(f"/api/v1/orders/{order_id}:cancel", json={"token": token})
    assert cancelled.status_code == 200
    assert cancelled.get_json()["state"] == "ORDER_STATE_CANCELLED"
    again = client.post(f"/api/v1/orders/{order_id}:cancel", headers={"X-Order-Token": token})
    assert again.status_code == 200


def test_simulate_payment_takes_an_empty_body(client: FlaskClient) -> None:
    response = client.post(f"/api/v1/payments/{PAYMENT_ID}:simulate")
    assert response.status_code == 200
    assert response.get_json()["state"] == "PAYMENT_STATE_PAID"
    assert client.get(f"/api/v1/payments/{PAYMENT_ID}:simulate").status_code == 404  # a GET of that id


@pytest.mark.parametrize(
    ("body", "content_type", "field", "fragment"),
    [
        (b"{not json", "application/json", "body", "not valid JSON"),
        (b"\xff\xfe{}", "application/json", "body", "UTF-8"),
        (b"[]", "application/json", "body", "JSON object"),
        (b"null", "application/json", "body", "JSON object"),
        (b'{"colour": "red"}', "application/json", "colour", "unknown field"),
        (b'{"lines": [{"quantity": "many"}]}', "application/json", "lines[0].quantity", "quantity"),
        (b'{"lines": [{"quantity": 1.5}]}', "application/json", "lines[0].quantity", "1.5"),
        (b'{"customerEmail": 5}', "application/json", "customerEmail", "customerEmail"),
        (b'{"lines": 5}', "application/json", "lines", "lines"),
        (b'{"a": 1, "a": 2}', "application/json", "a", "more than once"),
        (b'{"lines": [{"quantity": NaN}]}', "application/json", "body", "NaN"),
        (b"[" * 100_000 + b"]" * 100_000, "application/json", "body", ""),
    ],
)
def test_bad_bodies_are_400_naming_the_field(
    make_app: object, body: bytes, content_type: str, field: str, fragment: str
) -> None:
    from conftest import AppFactory

    assert callable(make_app)
    factory: AppFactory = make_app
    client = factory(MAX_BODY_BYTES=1_000_000).test_client()
    response = client.post("/api/v1/orders", data=body, content_type=content_type)
    assert response.status_code == 400, response.data
    error = response.get_json()["error"]
    assert error["code"] == "INVALID_ARGUMENT"
    assert fragment in error["message"]
    assert error["details"][0]["fieldViolations"][0]["field"] == field


def test_a_body_that_is_not_json_is_415(client: FlaskClient) -> None:
    response = client.post(
        "/api/v1/orders", data="customerEmail=x", content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 415
    assert response.get_json()["error"]["code"] == "INVALID_ARGUMENT"


def test_json_without_a_content_type_is_accepted(client: FlaskClient) -> None:
    response = client.post("/api/v1/orders", data=json.dumps(ORDER_BODY))
    assert response.status_code == 200


def test_query_parameters_are_refused_where_the_body_is_the_request(client: FlaskClient) -> None:
    response = client.post(f"/api/v1/orders/{ORDER_ID}:cancel?token=x", json={})
    assert response.status_code == 400
    assert violated_fields(response.get_json()) == ["token"]


@pytest.mark.parametrize("value", ["pulsa-nusantara", "kopi-tubruk-é", "a b", "x%y"])
def test_a_path_variable_sets_its_field_as_json_format_does(value: str) -> None:
    """A plain string path variable is set directly (no json_format parsing): the message is
    the one json_format makes of the same text, whatever characters it holds."""
    binding = next(b for b in contract_bindings() if b.template.text == "/api/v1/products/{id}")
    transcoder = RequestTranscoder(binding)
    made = transcoder.request({"v0": value}, MultiDict(), {}, None)
    expected = transcoder.request_class()
    json_format.ParseDict({"id": value}, expected)
    assert made == expected
    assert made.SerializeToString(deterministic=True) == expected.SerializeToString(deterministic=True)
