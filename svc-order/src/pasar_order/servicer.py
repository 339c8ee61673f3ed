"""OrderService's RPC handlers: protobuf in, a domain call, protobuf out (pasar_order.messages).

Validation of each request against the contract, the database connection, request ids
and the translation of errors into statuses happen around these handlers, in the kit's
call pipeline.
"""

from __future__ import annotations

import grpc

from pasar.order.v1 import order_service_pb2, order_service_pb2_grpc
from pasar_order import messages, orders
from pasar_order.checkout import Checkout
from pasar_order.lookups import OrderLookup
from pasar_order.models import lines_of
from pasar_order.settlement import OrderSettler


class OrderServicer(order_service_pb2_grpc.OrderServiceServicer):
    def __init__(self, checkout: Checkout, settler: OrderSettler, lookup: OrderLookup) -> None:
        self.checkout = checkout
        self.settler = settler
        self.lookup = lookup

    def CreateOrder(
        self, request: order_service_pb2.CreateOrderRequest, context: grpc.ServicerContext
    ) -> order_service_pb2.CreateOrderResponse:
        placed = self.checkout.place_order(messages.order_request(request))
        return messages.create_order_response(placed)

    def LookupOrder(
        self, request: order_service_pb2.LookupOrderRequest, context: grpc.ServicerContext
    ) -> order_service_pb2.LookupOrderResponse:
        found = self.lookup.lookup(request.order_number, request.contact)
        return order_service_pb2.LookupOrderResponse(
            order=messages.order_message(found.order, found.lines), access_token=found.access_token
        )

    def GetOrder(
        self, request: order_service_pb2.GetOrderRequest, context: grpc.ServicerContext
    ) -> order_service_pb2.GetOrderResponse:
        order = orders.find_visible(request.id, request.token)
        return order_service_pb2.GetOrderResponse(order=messages.order_message(order, lines_of(order)))

    def CancelOrder(
        self, request: order_service_pb2.CancelOrderRequest, context: grpc.ServicerContext
    ) -> order_service_pb2.CancelOrderResponse:
        order = self.settler.cancel(orders.find_visible(request.id, request.token))
        return order_service_pb2.CancelOrderResponse(order=messages.order_message(order, lines_of(order)))
