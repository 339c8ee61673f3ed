"""The gateway repeats a failed call where the contracts' idempotency_level says a repeat is
safe, whatever the route's HTTP verb, and nowhere else; it caches only declared reads."""

from __future__ import annotations

import grpc
import pytest
from fakes import PAYMENT_ID, Behaviour, FakeShop
from flask.testing import FlaskClient

from pasar.order.v1 import order_service_pb2
from pasar.payment.v1 import payment_service_pb2
from pasar.product.v1 import product_admin_service_pb2, product_service_pb2
from pasar_gateway.bindings import contract_bindings
from pasar_gateway.catalog_cache import is_cacheable
from pasar_kit.idempotency import has_no_side_effects

ORDER_BODY = {"customerEmail": "budi@example.co.id", "lines": [{"packageId": "pulsa-10k", "quantity": 1}]}


class FailsOnce(Behaviour):
    """Answers the first call with fail_with (ErrorInfo attached, as a Pasar service does),
    then serves."""

    def enter(self, method: str, request: object, context: grpc.ServicerContext) -> None:
        try:
            super().enter(method, request, context)
        finally:
            self.fail_with = None


FAILURES = [grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.ABORTED]


@pytest.mark.parametrize("failure", FAILURES, ids=[code.name for code in FAILURES])
def test_a_declared_read_that_fails_once_is_repeated(
    client: FlaskClient, shop: FakeShop, failure: grpc.StatusCode
) -> None:
    shop.payments.behaviour = behaviour = FailsOnce(fail_with=failure)  # GetPayment: NO_SIDE_EFFECTS
    response = client.get(f"/api/v1/payments/{PAYMENT_ID}")
    assert response.status_code == 200
    assert len(behaviour.metadata("GetPayment")) == 2


@pytest.mark.parametrize("failure", FAILURES, ids=[code.name for code in FAILURES])
def test_a_declared_idempotent_post_that_fails_once_is_repeated(
    client: FlaskClient, shop: FakeShop, failure: grpc.StatusCode
) -> None:
    shop.payments.behaviour = behaviour = FailsOnce(fail_with=failure)  # SimulatePayment: IDEMPOTENT
    response = client.post(f"/api/v1/payments/{PAYMENT_ID}:simulate")
    assert response.status_code == 200
    assert len(behaviour.metadata("SimulatePayment")) == 2


@pytest.mark.parametrize("failure", FAILURES, ids=[code.name for code in FAILURES])
def test_a_method_that_declares_no_level_is_not_repeated(
    client: FlaskClient, shop: FakeShop, failure: grpc.StatusCode
) -> None:
    shop.orders.behaviour = behaviour = FailsOnce(fail_with=failure)  # CreateOrder: no level
    response = client.post("/api/v1/orders", json={**ORDER_BODY, "paymentChannelCode": "bca_va"})
    assert response.status_code in {503, 409}
    assert response.get_json()["error"]["code"] == failure.name
    assert len(behaviour.metadata("CreateOrder")) == 1


def test_only_declared_reads_without_a_shoppers_order_or_payment_are_cached() -> None:
    services = [
        product_service_pb2.DESCRIPTOR.services_by_name["ProductService"],
        product_admin_service_pb2.DESCRIPTOR.services_by_name["ProductAdminService"],
        payment_service_pb2.DESCRIPTOR.services_by_name["PaymentService"],
        order_service_pb2.DESCRIPTOR.services_by_name["OrderService"],
    ]
    methods = [method for service in services for method in service.methods]
    cacheable = {method.full_name for method in methods if is_cacheable(method)}
    assert all(has_no_side_effects(method) for method in methods if method.full_name in cacheable)
    routed = {binding.method.full_name for binding in contract_bindings()}
    assert cacheable & routed == {
        "pasar.product.v1.ProductService.ListCategories",
        "pasar.product.v1.ProductService.ListProducts",
        "pasar.product.v1.ProductService.GetProduct",
        "pasar.payment.v1.PaymentService.ListPaymentChannels",
    }


def test_a_shoppers_payment_is_read_afresh_every_time(client: FlaskClient, shop: FakeShop) -> None:
    first = client.get(f"/api/v1/payments/{PAYMENT_ID}")
    assert client.post(f"/api/v1/payments/{PAYMENT_ID}:simulate").status_code == 200
    second = client.get(f"/api/v1/payments/{PAYMENT_ID}")
    assert first.get_json()["state"] == "PAYMENT_STATE_PENDING"
    assert second.get_json()["state"] == "PAYMENT_STATE_PAID"
    assert len(shop.payment.metadata("GetPayment")) == 2
