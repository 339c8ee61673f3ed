"""The CreateOrder request a shopper sends, written once for every suite that places orders."""

from __future__ import annotations

from pasar.order.v1 import order_service_pb2


def create_order_request(
    *lines: tuple[str, int],
    request_id: str = "",
    email: str = "budi@example.co.id",
    channel: str = "bca_va",
    language: str = "",
) -> order_service_pb2.CreateOrderRequest:
    """lines: (package id, quantity) pairs; channel: the payment channel's code."""
    return order_service_pb2.CreateOrderRequest(
        request_id=request_id,
        customer_email=email,
        lines=[order_service_pb2.CreateOrderLine(package_id=p, quantity=q) for p, q in lines],
        payment_channel_code=channel,
        language_code=language,
    )
