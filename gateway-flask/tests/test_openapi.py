"""The OpenAPI document and the API page are generated from the contracts and describe every route."""

from __future__ import annotations

from typing import Any

import pytest
from flask.testing import FlaskClient
from openapi_spec_validator import validate

from pasar_gateway.bindings import contract_bindings
from pasar_gateway.openapi import contract_comments, openapi_path


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body: dict[str, Any] = response.get_json()
    return body


def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"].startswith("3.1")


def test_every_binding_is_an_operation(document: dict[str, Any]) -> None:
    operations = {(method.upper(), path) for path, methods in document["paths"].items() for method in methods}
    expected = {(b.http_method, openapi_path(b.template.text)) for b in contract_bindings()}
    assert operations == expected
    assert ("GET", "/api/v1/product/{id}") in operations  # the study's routes are there too
    assert ("GET", "/api/v1/payments") in operations
    assert len(
        {op["operationId"] for methods in document["paths"].values() for op in methods.values()}
    ) == len(operations)


def test_internal_methods_have_no_route(document: dict[str, Any], client: FlaskClient) -> None:
    grpc_methods = {op["x-grpc-method"] for methods in document["paths"].values() for op in methods.values()}
    assert "/pasar.product.v1.ProductService/ReserveStock" not in grpc_methods
    assert "/pasar.payment.v1.PaymentService/NotifyPayment" not in grpc_methods
    assert client.post("/api/v1/pasar.product.v1.ProductService/ReserveStock", json={}).status_code == 404
    assert client.post("/api/v1/reservations", json={}).status_code == 404


def test_schemas_follow_proto3_json_and_carry_the_comments(document: dict[str, Any]) -> None:
    schemas = document["components"]["schemas"]
    money = schemas["pasar.common.v1.Money"]
    assert money["properties"]["amount"]["type"] == "string"  # int64 as a string
    assert money["properties"]["currencyCode"]["pattern"] == "^[A-Z]{3}$"
    assert money["description"].startswith("An amount of money")
    product = schemas["pasar.product.v1.Product"]
    assert product["properties"]["state"]["enum"][1] == "PRODUCT_STATE_ACTIVE"
    assert product["properties"]["createTime"]["format"] == "date-time"
    assert product["properties"]["packages"]["items"] == {
        "$ref": "#/components/schemas/pasar.product.v1.Package"
    }
    assert product["properties"]["displayName"]["description"] == "The name shown to shoppers."
    assert product["additionalProperties"] is False
    assert "Error" in schemas


def test_operations_describe_parameters_bodies_and_security(document: dict[str, Any]) -> None:
    list_products = document["paths"]["/api/v1/products"]["get"]
    names = {parameter["name"] for parameter in list_products["parameters"]}
    assert names == {"pageSize", "pageToken", "categoryId", "query"}
    page_size = next(p for p in list_products["parameters"] if p["name"] == "pageSize")
    assert (page_size["schema"]["minimum"], page_size["schema"]["maximum"]) == (0, 100)
    assert list_products["summary"].startswith("Lists active products")
    create_order = document["paths"]["/api/v1/orders"]["post"]
    assert (
        create_order["requestBody"]["content"]["application/json"]["schema"]["properties"]["lines"][
            "minItems"
        ]
        == 1
    )
    assert {p["name"] for p in create_order["parameters"]} == {"Idempotency-Key"}
    get_order = document["paths"]["/api/v1/orders/{id}"]["get"]
    assert {p["name"] for p in get_order["parameters"]} == {"id", "token", "X-Order-Token"}
    update = document["paths"]["/api/v1/admin/products/{productId}"]["patch"]
    assert update["security"] == [{"adminToken": []}]
    assert {p["name"] for p in update["parameters"]} == {"productId", "updateMask"}  # {product.id}
    assert "/api/v1/admin/products/{productId}/packages" in document["paths"]  # {product_id}
    assert "401" in update["responses"]
    assert "403" in update["responses"]
    assert "304" in document["paths"]["/api/v1/categories"]["get"]["responses"]
    study = document["paths"]["/api/v1/payments"]["get"]
    assert "original study" in study["description"]


def test_comments_are_read_from_the_descriptor_set() -> None:
    comments = contract_comments()
    assert comments["pasar.order.v1.OrderService.CreateOrder"].startswith("Places an order")
    assert comments["pasar.payment.v1.PaymentState.PAYMENT_STATE_PAID"].startswith("The provider confirmed")


def test_the_api_page_is_rendered_by_the_gateway(client: FlaskClient) -> None:
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "<script" not in page
    assert "http://" not in page.replace("http://127.0.0.1", "")
    assert "/api/v1/orders/{id}:cancel" in page
    assert "Places an order" in page
    assert "pasar.common.v1.Money" in page


@pytest.mark.parametrize("root", ["/api/v1/", "/api/v1"])
def test_the_api_root_points_to_the_docs_and_the_document(client: FlaskClient, root: str) -> None:
    response = client.get(root)
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    assert body["docs"] == "/api/v1/docs"
    assert body["openapi"] == "/api/v1/openapi.json"
    assert body["name"] == "Pasar API"
    assert client.get(body["docs"]).status_code == 200
    assert client.get(body["openapi"]).get_json()["info"]["version"] == body["version"]
