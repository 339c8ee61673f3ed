"""The shop as the end-to-end tests drive it: the three real services, through their stubs.

A test sets up its own catalog through ProductAdminService (as an administrator would),
places orders through OrderService, settles payments through the sandbox
(SimulatePayment, or a signed NotifyPayment as the provider would post it), and reads the
outcome back through the services, the e-mails they sent, and, to prove that nothing was
left behind, the rows of each service's own database.
"""

from __future__ import annotations

import email
import email.policy
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TypeVar

import grpc
import peewee
from playhouse.pool import PooledDatabase

from pasar.common.v1 import money_pb2
from pasar.order.v1 import order_pb2, order_service_pb2, order_service_pb2_grpc
from pasar.payment.v1 import payment_pb2, payment_service_pb2, payment_service_pb2_grpc
from pasar.product.v1 import (
    product_admin_service_pb2,
    product_admin_service_pb2_grpc,
    product_pb2,
    product_service_pb2,
    product_service_pb2_grpc,
)
from pasar_kit import database as db
from pasar_kit.errors import error_info
from pasar_kit.timestamps import utc_now
from pasar_testkit.callers import as_order_service
from pasar_testkit.stack import ADMIN_TOKEN, WEBHOOK_SECRET, Stack

T = TypeVar("T")
CATEGORY = "e2e"
DEADLINE = 15.0


def idr(amount: int) -> money_pb2.Money:
    return money_pb2.Money(currency_code="IDR", amount=amount)


def wait_for(check: Callable[[], T | None], timeout: float = 20.0, what: str = "") -> T:
    """Polls check until it returns something true; fails after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout}s: {what or check}")
        time.sleep(0.05)


def order_request(
    *lines: tuple[str, int],
    channel: str = "bca_va",
    email_address: str = "siti@example.co.id",
    request_id: str = "",
    language: str = "",
) -> order_service_pb2.CreateOrderRequest:
    return order_service_pb2.CreateOrderRequest(
        request_id=request_id,
        customer_email=email_address,
        lines=[order_service_pb2.CreateOrderLine(package_id=p, quantity=q) for p, q in lines],
        payment_channel_code=channel,
        language_code=language,
    )


class Shop:
    """Stubs to the stack's services, and read access to their databases."""

    def __init__(self, stack: Stack, database_urls: Mapping[str, str]) -> None:
        self.stack = stack
        self.database_urls = dict(database_urls)
        self.channels = {
            name: grpc.insecure_channel(stack.address(name)) for name in ("product", "payment", "order")
        }
        # BatchGetPackages and NotifyPayment are internal: the tests call them as the order service.
        self.internal = {name: as_order_service(self.channels[name]) for name in ("product", "payment")}
        self.products = product_service_pb2_grpc.ProductServiceStub(self.internal["product"])
        self.admin = product_admin_service_pb2_grpc.ProductAdminServiceStub(self.channels["product"])
        self.payments = payment_service_pb2_grpc.PaymentServiceStub(self.internal["payment"])
        self.orders = order_service_pb2_grpc.OrderServiceStub(self.channels["order"])
        self._category_created = False

    def close(self) -> None:
        for channel in self.channels.values():
            channel.close()

    # The catalog, set up as an administrator.

    def add_package(self, price: int, stock: int, name: str = "Pulsa 10.000") -> str:
        """A new product with one package; returns the package's id."""
        metadata: tuple[tuple[str, str | bytes], ...] = (("authorization", f"Bearer {ADMIN_TOKEN}"),)
        if not self._category_created:
            self.admin.CreateCategory(
                product_admin_service_pb2.CreateCategoryRequest(
                    category=product_pb2.Category(id=CATEGORY, display_name="Uji", sort_order=1)
                ),
                metadata=metadata,
                timeout=DEADLINE,
            )
            self._category_created = True
        suffix = uuid.uuid4().hex[:8]
        product_id, package_id = f"pulsa-uji-{suffix}", f"pulsa-uji-{suffix}-10k"
        self.admin.CreateProduct(
            product_admin_service_pb2.CreateProductRequest(
                product=product_pb2.Product(id=product_id, display_name="Pulsa Uji", category_id=CATEGORY)
            ),
            metadata=metadata,
            timeout=DEADLINE,
        )
        self.admin.CreatePackage(
            product_admin_service_pb2.CreatePackageRequest(
                product_id=product_id,
                package=product_pb2.Package(
                    id=package_id, display_name=name, price=idr(price), stock_available=stock
                ),
            ),
            metadata=metadata,
            timeout=DEADLINE,
        )
        return package_id

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

    # E-mails written by the order service (no SMTP_URL: .eml files).

    def mail_files(self) -> list[Path]:
        folder = self.stack.mail_dir
        return sorted(folder.glob("*.eml")) if folder.exists() else []

    def mails(self, order_id: str | None = None, kind: str | None = None) -> list[EmailMessage]:
        found = []
        for path in self.mail_files():
            message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
            assert isinstance(message, EmailMessage)
            if (order_id is None or message["X-Pasar-Order-Id"] == order_id) and (
                kind is None or message["X-Pasar-Email-Kind"] == kind
            ):
                found.append(message)
        return found

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

    # The services' databases, read directly: the proof that nothing was left behind.

    @contextmanager
    def database(self, service: str) -> Iterator[peewee.Database]:
        database = db.connect(self.database_urls[service], max_connections=1)
        try:
            with database.connection_context():
                yield database
        finally:
            if isinstance(database, PooledDatabase):
                database.close_all()

    def rows(self, service: str, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        with self.database(service) as database:
            if db.is_mysql(database):
                sql = sql.replace("?", "%s")
            return [tuple(row) for row in database.execute_sql(sql, params).fetchall()]

    def table_counts(self) -> dict[str, int]:
        """The number of rows of every table of every service, as "service.table"."""
        counts: dict[str, int] = {}
        for service in ("product", "payment", "order"):
            with self.database(service) as database:
                for table in database.get_tables():
                    quoted = f"`{table}`" if db.is_mysql(database) else f'"{table}"'
                    [(count,)] = database.execute_sql(f"SELECT COUNT(*) FROM {quoted}").fetchall()
                    counts[f"{service}.{table}"] = int(count)
        return counts


def reason(error: grpc.RpcError) -> str:
    """The ErrorInfo reason of a failed call ("" without one)."""
    info = error_info(error)
    return info.reason if info else ""


def body_text(message: EmailMessage) -> tuple[str, str]:
    """The plain-text and HTML parts of an e-mail."""
    text, html = message.get_body(("plain",)), message.get_body(("html",))
    assert text is not None
    assert html is not None
    return str(text.get_content()), str(html.get_content())
