"""Small in-process fakes of the four services, on real gRPC servers on port 0.

They implement the public methods with a few records in memory, record the metadata of
every call, and can be told to fail every call with a given status (``fail_with``) or to
answer slowly (``delay``), so the gateway's transcoding, error mapping and isolation are
tested without the real services. The real services are tested behind the gateway in
``test_stack_*.py``.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import timestamp_pb2

from pasar.common.v1 import money_pb2
from pasar.common.v1.error_reason_pb2 import ErrorReason as CommonErrorReason
from pasar.fulfillment.v1 import fulfillment_service_pb2, fulfillment_service_pb2_grpc
from pasar.fulfillment.v1.error_reason_pb2 import ErrorReason as FulfillmentErrorReason
from pasar.order.v1 import order_pb2, order_service_pb2, order_service_pb2_grpc
from pasar.order.v1.error_reason_pb2 import ErrorReason as OrderErrorReason
from pasar.payment.v1 import payment_pb2, payment_service_pb2, payment_service_pb2_grpc
from pasar.payment.v1.error_reason_pb2 import ErrorReason as PaymentErrorReason
from pasar.product.v1 import (
    product_admin_service_pb2,
    product_admin_service_pb2_grpc,
    product_pb2,
    product_service_pb2,
    product_service_pb2_grpc,
)
from pasar.product.v1.error_reason_pb2 import ErrorReason as ProductErrorReason
from pasar_kit import errors
from pasar_kit.ids import new_id, new_token
from pasar_kit.server import ServiceRegistration
from pasar_testkit.fake_server import FakeGrpcServer

ADMIN_TOKEN = "test-admin-token-of-the-gateway-fakes"
PAYMENT_ID = "pay_" + "a" * 32
ORDER_ID = "ord_" + "b" * 32
ORDER_TOKEN = "order-token-1"
METER_PRODUCT_ID = "token-pln"  # its one destination field, meter_number, can be looked up
UNKNOWN_METER = "12345670000"  # the sandbox biller's rule: a meter ending in 0000 has no customer
METER_CUSTOMER = "BUDI SANTOSO"
# Order numbers' digits in the contracts' alphabet (no 0 or 1): the fakes count orders with them.
ORDER_NUMBER_DIGITS = str.maketrans("0123456789", "23456789AB")


ERROR_INFO_TYPE = "type.googleapis.com/google.rpc.ErrorInfo"
BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"
DEPENDENCY_UNAVAILABLE = CommonErrorReason.Name(CommonErrorReason.DEPENDENCY_UNAVAILABLE)


def error_info(body: Mapping[str, Any]) -> dict[str, Any]:
    """The ErrorInfo detail of an error body (what clients branch on), or {} when it has none."""
    details: list[dict[str, Any]] = body["error"]["details"]
    return next((detail for detail in details if detail["@type"] == ERROR_INFO_TYPE), {})


def violated_fields(body: Mapping[str, Any]) -> list[str]:
    """The fields a 400's google.rpc.BadRequest names, in order."""
    return [
        violation["field"]
        for detail in body["error"]["details"]
        if detail["@type"] == BAD_REQUEST_TYPE
        for violation in detail["fieldViolations"]
    ]


def idr(amount: int) -> money_pb2.Money:
    return money_pb2.Money(currency_code="IDR", amount=amount)


def when(seconds: int = 1_800_000_000) -> timestamp_pb2.Timestamp:
    return timestamp_pb2.Timestamp(seconds=seconds)


