"""The contracts' idempotency_level options, as pasar_kit.idempotency reads them."""

from __future__ import annotations

from google.protobuf.descriptor import ServiceDescriptor
from google.protobuf.descriptor_pb2 import MethodOptions

from pasar.fulfillment.v1 import fulfillment_service_pb2
from pasar.order.v1 import order_service_pb2
from pasar.payment.v1 import payment_service_pb2
from pasar.product.v1 import product_admin_service_pb2, product_service_pb2
from pasar_kit.idempotency import has_no_side_effects, idempotency_level, repeatable_methods

READ = MethodOptions.NO_SIDE_EFFECTS
KEYED = MethodOptions.IDEMPOTENT
UNKNOWN = MethodOptions.IDEMPOTENCY_UNKNOWN

SERVICES: list[ServiceDescriptor] = [
    product_service_pb2.DESCRIPTOR.services_by_name["ProductService"],
    product_admin_service_pb2.DESCRIPTOR.services_by_name["ProductAdminService"],
    payment_service_pb2.DESCRIPTOR.services_by_name["PaymentService"],
    order_service_pb2.DESCRIPTOR.services_by_name["OrderService"],
    fulfillment_service_pb2.DESCRIPTOR.services_by_name["FulfillmentService"],
]

# Every method of the contracts with the level its comment and its implementation justify.
DECLARED = {
    "pasar.product.v1.ProductService.ListCategories": READ,
    "pasar.product.v1.ProductService.ListProducts": READ,
    "pasar.product.v1.ProductService.GetProduct": READ,
    "pasar.product.v1.ProductService.BatchGetPackages": READ,
    "pasar.product.v1.ProductService.ReserveStock": KEYED,
    "pasar.product.v1.ProductService.CommitReservation": KEYED,
    "pasar.product.v1.ProductService.ReleaseReservation": KEYED,
    "pasar.product.v1.ProductAdminService.CreateCategory": UNKNOWN,
    "pasar.product.v1.ProductAdminService.CreateProduct": UNKNOWN,
    "pasar.product.v1.ProductAdminService.UpdateProduct": UNKNOWN,
    "pasar.product.v1.ProductAdminService.DeleteProduct": KEYED,
    "pasar.product.v1.ProductAdminService.CreatePackage": UNKNOWN,
    "pasar.product.v1.ProductAdminService.UpdatePackage": UNKNOWN,
    "pasar.payment.v1.PaymentService.ListPaymentChannels": READ,
    "pasar.payment.v1.PaymentService.GetPayment": READ,
    "pasar.payment.v1.PaymentService.SimulatePayment": KEYED,
    "pasar.payment.v1.PaymentService.CreatePayment": KEYED,
    "pasar.payment.v1.PaymentService.FindPaymentByOrder": READ,
    "pasar.payment.v1.PaymentService.CancelPayment": KEYED,
    "pasar.payment.v1.PaymentService.RefundPayment": KEYED,
    "pasar.payment.v1.PaymentService.NotifyPayment": KEYED,
    "pasar.payment.v1.PaymentService.WatchPaymentEvents": READ,
    # Safe to repeat only when the caller set request_id, so it declares nothing.
    "pasar.order.v1.OrderService.CreateOrder": UNKNOWN,
    "pasar.order.v1.OrderService.GetOrder": READ,
    # Each failed look-up counts towards the number's limit, so a repeat is not the same call.
    "pasar.order.v1.OrderService.LookupOrder": UNKNOWN,
    "pasar.order.v1.OrderService.CancelOrder": KEYED,
    "pasar.fulfillment.v1.FulfillmentService.LookupDestination": READ,
    "pasar.fulfillment.v1.FulfillmentService.CreateFulfillment": KEYED,
    "pasar.fulfillment.v1.FulfillmentService.GetFulfillment": READ,
    "pasar.fulfillment.v1.FulfillmentService.NotifyFulfillment": KEYED,
    "pasar.fulfillment.v1.FulfillmentService.WatchFulfillmentEvents": READ,
}


def test_every_method_declares_the_level_its_contract_promises() -> None:
    found = {
        method.full_name: idempotency_level(method) for service in SERVICES for method in service.methods
    }
    assert found == DECLARED


def test_repeatable_methods_are_the_unary_reads_and_the_keyed_writes() -> None:
    # An event stream's consumer resumes from its own cursor: gRPC does not repeat it.
    streams = {
        "pasar.payment.v1.PaymentService.WatchPaymentEvents",
        "pasar.fulfillment.v1.FulfillmentService.WatchFulfillmentEvents",
    }
    expected = {name for name, level in DECLARED.items() if level != UNKNOWN} - streams
    assert {f"{service}.{method}" for service, method in repeatable_methods(*SERVICES)} == expected


def test_only_reads_have_no_side_effects() -> None:
    reads = {
        method.full_name for service in SERVICES for method in service.methods if has_no_side_effects(method)
    }
    assert reads == {name for name, level in DECLARED.items() if level == READ}
