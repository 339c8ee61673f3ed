"""A gRPC round trip through the generated Python stubs, on a real server on loopback."""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest
from fixtures import create_order_response, rupiah

from pasar.payment.v1 import payment_pb2, payment_service_pb2, payment_service_pb2_grpc
from pasar.product.v1 import product_pb2, product_service_pb2, product_service_pb2_grpc


class Catalog(product_service_pb2_grpc.ProductServiceServicer):
    """Answers GetProduct for one product, NOT_FOUND for any other id."""

    def GetProduct(
        self, request: product_service_pb2.GetProductRequest, context: grpc.ServicerContext
    ) -> product_service_pb2.GetProductResponse:
        if request.id != "pulsa-nusantara":
            context.abort(grpc.StatusCode.NOT_FOUND, f"product {request.id!r} not found")
        return product_service_pb2.GetProductResponse(
            product=product_pb2.Product(
                id=request.id,
                display_name="Pulsa Nusantara",
                packages=[
                    product_pb2.Package(id="pulsa-nusantara-10k", price=rupiah(11_500), stock_available=7)
                ],
            )
        )


class Events(payment_service_pb2_grpc.PaymentServiceServicer):
    """Streams three events after the requested sequence."""

    def WatchPaymentEvents(
        self, request: payment_service_pb2.WatchPaymentEventsRequest, context: grpc.ServicerContext
    ) -> Iterator[payment_service_pb2.WatchPaymentEventsResponse]:
        payment = create_order_response().payment
        for sequence in range(request.after_sequence + 1, request.after_sequence + 4):
            yield payment_service_pb2.WatchPaymentEventsResponse(
                event=payment_pb2.PaymentEvent(
                    sequence=sequence, type=payment_pb2.PAYMENT_EVENT_TYPE_CREATED, payment=payment
                )
            )


@pytest.fixture
def channel() -> Iterator[grpc.Channel]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    # The generated servicers declare every RPC abstract, so that a real service cannot
    # forget one; these test doubles implement only what the tests call.
    product_service_pb2_grpc.add_ProductServiceServicer_to_server(Catalog(), server)  # type: ignore[abstract]
    payment_service_pb2_grpc.add_PaymentServiceServicer_to_server(Events(), server)  # type: ignore[abstract]
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            yield channel
    finally:
        server.stop(grace=None)


def test_unary_call_round_trips_a_message(channel: grpc.Channel) -> None:
    stub = product_service_pb2_grpc.ProductServiceStub(channel)
    response = stub.GetProduct(product_service_pb2.GetProductRequest(id="pulsa-nusantara"), timeout=5)
    assert response.product.packages[0].price.amount == 11_500
    assert response.product.packages[0].stock_available == 7


def test_status_code_reaches_the_client(channel: grpc.Channel) -> None:
    stub = product_service_pb2_grpc.ProductServiceStub(channel)
    with pytest.raises(grpc.RpcError) as failure:
        stub.GetProduct(product_service_pb2.GetProductRequest(id="nope"), timeout=5)
    assert failure.value.code() == grpc.StatusCode.NOT_FOUND
    assert "nope" in (failure.value.details() or "")


def test_server_stream_round_trips_messages(channel: grpc.Channel) -> None:
    stub = payment_service_pb2_grpc.PaymentServiceStub(channel)
    events = list(
        stub.WatchPaymentEvents(payment_service_pb2.WatchPaymentEventsRequest(after_sequence=41), timeout=5)
    )
    assert [response.event.sequence for response in events] == [42, 43, 44]
    assert all(response.event.payment.qris.qr_string for response in events)