@dataclass
class Behaviour:
    """What the tests tell a fake to do, and what it saw."""

    fail_with: grpc.StatusCode | None = None
    fail_status: grpc.Status | None = None
    delay: float = 0.0
    calls: list[tuple[str, dict[str, str]]] = field(default_factory=list)
    requests: list[Any] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def enter(self, method: str, request: Any, context: grpc.ServicerContext) -> None:
        with self.lock:
            self.calls.append((method, {key: str(value) for key, value in context.invocation_metadata()}))
            self.requests.append(request)
        if self.delay:
            time.sleep(self.delay)
        if self.fail_status is not None:
            context.abort_with_status(self.fail_status)
        if self.fail_with is not None:
            # As a Pasar service does (pasar_kit's pipeline): its own statuses carry ErrorInfo.
            error = errors.ServiceError(f"told to fail with {self.fail_with.name}", reason="TOLD_TO_FAIL")
            error.code = self.fail_with
            _abort(context, error)

    def metadata(self, method: str) -> list[dict[str, str]]:
        return [metadata for name, metadata in self.calls if name == method]


def _abort(context: grpc.ServicerContext, error: errors.ServiceError) -> None:
    context.abort_with_status(error.to_status())


class Catalog:
    """A tiny catalog: two categories, three products."""

    def __init__(self) -> None:
        self.categories = [
            product_pb2.Category(id="pulsa", display_name="Pulsa", sort_order=1),
            product_pb2.Category(id="token-listrik", display_name="Token Listrik", sort_order=2),
        ]
        self.products: dict[str, product_pb2.Product] = {}
        for product_id, name, category, prices in (
            ("pulsa-nusantara", "Pulsa Nusantara", "pulsa", (10_000, 25_000)),
            ("pulsa-samudra", "Pulsa Samudra", "pulsa", (5_000,)),
            ("token-pln", "Token Listrik", "token-listrik", (20_000, 50_000)),
        ):
            packages = [
                product_pb2.Package(
                    id=f"{product_id}-{price // 1000}k",
                    product_id=product_id,
                    display_name=f"Paket {price:,}".replace(",", "."),
                    price=idr(price),
                    stock_available=10,
                    sort_order=index,
                    product_display_name=name,
                )
                for index, price in enumerate(prices)
            ]
            self.products[product_id] = product_pb2.Product(
                id=product_id,
                display_name=name,
                category_id=category,
                state=product_pb2.PRODUCT_STATE_ACTIVE,
                packages=packages,
                min_price=idr(min(prices)),
                max_price=idr(max(prices)),
                create_time=when(),
                update_time=when(),
            )


class FakeProductService(product_service_pb2_grpc.ProductServiceServicer):
    def __init__(self, catalog: Catalog, behaviour: Behaviour) -> None:
        self.catalog = catalog
        self.behaviour = behaviour

    def ListCategories(
        self, request: product_service_pb2.ListCategoriesRequest, context: grpc.ServicerContext
    ) -> product_service_pb2.ListCategoriesResponse:
        self.behaviour.enter("ListCategories", request, context)
        return product_service_pb2.ListCategoriesResponse(categories=self.catalog.categories)

    def ListProducts(
        self, request: product_service_pb2.ListProductsRequest, context: grpc.ServicerContext
    ) -> product_service_pb2.ListProductsResponse:
        self.behaviour.enter("ListProducts", request, context)
        if request.page_size < 0 or request.page_size > 100:
            _abort(
                context,
                errors.InvalidArgument(
                    "invalid ListProductsRequest: page_size: must be between 0 and 100",
                    field_violations=[("page_size", "must be between 0 and 100")],
                ),
            )
        products = [
            product
            for product in sorted(self.catalog.products.values(), key=lambda p: p.id)
            if (not request.category_id or product.category_id == request.category_id)
            and request.query.lower() in product.display_name.lower()
            and product.state == product_pb2.PRODUCT_STATE_ACTIVE
        ]
        start = int(request.page_token or 0)
        size = request.page_size or 20
        page = products[start : start + size]
        next_token = str(start + size) if start + size < len(products) else ""
        return product_service_pb2.ListProductsResponse(products=page, next_page_token=next_token)

    def GetProduct(
        self, request: product_service_pb2.GetProductRequest, context: grpc.ServicerContext
    ) -> product_service_pb2.GetProductResponse:
        self.behaviour.enter("GetProduct", request, context)
        product = self.catalog.products.get(request.id)
        if product is None or product.state != product_pb2.PRODUCT_STATE_ACTIVE:
            _abort(
                context,
                errors.NotFound(
                    f"no product {request.id!r}",
                    reason=ProductErrorReason.Name(ProductErrorReason.PRODUCT_NOT_FOUND),
                    metadata={"product_id": request.id},
                ),
            )
        return product_service_pb2.GetProductResponse(product=product)


