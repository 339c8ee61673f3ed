"""The served OpenAPI document is the contracts' generated one with the gateway's overlay, and
describes exactly the routes the gateway serves."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import flask
import pytest
from flask.testing import FlaskClient
from openapi_spec_validator import validate

import pasar_contracts
from pasar.fulfillment.v1.error_reason_pb2 import ErrorReason
from pasar_gateway.api import is_admin, is_catalog_read
from pasar_gateway.bindings import contract_bindings
from pasar_gateway.openapi import generated_document, openapi_path, parameter_name

REPO = Path(__file__).resolve().parents[2]
CONTRACTS = REPO / "contracts"
HTTP_METHODS = {"get", "put", "post", "delete", "patch"}
GATEWAY_ROUTES = {("GET", "/healthz"), ("GET", "/readyz")}


@pytest.fixture
def document(client: FlaskClient) -> dict[str, Any]:
    response = client.get("/api/v1/openapi.json")
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body: dict[str, Any] = response.get_json()
    return body


def operations(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (method.upper(), path): operation
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
        if method in HTTP_METHODS
    }


def served_routes(app: flask.Flask) -> set[tuple[str, str]]:
    """The routes the application serves from its binding table, and its own non-gRPC ones."""
    served = set()
    for binding in contract_bindings():
        rules = [rule for rule in app.url_map.iter_rules() if rule.endpoint == f"api.{binding.operation_id}"]
        assert len(rules) == 1
        assert binding.http_method in (rules[0].methods or ())
        served.add((binding.http_method, openapi_path(binding.template.text)))
    for method, path in GATEWAY_ROUTES:
        assert any(rule.rule == path and method in (rule.methods or ()) for rule in app.url_map.iter_rules())
        served.add((method, path))
    return served


def test_the_document_is_valid_openapi_3(document: dict[str, Any]) -> None:
    validate(document)
    assert document["openapi"].startswith("3.1")
    assert document["info"]["version"] == pasar_contracts.__version__


def test_every_served_route_is_an_operation_and_every_operation_is_served(
    document: dict[str, Any], app: flask.Flask
) -> None:
    assert set(operations(document)) == served_routes(app)
    assert ("GET", "/api/v1/product/{id}") in operations(document)  # the study's routes are there too
    assert ("PATCH", "/api/v1/admin/products/{productId}") in operations(document)  # {product.id}
    assert ("POST", "/api/v1/admin/products/{productId}/packages") in operations(document)  # {product_id}
    ids = [operation["operationId"] for operation in operations(document).values()]
    assert len(set(ids)) == len(ids)


def test_internal_methods_have_no_route(document: dict[str, Any], client: FlaskClient) -> None:
    grpc_methods = {operation.get("x-grpc-method") for operation in operations(document).values()}
    assert "/pasar.product.v1.ProductService/GetProduct" in grpc_methods
    assert "/pasar.product.v1.ProductService/ReserveStock" not in grpc_methods
    assert "/pasar.payment.v1.PaymentService/NotifyPayment" not in grpc_methods
    assert "/pasar.payment.v1.PaymentService/RefundPayment" not in grpc_methods
    fulfillment = {method for method in grpc_methods if "FulfillmentService" in str(method)}
    assert fulfillment == {"/pasar.fulfillment.v1.FulfillmentService/LookupDestination"}
    assert client.post("/api/v1/pasar.product.v1.ProductService/ReserveStock", json={}).status_code == 404


def without_examples(value: Any) -> Any:
    """value without the examples the overlay adds (the gateway's examples/, test_docs.py)."""
    if isinstance(value, dict):
        return {key: without_examples(item) for key, item in value.items() if key != "example"}
    if isinstance(value, list):
        return [without_examples(item) for item in value]
    return value


def test_schemas_and_parameters_are_the_generated_ones(document: dict[str, Any]) -> None:
    generated = generated_document()
    for name, schema in generated["components"]["schemas"].items():
        if name != "google.protobuf.Duration":  # the one schema the overlay corrects
            assert document["components"]["schemas"][name] == schema
    for (method, path), operation in operations(generated).items():
        served = without_examples(operations(document)[method, openapi_path(path)])
        assert served.get("requestBody") == operation.get("requestBody")
        assert served["responses"]["200"]["content"] == operation["responses"]["200"]["content"]
        generated_parameters = operation.get("parameters", [])
        for served_parameter, parameter in zip(served["parameters"], generated_parameters, strict=False):
            own_comment = (
                {"description": served_parameter["description"]} if parameter["name"] == "updateMask" else {}
            )
            assert served_parameter == {**parameter, "name": served_parameter["name"], **own_comment}
            assert served_parameter["name"] == (
                parameter_name(parameter["name"]) if parameter["in"] == "path" else parameter["name"]
            )
        assert len(served["parameters"]) >= len(generated_parameters)
    # What the generator reads from the contracts: comments, protovalidate rules, proto3 JSON.
    schemas = document["components"]["schemas"]
    money = schemas["pasar.common.v1.Money"]
    assert money["description"].startswith("An amount of money")
    assert money["properties"]["currencyCode"]["pattern"] == "^[A-Z]{3}$"
    assert "string" in money["properties"]["amount"]["type"]  # int64 is a string in proto3 JSON
    list_products = document["paths"]["/api/v1/products"]["get"]
    page_size = next(p for p in list_products["parameters"] if p["name"] == "pageSize")
    assert (page_size["schema"]["minimum"], page_size["schema"]["maximum"]) == (0, 100)
    update_product = document["paths"]["/api/v1/admin/products/{productId}"]["patch"]
    update_mask = next(p for p in update_product["parameters"] if p["name"] == "updateMask")
    assert update_mask["description"].startswith(
        "The fields to change: any of display_name"
    )  # not FieldMask's
    get_order = document["paths"]["/api/v1/orders/{id}"]["get"]
    assert get_order["responses"]["200"]["content"]["application/json"]["schema"]["$ref"] == (
        "#/components/schemas/pasar.order.v1.Order"  # response_body: "order"
    )


def test_the_gateway_overlay_is_present(document: dict[str, Any]) -> None:
    components = document["components"]
    assert components["schemas"]["Error"]["required"] == ["error"]
    assert components["securitySchemes"]["adminToken"]["scheme"] == "bearer"
    create_order = document["paths"]["/api/v1/orders"]["post"]
    assert [p["name"] for p in create_order["parameters"] if p["in"] == "header"] == ["Idempotency-Key"]
    assert create_order["responses"]["422"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/Error"
    )
    get_order = document["paths"]["/api/v1/orders/{id}"]["get"]
    assert [p["name"] for p in get_order["parameters"] if p["in"] == "header"] == ["X-Order-Token"]
    for binding in contract_bindings():
        operation = document["paths"][openapi_path(binding.template.text)][binding.http_method.lower()]
        assert operation["responses"]["default"] == {"$ref": "#/components/responses/Error"}
        assert "X-Request-Id" in operation["responses"]["200"]["headers"]
        assert ("304" in operation["responses"]) == is_catalog_read(binding)
        assert ("ETag" in operation["responses"]["200"]["headers"]) == is_catalog_read(binding)
        assert (operation.get("security") == [{"adminToken": []}]) == is_admin(binding)
        assert ("401" in operation["responses"]) == is_admin(binding)
    assert "304" in document["paths"]["/api/v1/categories"]["get"]["responses"]
    lookup = document["paths"]["/api/v1/destinations:lookup"]["post"]
    assert lookup["x-grpc-method"] == "/pasar.fulfillment.v1.FulfillmentService/LookupDestination"
    assert lookup["requestBody"]["content"]["application/json"]["schema"]["$ref"].endswith(
        "/pasar.fulfillment.v1.LookupDestinationRequest"
    )
    assert ErrorReason.Name(ErrorReason.LOOKUP_NOT_SUPPORTED) in lookup["responses"]["422"]["description"]
    assert "304" not in lookup["responses"]  # a shopper's destination is never cached
    assert set(document["paths"]["/readyz"]["get"]["responses"]) == {"200", "503"}


def test_a_duration_is_described_as_proto3_json_writes_it(document: dict[str, Any]) -> None:
    """The generator says `format: duration` (ISO 8601, "PT15M"); the gateway writes "900s"."""
    duration = document["components"]["schemas"]["google.protobuf.Duration"]
    assert generated_document()["components"]["schemas"]["google.protobuf.Duration"]["format"] == "duration"
    assert "format" not in duration
    assert re.fullmatch(duration["pattern"], "900s")
    assert re.fullmatch(duration["pattern"], "0.5s")
    assert not re.fullmatch(duration["pattern"], "PT15M")


def test_the_committed_documents_are_one(document: dict[str, Any]) -> None:
    """The copy other teams read (contracts/openapi) and the one the gateway ships are the same."""
    committed = json.loads((CONTRACTS / "openapi" / "pasar.openapi.json").read_text())
    assert committed == generated_document()


def test_a_contract_comment_change_shows_up_after_regeneration(tmp_path: Path) -> None:
    """Regenerating with the contracts' own template carries a changed comment into the document."""
    copy = tmp_path / "contracts"
    for name in ("proto", "openapi", ".build/third_party"):
        shutil.copytree(CONTRACTS / name, copy / name)
    for name in ("buf.yaml", "buf.gen.openapi.yaml"):
        shutil.copy(CONTRACTS / name, copy / name)
    (tmp_path / ".tools").symlink_to(REPO / ".tools")
    proto = copy / "proto/pasar/product/v1/product_service.proto"
    text = proto.read_text()
    assert "// Gets one active product" in text
    proto.write_text(
        text.replace(
            "// Gets one active product", "// Fetches one product, freshly worded. Gets one active product", 1
        )
    )
    subprocess.run(
        [
            REPO / "node_modules/.bin/buf",
            "generate",
            "--template",
            "buf.gen.openapi.yaml",
            "-o",
            tmp_path / "out",
        ],
        cwd=copy,
        check=True,
        env={**os.environ},
    )
    regenerated = json.loads((tmp_path / "out/openapi/pasar.openapi.json").read_text())
    operation = regenerated["paths"]["/api/v1/products/{id}"]["get"]
    assert "Fetches one product, freshly worded." in operation["description"]
    assert "freshly worded" not in json.dumps(generated_document())


def test_the_api_page_is_rendered_by_the_gateway(client: FlaskClient) -> None:
    response = client.get("/api/v1/docs")
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert "<script" not in page
    assert all(url.startswith(("/", "#")) for url in re.findall(r'(?:src|href)="([^"]*)"', page))
    assert "/api/v1/orders/{id}:cancel" in page
    assert "/api/v1/destinations:lookup" in page
    assert "LookupDestinationRequest" in page
    assert "Places an order" in page
    assert "pasar.common.v1.Money" in page
    assert "providerReference" in page  # a field beside a oneof (Payment's instructions)
    assert "/healthz" in page


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
