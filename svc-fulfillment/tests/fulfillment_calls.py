"""What the process tests send svc-fulfillment, as svc-order sends it: a stub whose channel
carries the order service's credential and is closed at the end of the block, and an
electricity-token line to fulfil."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import grpc

from pasar.common.v1 import money_pb2
from pasar.fulfillment.v1 import fulfillment_service_pb2, fulfillment_service_pb2_grpc
from pasar.product.v1 import product_pb2
from pasar_testkit.callers import as_order_service


@contextmanager
def order_service_stub(address: str) -> Iterator[fulfillment_service_pb2_grpc.FulfillmentServiceStub]:
    with grpc.insecure_channel(address) as channel:
        yield fulfillment_service_pb2_grpc.FulfillmentServiceStub(as_order_service(channel))


def electricity_token_line(order_id: str) -> fulfillment_service_pb2.CreateFulfillmentRequest:
    """A 20,000 IDR PLN token for a meter the sandbox delivers to."""
    return fulfillment_service_pb2.CreateFulfillmentRequest(
        order_id=order_id,
        package_id="token-pln-20k",
        product_id="token-pln",
        delivery_kind=product_pb2.DELIVERY_KIND_ELECTRICITY_TOKEN,
        quantity=1,
        amount=money_pb2.Money(currency_code="IDR", amount=20000),
        destination={"meter_number": "14123456789"},
    )