class FakeProductAdminService(product_admin_service_pb2_grpc.ProductAdminServiceServicer):
    def __init__(self, catalog: Catalog, behaviour: Behaviour) -> None:
        self.catalog = catalog
        self.behaviour = behaviour

    def _authorize(self, context: grpc.ServicerContext) -> None:
        metadata = dict(context.invocation_metadata())
        if metadata.get("authorization") != f"Bearer {ADMIN_TOKEN}":
            _abort(
                context,
                errors.PermissionDenied(
                    "not the administrator",
                    reason=ProductErrorReason.Name(ProductErrorReason.ADMIN_TOKEN_INVALID),
                ),
            )

    def CreateProduct(
        self, request: product_admin_service_pb2.CreateProductRequest, context: grpc.ServicerContext
    ) -> product_admin_service_pb2.CreateProductResponse:
        self.behaviour.enter("CreateProduct", request, context)
        self._authorize(context)
        if request.product.id in self.catalog.products:
            _abort(
                context,
                errors.AlreadyExists(
                    "taken",
                    reason=ProductErrorReason.Name(ProductErrorReason.PRODUCT_EXISTS),
                    metadata={"product_id": request.product.id},
                ),
            )
        product = product_pb2.Product()
        product.CopyFrom(request.product)
        product.state = product_pb2.PRODUCT_STATE_ACTIVE
        self.catalog.products[product.id] = product
        return product_admin_service_pb2.CreateProductResponse(product=product)

    def UpdateProduct(
        self, request: product_admin_service_pb2.UpdateProductRequest, context: grpc.ServicerContext
    ) -> product_admin_service_pb2.UpdateProductResponse:
        self.behaviour.enter("UpdateProduct", request, context)
        self._authorize(context)
        product = self.catalog.products.get(request.product.id)
        if product is None:
            _abort(
                context,
                errors.NotFound(
                    "no product", reason=ProductErrorReason.Name(ProductErrorReason.PRODUCT_NOT_FOUND)
                ),
            )
            raise AssertionError("unreachable")
        paths = list(request.update_mask.paths) or ["display_name", "description", "category_id", "image_url"]
        for path in paths:
            setattr(product, path, getattr(request.product, path))
        return product_admin_service_pb2.UpdateProductResponse(product=product)

    def DeleteProduct(
        self, request: product_admin_service_pb2.DeleteProductRequest, context: grpc.ServicerContext
    ) -> product_admin_service_pb2.DeleteProductResponse:
        self.behaviour.enter("DeleteProduct", request, context)
        self._authorize(context)
        product = self.catalog.products.get(request.id)
        if product is None:
            _abort(
                context,
                errors.NotFound(
                    "no product", reason=ProductErrorReason.Name(ProductErrorReason.PRODUCT_NOT_FOUND)
                ),
            )
            raise AssertionError("unreachable")
        product.state = product_pb2.PRODUCT_STATE_ARCHIVED
        return product_admin_service_pb2.DeleteProductResponse(product=product)


