"""Every mapping between the order service's rows and the contracts' messages, both ways.

Rows become ``pasar.order.v1`` messages here, request fields become the values checkout
works with here (:class:`OrderRequest`; a placed order comes back as :class:`PlacedOrder`),
and stored states meet the contract's ``OrderState`` here; the servicer only passes
requests in and answers out.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from pasar.common.v1 import money_pb2
from pasar.order.v1 import order_pb2, order_service_pb2
from pasar.payment.v1 import payment_pb2
from pasar_kit.payment_instructions import payment_instructions
from pasar_kit.timestamps import to_timestamp
from pasar_order.models import (
    Order,
    OrderLine,
    OrderState,
    line_destination,
    stored_fulfillment,
    stored_payment,
    stored_refund,
)

# The language of an order's e-mails when the request names none.
DEFAULT_LANGUAGE = "id"


@dataclass(frozen=True)
class OrderRequest:
    """What a CreateOrder call asks for, independent of protobuf."""

    request_id: str
    customer_email: str
    lines: tuple[tuple[str, int], ...]
    payment_channel_code: str
    language_code: str
    # Each line's destination, by package id (a package appears once); none for a line without.
    destinations: Mapping[str, Mapping[str, str]] = field(default_factory=dict)
    # The e-wallet's phone number for a channel that requires one (personal data: never
    # logged, never stored; it goes to CreatePayment).
    payer_phone_number: str = ""

    def destination_of(self, package_id: str) -> dict[str, str]:
        return dict(self.destinations.get(package_id, {}))

    @property
    def fingerprint(self) -> str:
        """A hash of the content: a retry matches it, a reuse of the request id does not.
        The order of the lines does not matter (each package appears once). Destinations
        count, and so does the payer's phone number; a request without either hashes as it
        did before they existed."""
        content: dict[str, object] = {
            "customer_email": self.customer_email,
            "lines": sorted(self.lines),
            "payment_channel_code": self.payment_channel_code,
            "language_code": self.language_code,
        }
        destinations = {package_id: dict(value) for package_id, value in self.destinations.items() if value}
        if destinations:
            content["destinations"] = destinations
        if self.payer_phone_number:
            content["payer_phone_number"] = self.payer_phone_number
        return hashlib.sha256(json.dumps(content, sort_keys=True).encode()).hexdigest()


@dataclass(frozen=True)
class PlacedOrder:
    order: Order
    lines: list[OrderLine]
    payment: payment_pb2.Payment
    access_token: str


def order_request(request: order_service_pb2.CreateOrderRequest) -> OrderRequest:
    """What a CreateOrder call asks for (an empty language is the default, Indonesian)."""
    return OrderRequest(
        request_id=request.request_id,
        customer_email=request.customer_email,
        lines=tuple((line.package_id, line.quantity) for line in request.lines),
        payment_channel_code=request.payment_channel_code,
        language_code=request.language_code or DEFAULT_LANGUAGE,
        destinations={line.package_id: dict(line.destination) for line in request.lines if line.destination},
        payer_phone_number=request.payer_phone_number,
    )


def order_state_value(state: OrderState) -> order_pb2.OrderState.ValueType:
    """The contract's value of a stored state (PAID is ``ORDER_STATE_PAID``); only the states
    readers see have one."""
    return order_pb2.OrderState.Value(f"ORDER_STATE_{state}")


def order_state_name(state: OrderState) -> str:
    """The state as the contract names it, for error metadata (``ORDER_STATE_PAID``)."""
    return order_pb2.OrderState.Name(order_state_value(state))


def order_message(order: Order, lines: list[OrderLine]) -> order_pb2.Order:
    currency = order.currency_code

    def money(amount: int | None) -> money_pb2.Money:
        return money_pb2.Money(currency_code=currency, amount=amount or 0)

    message = order_pb2.Order(
        id=order.id,
        order_number=order.order_number or "",
        state=order_state_value(OrderState(order.state)),
        customer_email=order.customer_email,
        lines=[order_line_message(line, money) for line in lines],
        subtotal=money(order.subtotal),
        fee=money(order.fee),
        total=money(order.total),
        payment_channel_code=order.payment_channel_code,
        payment_id=order.payment_id or "",
        language_code=order.language_code,
        create_time=to_timestamp(order.create_time),
        update_time=to_timestamp(order.update_time),
        expire_time=to_timestamp(order.expire_time),
        paid_time=to_timestamp(order.paid_time),
        complete_time=to_timestamp(order.complete_time),
        refunded_total=money(order.refunded_total),
    )
    # How to pay, as the payment was created (kept with the order: shown while the payment
    # service is down).
    payment = stored_payment(order)
    if payment is not None and payment.WhichOneof("instructions") is not None:
        message.payment_instructions.CopyFrom(payment_instructions(payment))
    return message


def order_line_message(
    line: OrderLine, money: Callable[[int | None], money_pb2.Money]
) -> order_pb2.OrderLine:
    """A line with its destination, and its fulfillment and refund once there are any."""
    message = order_pb2.OrderLine(
        package_id=line.package_id,
        package_display_name=line.package_display_name,
        product_id=line.product_id,
        product_display_name=line.product_display_name,
        package_display_name_en=line.package_display_name_en,
        product_display_name_en=line.product_display_name_en,
        unit_price=money(line.unit_price),
        quantity=line.quantity,
        line_total=money(line.line_total),
        destination=line_destination(line),
    )
    fulfillment = stored_fulfillment(line)
    if fulfillment is not None:
        message.fulfillment.CopyFrom(fulfillment)
    refund = stored_refund(line.refund_snapshot)
    if refund is not None:
        message.refund.CopyFrom(refund)
    return message


def create_order_response(placed: PlacedOrder) -> order_service_pb2.CreateOrderResponse:
    return order_service_pb2.CreateOrderResponse(
        order=order_message(placed.order, placed.lines),
        access_token=placed.access_token,
        payment=placed.payment,
    )
