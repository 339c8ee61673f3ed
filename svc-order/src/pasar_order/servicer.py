"""OrderService's RPC handlers: protobuf in, a domain call, protobuf out.

Validation of each request against the contract, the database connection, request ids
and the translation of errors into statuses happen around these handlers, in the kit's
call pipeline.
"""

from __future__ import annotations

import grpc

from pasar.common.v1 import money_pb2
from pasar.order.v1 import order_pb2, order_service_pb2, order_service_pb2_grpc
from pasar_kit.errors import FailedPrecondition
from pasar_kit.timestamps import to_timestamp
from pasar_order import orders
from pasar_order.checkout import Checkout, OrderRequest
from pasar_order.models import Order, OrderLine, OrderState, lines_of
from pasar_order.settlement import Settlement

_STATES = {
    OrderState.PENDING_PAYMENT: order_pb2.ORDER_STATE_PENDING_PAYMENT,
    OrderState.PAID: order_pb2.ORDER_STATE_PAID,
    OrderState.CANCELLED: order_pb2.ORDER_STATE_CANCELLED,
    OrderState.EXPIRED: order_pb2.ORDER_STATE_EXPIRED,
}


def state_name(state: str) -> str:
    """The contract's name of a state, as error metadata carries it: ``ORDER_STATE_PAID``."""
    return order_pb2.OrderState.Name(_STATES[state])


def order_message(order: Order, lines: list[OrderLine]) -> order_pb2.Order:
    currency = order.currency_code

    def money(amount: int | None) -> money_pb2.Money:
        return money_pb2.Money(currency_code=currency, amount=amount or 0)

    return order_pb2.Order(
        id=order.id,
        state=_STATES[order.state],
        customer_email=order.customer_email,
        lines=[
            order_pb2.OrderLine(
                package_id=line.package_id,
                package_display_name=line.package_display_name,
                product_id=line.product_id,
                product_display_name=line.product_display_name,
                unit_price=money(line.unit_price),
                quantity=line.quantity,
                line_total=money(line.line_total),
            )
            for line in lines
        ],
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
    )


class OrderServicer(order_service_pb2_grpc.OrderServiceServicer):
    def __init__(self, checkout: Checkout, settlement: Settlement) -> None:
        self.checkout = checkout
        self.settlement = settlement

    def CreateOrder(
        self, request: order_service_pb2.CreateOrderRequest, context: grpc.ServicerContext
    ) -> order_service_pb2.CreateOrderResponse:
        placed = self.checkout.place_order(OrderRequest.from_proto(request))
        return order_service_pb2.CreateOrderResponse(
            order=order_message(placed.order, placed.lines),
            access_token=placed.access_token,
            payment=placed.payment,
        )

    def GetOrder(
        self, request: order_service_pb2.GetOrderRequest, context: grpc.ServicerContext
    ) -> order_service_pb2.GetOrderResponse:
        order = orders.find_visible(request.id, request.token)
        return order_service_pb2.GetOrderResponse(order=order_message(order, lines_of(order)))

    def CancelOrder(
        self, request: order_service_pb2.CancelOrderRequest, context: grpc.ServicerContext
    ) -> order_service_pb2.CancelOrderResponse:
        order = orders.find_visible(request.id, request.token)
        if order.state == OrderState.PENDING_PAYMENT:
            order = self.settlement.close_unpaid(order, OrderState.CANCELLED)
        if order.state != OrderState.CANCELLED:
            raise FailedPrecondition(
                f"the order is {state_name(order.state)} and can no longer be cancelled",
                reason="ORDER_NOT_CANCELLABLE",
                metadata={"state": state_name(order.state)},
            )
        return order_service_pb2.CancelOrderResponse(order=order_message(order, lines_of(order)))