class FakePaymentService(payment_service_pb2_grpc.PaymentServiceServicer):
    def __init__(self, behaviour: Behaviour) -> None:
        self.behaviour = behaviour
        self.payment = payment_pb2.Payment(
            id=PAYMENT_ID,
            order_id=ORDER_ID,
            channel_code="bca_va",
            channel_kind=payment_pb2.PAYMENT_CHANNEL_KIND_VIRTUAL_ACCOUNT,
            state=payment_pb2.PAYMENT_STATE_PENDING,
            amount=idr(10_000),
            fee=idr(4_000),
            total=idr(14_000),
            virtual_account=payment_pb2.VirtualAccountInstructions(
                bank_name="BCA", account_number="8808123456789", account_name="PASAR"
            ),
            provider="sandbox",
            create_time=when(),
            expire_time=when(1_800_086_400),
        )

    def ListPaymentChannels(
        self, request: payment_service_pb2.ListPaymentChannelsRequest, context: grpc.ServicerContext
    ) -> payment_service_pb2.ListPaymentChannelsResponse:
        self.behaviour.enter("ListPaymentChannels", request, context)
        channel = payment_pb2.PaymentChannel(
            code="bca_va",
            display_name="BCA Virtual Account",
            kind=payment_pb2.PAYMENT_CHANNEL_KIND_VIRTUAL_ACCOUNT,
            flat_fee=idr(4_000),
            min_amount=idr(10_000),
            max_amount=idr(50_000_000),
            enabled=True,
        )
        channel.payment_ttl.FromSeconds(86_400)
        return payment_service_pb2.ListPaymentChannelsResponse(payment_channels=[channel])

    def GetPayment(
        self, request: payment_service_pb2.GetPaymentRequest, context: grpc.ServicerContext
    ) -> payment_service_pb2.GetPaymentResponse:
        self.behaviour.enter("GetPayment", request, context)
        if request.id != self.payment.id:
            _abort(
                context,
                errors.NotFound(
                    "no payment",
                    reason=PaymentErrorReason.Name(PaymentErrorReason.PAYMENT_NOT_FOUND),
                    metadata={"payment_id": request.id},
                ),
            )
        return payment_service_pb2.GetPaymentResponse(payment=self.payment)

    def SimulatePayment(
        self, request: payment_service_pb2.SimulatePaymentRequest, context: grpc.ServicerContext
    ) -> payment_service_pb2.SimulatePaymentResponse:
        self.behaviour.enter("SimulatePayment", request, context)
        self.payment.state = payment_pb2.PAYMENT_STATE_PAID
        return payment_service_pb2.SimulatePaymentResponse(payment=self.payment)


