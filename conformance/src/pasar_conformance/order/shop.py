"""The order suite's view of one shop: the order service under test and the two services it
checks out against, reached through their contracts alone.

The catalog (``--product``) seeds the run's packages through ProductAdminService
(:mod:`pasar_conformance.product.seed`) and tells stock; the payment service
(``--payment``) lists the channels and settles payments through the sandbox's
SimulatePayment. Every order the run places is remembered, so that the end of the run
cancels those still pending and their stock goes back (:meth:`Shop.cancel_leftovers`).
"""

from __future__ import annotations

import contextlib
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import cast

import grpc
import pytest

from pasar.order.v1 import order_pb2
from pasar.order.v1 import order_service_pb2 as order_pb
from pasar.payment.v1 import payment_pb2
from pasar.payment.v1 import payment_service_pb2 as payment_pb
from pasar.product.v1 import product_pb2
from pasar.product.v1 import product_service_pb2 as catalog_pb
from pasar_conformance.answers import retrying
from pasar_conformance.destination_fields import PHONE_EXAMPLE, TELKOMSEL_PREFIXES, phone_field
from pasar_conformance.eventually import eventually
from pasar_conformance.order.after_payment import PAID_STATE_NAMES, is_paid
from pasar_conformance.product.seed import Catalog, catalog
from pasar_conformance.target import Target

ORDER_SERVICE = "pasar.order.v1.OrderService"
PAYMENT_SERVICE = "pasar.payment.v1.PaymentService"
PRODUCT_SERVICE = "pasar.product.v1.ProductService"
CREATE_ORDER = f"{ORDER_SERVICE}/CreateOrder"
GET_ORDER = f"{ORDER_SERVICE}/GetOrder"
CANCEL_ORDER = f"{ORDER_SERVICE}/CancelOrder"
LOOKUP_ORDER = f"{ORDER_SERVICE}/LookupOrder"
# An order number (contracts v1.3): "PSR-" and six of ORDER_NUMBER_ALPHABET, which has no
# 0/O, 1/I/L or U.
ORDER_NUMBER_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"
ORDER_NUMBER = re.compile(r"^PSR-[2-9A-HJKMNP-TV-Z]{6}$")
# The price of the run's usual package: inside the limits of common channels.
PRICE = 10_000
# How the run's products are delivered: a voucher code needs no destination.
DELIVERY_KIND = product_pb2.DELIVERY_KIND_VOUCHER_CODE


def rpc(service: str, name: str) -> str:
    return f"{service}/{name}"


