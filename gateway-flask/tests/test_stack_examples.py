"""The API page's examples, sent to the real shop (demo catalog) as the page shows them.

Each route's example request goes over HTTP exactly as http_example writes it, to the
gateway in front of the real services, and must succeed; the real answer must have every
key the example's answer has, at every depth. The ids the shop makes itself (an order's id,
token, number and payment) are the one thing replaced: the example's values by those of
the orders this test places with CreateOrder's own example. The catalog examples change
the catalog (a category, a product and its package, which the last example deletes), so
the shop is this test's own.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import pytest
import requests
from google.protobuf import descriptor_pb2, json_format

from pasar.order.v1 import order_service_pb2
from pasar.payment.v1 import payment_service_pb2
from pasar.product.v1 import product_admin_service_pb2
from pasar_gateway.api import is_admin
from pasar_gateway.bindings import HttpBinding, contract_bindings
from pasar_gateway.examples import MethodExample, http_example, method_example
from pasar_testkit.stack import ADMIN_TOKEN, STACK_COMPONENTS, Stack, sqlite_database_urls

CANONICAL = {binding.method.full_name: binding for binding in contract_bindings() if binding.position == 0}
ORDERS = order_service_pb2.DESCRIPTOR.services_by_name["OrderService"].methods_by_name
PAYMENTS = payment_service_pb2.DESCRIPTOR.services_by_name["PaymentService"].methods_by_name
CREATE_ORDER = ORDERS["CreateOrder"].full_name
CANCEL_ORDER = ORDERS["CancelOrder"].full_name
SIMULATE_PAYMENT = PAYMENTS["SimulatePayment"].full_name
LOOKUP_ORDER = ORDERS["LookupOrder"].full_name
ADMIN_METHODS = product_admin_service_pb2.DESCRIPTOR.services_by_name["ProductAdminService"].methods_by_name
ADMIN_STEPS = (
    "CreateCategory",
    "CreateProduct",
    "CreatePackage",
    "UpdateProduct",
    "UpdatePackage",
    "DeleteProduct",
)


@pytest.fixture(scope="module")
def shop_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    base = Path(tmp_path_factory.mktemp("stack"))
    gateway = {"PASAR_ORDER_RATE_LIMIT": "off", "PASAR_ORDER_LOOKUP_RATE_LIMIT": "off"}
    with Stack(base, sqlite_database_urls(base), component_env={"gateway": gateway}) as stack:
        stack.load_demo_catalog()
        stack.start(*STACK_COMPONENTS)
        yield stack.gateway_url


def example_of(method: str) -> MethodExample:
    example = method_example(CANONICAL[method].method)
    assert example is not None, f"{method} has no example"
    return example


def replaced(example: MethodExample, values: Mapping[str, str]) -> MethodExample:
    """The example with each string value found in values replaced by its counterpart."""

    def walk(value: Any) -> Any:
        if isinstance(value, dict):
            return {key: walk(item) for key, item in value.items()}
        if isinstance(value, list):
            return [walk(item) for item in value]
        return values.get(value, value) if isinstance(value, str) else value

    request = type(example.request)()
    json_format.ParseDict(walk(json_format.MessageToDict(example.request)), request)
    return MethodExample(request, example.response)


def send(shop_url: str, binding: HttpBinding, example: MethodExample) -> Any:
    """Sends the route's example as the page shows it; its answer when it succeeds."""
    shown = http_example(binding, example)
    headers = {"Authorization": f"Bearer {ADMIN_TOKEN}"} if is_admin(binding) else {}
    response = requests.request(
        shown.http_method, shop_url + shown.target, json=shown.body, headers=headers, timeout=30
    )
    assert response.status_code == 200, f"{shown.http_method} {shown.target}: {response.text}"
    return response.json()


def missing_keys(expected: Any, real: Any, where: str = "") -> list[str]:
    """The keys of expected (at any depth) that real lacks; list items against real's item at that place."""
    if isinstance(expected, dict):
        if not isinstance(real, dict):
            return [where or "."]
        found = []
        for key, value in expected.items():
            if key not in real:
                found.append(f"{where}.{key}")
            else:
                found += missing_keys(value, real[key], f"{where}.{key}")
        return found
    if isinstance(expected, list) and expected:
        if not isinstance(real, list) or not real:
            return [f"{where}[]"]
        return [
            key
            for index, item in enumerate(expected)
            for key in missing_keys(item, real[min(index, len(real) - 1)], f"{where}[{index}]")
        ]
    return []


def expected_answer(binding: HttpBinding, example: MethodExample) -> Any:
    """The example's answer as written in its file (only what the example sets), response_body applied."""
    document = json_format.MessageToDict(example.response)
    field = binding.response_field
    return document.get(field.json_name, {}) if field is not None else document


def ids_of(example_order: Mapping[str, Any], real_order: Mapping[str, Any]) -> dict[str, str]:
    """The example's values of what the shop makes itself, to the real order's."""
    example, real = example_order["order"], real_order["order"]
    return {
        example["id"]: real["id"],
        example["paymentId"]: real["paymentId"],
        example["orderNumber"]: real["orderNumber"],
        example_order["accessToken"]: real_order["accessToken"],
    }


def test_every_example_works_on_the_real_shop(shop_url: str) -> None:
    sent: list[str] = []

    def check(method: str, values: Mapping[str, str] | None = None) -> Any:
        binding = CANONICAL[method]
        example = replaced(example_of(method), values or {})
        answer = send(shop_url, binding, example)
        missing = missing_keys(expected_answer(binding, example), answer)
        assert not missing, f"{method}: the real answer lacks {missing}"
        sent.append(method)
        return answer

    # An order placed with CreateOrder's example; its ids stand in for the example's.
    placed = check(CREATE_ORDER)
    example_order = json_format.MessageToDict(example_of(CREATE_ORDER).response)
    ids = ids_of(example_order, placed)
    # Every safe example (the contracts' NO_SIDE_EFFECTS methods: the catalog, the channels,
    # a destination, the order and its payment), then the look-up of the order and its payment.
    for method, binding in CANONICAL.items():
        if binding.method.GetOptions().idempotency_level == descriptor_pb2.MethodOptions.NO_SIDE_EFFECTS:
            check(method, ids)
    check(LOOKUP_ORDER, ids)
    check(SIMULATE_PAYMENT, ids)  # pays the order placed above

    # Cancelling needs an unpaid order: a second one (another idempotency key) for the
    # example's, which is another order of the same shopper.
    request_id = json_format.MessageToDict(example_of(CREATE_ORDER).request)["requestId"]
    unpaid = check(CREATE_ORDER, {request_id: str(uuid.uuid4())})
    cancelled = json_format.MessageToDict(example_of(CANCEL_ORDER).request)
    check(CANCEL_ORDER, {cancelled["id"]: unpaid["order"]["id"], cancelled["token"]: unpaid["accessToken"]})

    # The catalog's administration.
    for name in ADMIN_STEPS:
        check(ADMIN_METHODS[name].full_name)

    assert set(sent) == set(CANONICAL), f"examples never sent: {set(CANONICAL) - set(sent)}"