class FakeOrderService(order_service_pb2_grpc.OrderServiceServicer):
    def __init__(self, behaviour: Behaviour, payments: FakePaymentService) -> None:
        self.behaviour = behaviour
        self.payments = payments
        self.orders: dict[str, tuple[order_pb2.Order, str]] = {}
        self.by_request_id: dict[str, str] = {}

    def CreateOrder(
        self, request: order_service_pb2.CreateOrderRequest, context: grpc.ServicerContext
    ) -> order_service_pb2.CreateOrderResponse:
        self.behaviour.enter("CreateOrder", request, context)
        if not request.lines:
            _abort(
                context,
                errors.InvalidArgument(
                    "lines: at least one",
                    field_violations=[("lines", "value must contain at least 1 item(s)")],
                ),
            )
        if request.request_id and request.request_id in self.by_request_id:
            order, token = self.orders[self.by_request_id[request.request_id]]
        else:
            token = new_token()
            order = order_pb2.Order(
                id=new_id("ord"),
                order_number=f"PSR-{len(self.orders):06d}".translate(ORDER_NUMBER_DIGITS),
                state=order_pb2.ORDER_STATE_PENDING_PAYMENT,
                customer_email=request.customer_email,
                payment_channel_code=request.payment_channel_code,
                payment_id=PAYMENT_ID,
                language_code=request.language_code or "id",
                subtotal=idr(10_000),
                total=idr(14_000),
                fee=idr(4_000),
                create_time=when(),
            )
            self.orders[order.id] = (order, token)
            if request.request_id:
                self.by_request_id[request.request_id] = order.id
        return order_service_pb2.CreateOrderResponse(
            order=order, access_token=token, payment=self.payments.payment
        )

    def LookupOrder(
        self, request: order_service_pb2.LookupOrderRequest, context: grpc.ServicerContext
    ) -> order_service_pb2.LookupOrderResponse:
        """By number and e-mail; anything else answers as an unknown number does."""
        self.behaviour.enter("LookupOrder", request, context)
        for order, token in self.orders.values():
            if (
                order.order_number == request.order_number
                and order.customer_email.lower() == request.contact.strip().lower()
            ):
                return order_service_pb2.LookupOrderResponse(order=order, access_token=token)
        _abort(
            context,
            errors.NotFound("no such order", reason=OrderErrorReason.Name(OrderErrorReason.ORDER_NOT_FOUND)),
        )
        raise AssertionError("unreachable")

    def GetOrder(
        self, request: order_service_pb2.GetOrderRequest, context: grpc.ServicerContext
    ) -> order_service_pb2.GetOrderResponse:
        self.behaviour.enter("GetOrder", request, context)
        found = self.orders.get(request.id)
        if found is None or found[1] != request.token:
            _abort(
                context,
                errors.NotFound(
                    "no such order", reason=OrderErrorReason.Name(OrderErrorReason.ORDER_NOT_FOUND)
                ),
            )
            raise AssertionError("unreachable")
        return order_service_pb2.GetOrderResponse(order=found[0])

    def CancelOrder(
        self, request: order_service_pb2.CancelOrderRequest, context: grpc.ServicerContext
    ) -> order_service_pb2.CancelOrderResponse:
        self.behaviour.enter("CancelOrder", request, context)
        found = self.orders.get(request.id)
        if found is None or found[1] != request.token:
            _abort(
                context,
                errors.NotFound(
                    "no such order", reason=OrderErrorReason.Name(OrderErrorReason.ORDER_NOT_FOUND)
                ),
            )
            raise AssertionError("unreachable")
        found[0].state = order_pb2.ORDER_STATE_CANCELLED
        return order_service_pb2.CancelOrderResponse(order=found[0])


class FakeFulfillmentService(fulfillment_service_pb2_grpc.FulfillmentServiceServicer):
    """LookupDestination as svc-fulfillment answers it for a PLN meter (11 or 12 digits)."""

    def __init__(self, catalog: Catalog, behaviour: Behaviour) -> None:
        self.catalog = catalog
        self.behaviour = behaviour

    def LookupDestination(
        self, request: fulfillment_service_pb2.LookupDestinationRequest, context: grpc.ServicerContext
    ) -> fulfillment_service_pb2.LookupDestinationResponse:
        self.behaviour.enter("LookupDestination", request, context)
        metadata = {"product_id": request.product_id}
        if request.product_id not in self.catalog.products:
            _abort(
                context,
                errors.NotFound(
                    f"no product {request.product_id!r}",
                    reason=ProductErrorReason.Name(ProductErrorReason.PRODUCT_NOT_FOUND),
                    metadata=metadata,
                ),
            )
        if request.product_id != METER_PRODUCT_ID:
            _abort(
                context,
                errors.FailedPrecondition(
                    "none of the product's destination fields can be looked up",
                    reason=FulfillmentErrorReason.Name(FulfillmentErrorReason.LOOKUP_NOT_SUPPORTED),
                    metadata=metadata,
                ),
            )
        meter = request.destination.get("meter_number", "")
        if not re.fullmatch(r"[0-9]{11,12}", meter):
            _abort(
                context,
                errors.InvalidArgument(
                    "the destination does not fit the product: meter_number must be 11 or 12 digits",
                    reason=CommonErrorReason.Name(CommonErrorReason.INVALID_DESTINATION),
                    metadata={**metadata, "field": "meter_number"},
                    field_violations=[('destination["meter_number"]', "must be 11 or 12 digits")],
                ),
            )
        if meter.endswith("0000"):
            _abort(
                context,
                errors.NotFound(
                    "PLN has no customer with this meter number",
                    reason=FulfillmentErrorReason.Name(FulfillmentErrorReason.DESTINATION_NOT_FOUND),
                    metadata={**metadata, "field": "meter_number"},
                ),
            )
        return fulfillment_service_pb2.LookupDestinationResponse(
            customer_name=METER_CUSTOMER, detail="R1/1300 VA", matches_product=True
        )


