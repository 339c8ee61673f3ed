"""The shop as the end-to-end tests drive it: the three real services, through their stubs.

A test sets up its own catalog through ProductAdminService (as an administrator would),
places orders through OrderService, settles payments through the sandbox
(SimulatePayment, or a signed NotifyPayment as the provider would post it), and reads the
outcome back through the services, the e-mails they sent, and, to prove that nothing was
left behind, the rows of each service's own database. Products that are delivered declare
pasar_testkit.catalog's destination fields (``METER_NUMBER_FIELD``,
``TELKOMSEL_PHONE_FIELD``); the sandbox biller in svc-fulfillment delivers to their
examples, and fails a destination ending in 0000.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import uuid
from collections.abc import Mapping
from email.message import EmailMessage
from typing import Any

import grpc
import requests

from pasar.fulfillment.v1 import fulfillment_pb2, fulfillment_service_pb2, fulfillment_service_pb2_grpc
from pasar.order.v1 import order_pb2, order_service_pb2, order_service_pb2_grpc
from pasar.payment.v1 import payment_pb2, payment_service_pb2, payment_service_pb2_grpc
from pasar.product.v1 import product_pb2, product_service_pb2, product_service_pb2_grpc
from pasar_kit.leases import JobLeaseRow
from pasar_kit.timestamps import utc_now
from pasar_order.models import EventCursor
from pasar_product.models import CatalogChange
from pasar_testkit.callers import as_order_service
from pasar_testkit.catalog import Category, Package, Product, seed_over_grpc
from pasar_testkit.databases import query, table_counts
from pasar_testkit.stack import SERVICES, WEBHOOK_SECRET, Stack
from pasar_testkit.waiting import wait_for

CATEGORY = Category("e2e", "Uji", sort_order=1)
DEADLINE = 15.0

# Tables background jobs write on their own clock (a lease taken, a consumer's first cursor,
# the catalog's change log the reservation expiry sweep adds to and prunes), whatever the
# requests do: Shop.table_counts leaves them out.
BACKGROUND_TABLES = frozenset(
    {JobLeaseRow._meta.table_name, EventCursor._meta.table_name, CatalogChange._meta.table_name}
)


class Shop:
    """Stubs to the stack's services, and read access to their databases."""

    def __init__(self, stack: Stack, database_urls: Mapping[str, str]) -> None:
        self.stack = stack
        self.database_urls = dict(database_urls)
        names = dict.fromkeys((*SERVICES, "fulfillment"))  # the Go service, beside the Python ones
        self.channels = {name: grpc.insecure_channel(stack.address(name)) for name in names}
        # BatchGetPackages and NotifyPayment are internal: the tests call them as the order service.
        self.internal = {name: as_order_service(self.channels[name]) for name in ("product", "payment")}
        self.products = product_service_pb2_grpc.ProductServiceStub(self.internal["product"])
        self.payments = payment_service_pb2_grpc.PaymentServiceStub(self.internal["payment"])
        self.orders = order_service_pb2_grpc.OrderServiceStub(self.channels["order"])
        # LookupDestination is public; the other fulfillment methods are the order service's.
        self.lookups = fulfillment_service_pb2_grpc.FulfillmentServiceStub(self.channels["fulfillment"])
        self.fulfillments = fulfillment_service_pb2_grpc.FulfillmentServiceStub(
            as_order_service(self.channels["fulfillment"])
        )
        self._category_created = False

    def close(self) -> None:
        for channel in self.channels.values():
            channel.close()

    # The catalog, set up as an administrator.

    def add_package(self, price: int, stock: int, name: str = "Pulsa 10.000") -> str:
        """A new product with one package; returns the package's id. It is delivered as a
        voucher code and asks for no destination, so that orders of it need none and a paid
        one ends FULFILLED (a product without a delivery kind is not sold)."""
        suffix = uuid.uuid4().hex[:8]
        product_id, package_id = f"pulsa-uji-{suffix}", f"pulsa-uji-{suffix}-10k"
        package = Package(package_id, name, price, stock)
        product = Product(
            product_id,
            "Pulsa Uji",
            CATEGORY.id,
            [package],
            delivery_kind=product_pb2.DELIVERY_KIND_VOUCHER_CODE,
        )
        categories = [] if self._category_created else [CATEGORY]
        seed_over_grpc(self.channels["product"], categories, [product])
        self._category_created = True
        return package_id

    def add_delivered_product(
        self,
        kind: product_pb2.DeliveryKind.ValueType,
        fields: list[product_pb2.DestinationField],
        prices: list[int],
        stock: int = 50,
    ) -> tuple[str, list[str]]:
        """A new product delivered as kind to a destination of fields, with one package per
        price; returns the product's id and its packages' ids."""
        suffix = uuid.uuid4().hex[:8]
        product_id = f"kirim-uji-{suffix}"
        packages = [
            Package(f"{product_id}-{number}", f"Paket {price:,}".replace(",", "."), price, stock, number)
            for number, price in enumerate(prices)
        ]
        product = Product(
            product_id,
            "Kirim Uji",
            CATEGORY.id,
            packages,
            destination_fields=fields,
            delivery_kind=kind,
        )
        categories = [] if self._category_created else [CATEGORY]
        seed_over_grpc(self.channels["product"], categories, [product])
        self._category_created = True
        return product_id, [package.id for package in packages]

    def stock(self, package_id: str) -> int:
        response: product_service_pb2.BatchGetPackagesResponse = self.products.BatchGetPackages(
            product_service_pb2.BatchGetPackagesRequest(ids=[package_id]), timeout=DEADLINE
        )
        return response.packages[0].stock_available

    # Orders and payments.

    def place(self, request: order_service_pb2.CreateOrderRequest) -> order_service_pb2.CreateOrderResponse:
        response: order_service_pb2.CreateOrderResponse = self.orders.CreateOrder(request, timeout=DEADLINE)
        return response

    def order(self, order_id: str, token: str) -> order_pb2.Order:
        response: order_service_pb2.GetOrderResponse = self.orders.GetOrder(
            order_service_pb2.GetOrderRequest(id=order_id, token=token), timeout=DEADLINE
        )
        return response.order

    def payment(self, payment_id: str) -> payment_pb2.Payment:
        response: payment_service_pb2.GetPaymentResponse = self.payments.GetPayment(
            payment_service_pb2.GetPaymentRequest(id=payment_id), timeout=DEADLINE
        )
        return response.payment

    def simulate(self, payment_id: str) -> payment_pb2.Payment:
        """Settles the payment as the sandbox provider would when the shopper pays."""
        response: payment_service_pb2.SimulatePaymentResponse = self.payments.SimulatePayment(
            payment_service_pb2.SimulatePaymentRequest(id=payment_id), timeout=DEADLINE
        )
        return response.payment

    def notify_paid(
        self, payment: payment_pb2.Payment, notification_id: str
    ) -> payment_service_pb2.NotifyPaymentResponse:
        """Posts the sandbox provider's signed settlement notification, as its webhook would."""
        body = {
            "notification_id": notification_id,
            "payment_id": payment.id,
            "provider_reference": payment.provider_reference,
            "status": "PAID",
            "paid_amount": payment.total.amount,
            "currency_code": payment.total.currency_code,
            "paid_time": utc_now().isoformat(timespec="microseconds"),
        }
        payload = json.dumps(body, separators=(",", ":"), sort_keys=True).encode()
        signature = hmac.new(WEBHOOK_SECRET.encode(), payload, hashlib.sha256).hexdigest()
        response: payment_service_pb2.NotifyPaymentResponse = self.payments.NotifyPayment(
            payment_service_pb2.NotifyPaymentRequest(
                provider="sandbox", payload=payload, signature=signature
            ),
            timeout=DEADLINE,
        )
        return response

    def wait_for_order_state(
        self, order_id: str, token: str, state: order_pb2.OrderState.ValueType, timeout: float = 20.0
    ) -> order_pb2.Order:
        def reached() -> order_pb2.Order | None:
            order = self.order(order_id, token)
            return order if order.state == state else None

        return wait_for(reached, timeout, f"order {order_id} in state {order_pb2.OrderState.Name(state)}")

    def fulfillment(self, fulfillment_id: str) -> fulfillment_pb2.Fulfillment:
        response: fulfillment_service_pb2.GetFulfillmentResponse = self.fulfillments.GetFulfillment(
            fulfillment_service_pb2.GetFulfillmentRequest(id=fulfillment_id), timeout=DEADLINE
        )
        return response.fulfillment

    def lookup(
        self, product_id: str, destination: Mapping[str, str]
    ) -> fulfillment_service_pb2.LookupDestinationResponse:
        """LookupDestination as the storefront calls it (no caller credential: it is public)."""
        response: fulfillment_service_pb2.LookupDestinationResponse = self.lookups.LookupDestination(
            fulfillment_service_pb2.LookupDestinationRequest(product_id=product_id, destination=destination),
            timeout=DEADLINE,
        )
        return response

    def pay_and_wait(
        self, placed: order_service_pb2.CreateOrderResponse, state: order_pb2.OrderState.ValueType
    ) -> order_pb2.Order:
        """Settles the order's payment through the sandbox, then waits for the order's state."""
        self.simulate(placed.payment.id)
        return self.wait_for_order_state(placed.order.id, placed.access_token, state)

    def wait_until_paid(self, order_id: str, token: str, timeout: float = 20.0) -> order_pb2.Order:
        """Waits until the order is paid: PAID, or FULFILLED already (the delivery of a paid
        order follows within a second; a test of the payment must not miss the paid state)."""
        paid = (order_pb2.ORDER_STATE_PAID, order_pb2.ORDER_STATE_FULFILLED)

        def reached() -> order_pb2.Order | None:
            order = self.order(order_id, token)
            return order if order.state in paid else None

        return wait_for(reached, timeout, f"order {order_id} paid")

    # E-mails written by the order service (no SMTP_URL: .eml files).

    def mails(self, order_id: str | None = None, kind: str | None = None) -> list[EmailMessage]:
        return self.stack.mails(kind, order_id)

    def rpc_log(self, service: str) -> list[dict[str, Any]]:
        """The calls a service logged (one JSON line each, from the kit's call pipeline)."""
        calls = []
        for line in self.stack[service].log_path.read_text().splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue
            if isinstance(entry, dict) and entry.get("message") == "rpc":
                calls.append(entry)
        return calls

    # The gateway's REST API, as the storefront calls it (when the stack runs the gateway).

    def gateway_post(
        self, path: str, body: Mapping[str, Any] | None = None, headers: Mapping[str, str] | None = None
    ) -> dict[str, Any]:
        """POSTs body as JSON to the gateway's path; the answer's JSON, which must be a 200."""
        response = requests.post(
            f"{self.stack.gateway_url}{path}",
            json=dict(body or {}),
            headers=dict(headers or {}),
            timeout=DEADLINE,
        )
        assert response.status_code == 200, f"POST {path}: {response.status_code} {response.text}"
        answer: dict[str, Any] = response.json()
        return answer

    # The services' databases, read directly: the proof that nothing was left behind.

    def rows(self, service: str, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        return query(self.database_urls[service], sql, params)

    def table_counts(self) -> dict[str, int]:
        """The rows of every table requests write, as "service.table": the proof a refusal wrote nothing."""
        counts = table_counts(self.database_urls)
        return {name: n for name, n in counts.items() if name.partition(".")[2] not in BACKGROUND_TABLES}