@dataclass(eq=False)
class Shop:
    """The order service under test with the catalog and payment service of the same shop."""

    order: Target
    product: Target
    payment: Target
    _placed: list[tuple[str, str]] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _channels: list[payment_pb2.PaymentChannel] | None = None
    _sandbox: bool = False
    _readable: order_pb.GetOrderRequest | None = None

    @property
    def catalog(self) -> Catalog:
        return catalog(self.product)

    # The catalog.
    def packages(self, stocks: Sequence[int] = (10,)) -> list[product_pb2.Package]:
        """A new product with one package per stock (priced PRICE, 2 * PRICE, ...): a
        voucher code with no destination, since a product without a delivery kind is not sold."""
        return self.catalog.packages(stocks, delivery_kind=DELIVERY_KIND)

    def phone_package(self, stock: int = 10) -> product_pb2.Package:
        """A package of a new product that asks for a Telkomsel phone number to top up."""
        product = self.catalog.product(
            self.catalog.shared_category(),
            destination_fields=[phone_field(TELKOMSEL_PREFIXES)],
            delivery_kind=product_pb2.DELIVERY_KIND_PHONE_CREDIT,
        )
        return self.catalog.package(product.id, stock=stock)

    def deliverable_product(self) -> product_pb2.Product:
        """A new product without packages, delivered as the run's products are."""
        return self.catalog.product(self.catalog.shared_category(), delivery_kind=DELIVERY_KIND)

    def stock(self, *package_ids: str) -> list[int]:
        """The units of each package the catalog has available now."""
        answer = cast(
            catalog_pb.BatchGetPackagesResponse,
            self.product.call(
                rpc(PRODUCT_SERVICE, "BatchGetPackages"), catalog_pb.BatchGetPackagesRequest(ids=package_ids)
            ),
        )
        return [package.stock_available for package in answer.packages]

    def product_of(self, package: product_pb2.Package) -> product_pb2.Product:
        answer = self.product.call(
            rpc(PRODUCT_SERVICE, "GetProduct"), catalog_pb.GetProductRequest(id=package.product_id)
        )
        return cast(catalog_pb.GetProductResponse, answer).product

    def stock_becomes(self, package_id: str, units: int) -> None:
        eventually(
            lambda: self.stock(package_id)[0], lambda n: n == units, f"stock of {package_id} is {units}"
        )

    # The payment service.
    def channels(self) -> list[payment_pb2.PaymentChannel]:
        """The enabled channels (read once a run)."""
        if self._channels is None:
            answer = cast(
                payment_pb.ListPaymentChannelsResponse,
                self.payment.call(
                    rpc(PAYMENT_SERVICE, "ListPaymentChannels"),
                    payment_pb.ListPaymentChannelsRequest(page_size=100),
                ),
            )
            self._channels, self._sandbox = list(answer.payment_channels), answer.sandbox
        return self._channels

    def channel_for(self, amount: int) -> payment_pb2.PaymentChannel:
        """An enabled channel that accepts amount (the one with the widest range) and needs
        no payer's phone number (such a channel refuses the usual requests)."""
        fitting = [
            c
            for c in self.channels()
            if c.min_amount.amount <= amount <= c.max_amount.amount and not c.requires_phone_number
        ]
        assert fitting, f"no enabled channel of the shop accepts {amount}: {self.channels()}"
        return max(fitting, key=lambda c: c.max_amount.amount - c.min_amount.amount)

    def pay(self, payment_id: str) -> payment_pb2.Payment:
        """Settles a payment as the sandbox provider does when the shopper pays (the case
        skips in a shop whose payments go through a real provider: only a shopper pays there)."""
        self.channels()
        if not self._sandbox:
            pytest.skip("the shop's payments are not settled by the sandbox (ListPaymentChannels' sandbox)")
        answer = self.payment.call(
            rpc(PAYMENT_SERVICE, "SimulatePayment"), payment_pb.SimulatePaymentRequest(id=payment_id)
        )
        return cast(payment_pb.SimulatePaymentResponse, answer).payment

    def payment_of(self, payment_id: str) -> payment_pb2.Payment:
        answer = self.payment.call(
            rpc(PAYMENT_SERVICE, "GetPayment"), payment_pb.GetPaymentRequest(id=payment_id)
        )
        return cast(payment_pb.GetPaymentResponse, answer).payment

    # The order service.
    def request(
        self,
        *lines: tuple[str, int],
        channel: str = "",
        request_id: str | None = None,
        language_code: str = "en",
        payer_phone_number: str = "",
    ) -> order_pb.CreateOrderRequest:
        """A CreateOrderRequest of lines (package id, quantity) with a new request_id (unless
        one is given; "" for none), through channel or one that accepts the lines at PRICE."""
        return order_pb.CreateOrderRequest(
            request_id=self.order.run.new("checkout") if request_id is None else request_id,
            customer_email=f"{self.order.run.new('buyer')}@example.com",
            lines=[order_pb.CreateOrderLine(package_id=p, quantity=q) for p, q in lines],
            payment_channel_code=channel or self.channel_for(PRICE).code,
            language_code=language_code,
            payer_phone_number=payer_phone_number,
        )

    def request_through(
        self, channel: payment_pb2.PaymentChannel, *lines: tuple[str, int]
    ) -> order_pb.CreateOrderRequest:
        """A CreateOrderRequest through channel, with the payer's phone number it asks for."""
        phone = PHONE_EXAMPLE if channel.requires_phone_number else ""
        return self.request(*lines, channel=channel.code, payer_phone_number=phone)

    def create(self, request: order_pb.CreateOrderRequest) -> order_pb.CreateOrderResponse:
        """CreateOrder once (no retry); the order is remembered for the end of the run."""
        answer = cast(order_pb.CreateOrderResponse, self.order.call(CREATE_ORDER, request))
        with self._lock:
            self._placed.append((answer.order.id, answer.access_token))
        return answer

    def place(self, request: order_pb.CreateOrderRequest) -> order_pb.CreateOrderResponse:
        """CreateOrder, retried while the service asks for a retry (only with a request_id)."""
        if not request.request_id:
            return self.create(request)
        return retrying(lambda: self.create(request))

    def placed(self, quantity: int = 1, stock: int = 10) -> order_pb.CreateOrderResponse:
        """A new pending order of quantity units of a new package with stock units."""
        [package] = self.packages((stock,))
        return self.place(self.request((package.id, quantity)))

    def lookup(self, order_number: str, contact: str) -> order_pb.LookupOrderResponse:
        """LookupOrder: the order by its number and its e-mail address or a destination."""
        request = order_pb.LookupOrderRequest(order_number=order_number, contact=contact)
        return cast(order_pb.LookupOrderResponse, self.order.call(LOOKUP_ORDER, request))

    def get(self, order_id: str, token: str) -> order_pb2.Order:
        answer = self.order.call(GET_ORDER, order_pb.GetOrderRequest(id=order_id, token=token))
        return cast(order_pb.GetOrderResponse, answer).order

    def cancel(self, order_id: str, token: str) -> order_pb2.Order:
        answer = self.order.call(CANCEL_ORDER, order_pb.CancelOrderRequest(id=order_id, token=token))
        return cast(order_pb.CancelOrderResponse, answer).order

    def paid(self, placed: order_pb.CreateOrderResponse) -> order_pb2.Order:
        """The order once its payment arrived: PAID, or already FULFILLED or REFUNDED, since
        delivery may end before the order is read (pasar_conformance.order.after_payment)."""
        return eventually(
            lambda: self.get(placed.order.id, placed.access_token),
            is_paid,
            f"order {placed.order.id} becomes one of {sorted(PAID_STATE_NAMES)}",
        )

    def readable(self) -> order_pb.GetOrderRequest:
        """A GetOrderRequest of an order of the run (placed once)."""
        if self._readable is None:
            placed = self.placed()
            self._readable = order_pb.GetOrderRequest(id=placed.order.id, token=placed.access_token)
        return self._readable

    def cancel_leftovers(self) -> None:
        """Cancels every order of the run still pending, so that its stock goes back."""
        with self._lock:
            placed, self._placed = self._placed, []
        for order_id, token in placed:
            with contextlib.suppress(grpc.RpcError):  # paid, or gone: nothing to give back
                self.cancel(order_id, token)


_current: list[Shop] = []


def open_shop(order: Target, product: Target, payment: Target) -> Shop:
    """The run's shop (the suite's session fixture opens it; request factories find it)."""
    _current[:] = [Shop(order, product, payment)]
    return _current[0]


def current() -> Shop:
    """The run's shop; the request factories of the common checks reach it here."""
    assert _current, "the order suite's shop is not open (pasar_conformance.order.conftest)"
    return _current[0]