PRODUCT_SERVICE = product_service_pb2.DESCRIPTOR.services_by_name["ProductService"]
PRODUCT_ADMIN_SERVICE = product_admin_service_pb2.DESCRIPTOR.services_by_name["ProductAdminService"]
PAYMENT_SERVICE = payment_service_pb2.DESCRIPTOR.services_by_name["PaymentService"]
ORDER_SERVICE = order_service_pb2.DESCRIPTOR.services_by_name["OrderService"]
FULFILLMENT_SERVICE = fulfillment_service_pb2.DESCRIPTOR.services_by_name["FulfillmentService"]


def product_registration(servicer: FakeProductService) -> ServiceRegistration:
    return ServiceRegistration(
        PRODUCT_SERVICE,
        lambda server: product_service_pb2_grpc.add_ProductServiceServicer_to_server(servicer, server),
    )


class FakeShop:
    """The four fakes, each on its own server (behind interceptors, when given)."""

    def __init__(self, interceptors: Sequence[grpc.ServerInterceptor] = ()) -> None:
        self.catalog = Catalog()
        self.product = Behaviour()
        self.payment = Behaviour()
        self.order = Behaviour()
        self.fulfillment = Behaviour()
        # The fakes implement the public methods only; the internal ones stay abstract.
        product_service = FakeProductService(self.catalog, self.product)  # type: ignore[abstract]
        admin_service = FakeProductAdminService(self.catalog, self.product)  # type: ignore[abstract]
        self.payments = FakePaymentService(self.payment)  # type: ignore[abstract]
        self.orders = FakeOrderService(self.order, self.payments)
        self.fulfillments = FakeFulfillmentService(self.catalog, self.fulfillment)  # type: ignore[abstract]
        self.servers = {
            "product": FakeGrpcServer(
                [
                    product_registration(product_service),
                    ServiceRegistration(
                        PRODUCT_ADMIN_SERVICE,
                        lambda s: product_admin_service_pb2_grpc.add_ProductAdminServiceServicer_to_server(
                            admin_service, s
                        ),
                    ),
                ],
                max_workers=8,
                interceptors=interceptors,
            ),
            "payment": FakeGrpcServer(
                [
                    ServiceRegistration(
                        PAYMENT_SERVICE,
                        lambda s: payment_service_pb2_grpc.add_PaymentServiceServicer_to_server(
                            self.payments, s
                        ),
                    )
                ],
                max_workers=8,
                interceptors=interceptors,
            ),
            "order": FakeGrpcServer(
                [
                    ServiceRegistration(
                        ORDER_SERVICE,
                        lambda s: order_service_pb2_grpc.add_OrderServiceServicer_to_server(self.orders, s),
                    )
                ],
                max_workers=8,
                interceptors=interceptors,
            ),
            "fulfillment": FakeGrpcServer(
                [
                    ServiceRegistration(
                        FULFILLMENT_SERVICE,
                        lambda s: fulfillment_service_pb2_grpc.add_FulfillmentServiceServicer_to_server(
                            self.fulfillments, s
                        ),
                    )
                ],
                max_workers=8,
                interceptors=interceptors,
            ),
        }

    def behaviour(self, name: str) -> Behaviour:
        behaviour: Behaviour = getattr(self, name)
        return behaviour

    def start(self) -> None:
        for server in self.servers.values():
            server.start()

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()

    def config(self) -> dict[str, Any]:
        """The gateway settings that point at these fakes."""
        return {f"{name.upper()}_ADDRESS": server.address for name, server in self.servers.items()}


def running_shop() -> Iterator[FakeShop]:
    shop = FakeShop()
    shop.start()
    try:
        yield shop
    finally:
        shop.stop()
