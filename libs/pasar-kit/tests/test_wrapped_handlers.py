"""The interceptors wrap each method's handler once, yet a handler made for one call (an
admin gate's refusal) still answers that call, and the kept one every other call."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import pytest
from conftest import PRODUCT_SERVICE

from pasar.product.v1 import product_pb2, product_service_pb2, product_service_pb2_grpc
from pasar_kit.server import GrpcServer, ServerSettings, ServiceRegistration

GET_PRODUCT = f"/{PRODUCT_SERVICE.full_name}/GetProduct"


def _answer(request: product_service_pb2.GetProductRequest, _context: grpc.ServicerContext) -> Any:
    return product_service_pb2.GetProductResponse(product=product_pb2.Product(id=request.id))


def _refuse(_request: Any, context: grpc.ServicerContext) -> Any:
    context.abort(grpc.StatusCode.PERMISSION_DENIED, "refused for this call")


class Gate(grpc.GenericRpcHandler):
    """GetProduct's one handler, or, for a call with ``refuse`` metadata, one made for it."""

    def __init__(self) -> None:
        self.kept = grpc.unary_unary_rpc_method_handler(
            _answer,
            request_deserializer=product_service_pb2.GetProductRequest.FromString,
            response_serializer=product_service_pb2.GetProductResponse.SerializeToString,
        )

    def service(
        self, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        if handler_call_details.method != GET_PRODUCT:
            return None
        if ("refuse", "yes") in handler_call_details.invocation_metadata:
            return grpc.unary_unary_rpc_method_handler(
                _refuse,
                request_deserializer=product_service_pb2.GetProductRequest.FromString,
                response_serializer=product_service_pb2.GetProductResponse.SerializeToString,
            )
        return self.kept


@pytest.mark.parametrize("metrics", [False, True], ids=["pipeline", "pipeline-and-metrics"])
def test_a_handler_made_for_one_call_answers_only_that_call(
    grpc_servers: Callable[..., GrpcServer], metrics: bool
) -> None:
    settings = ServerSettings("127.0.0.1:0", metrics_address="127.0.0.1:0" if metrics else None)
    registration = ServiceRegistration(
        PRODUCT_SERVICE, lambda server: server.add_generic_rpc_handlers([Gate()])
    )
    server = grpc_servers(settings, [registration], None)
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        get = product_service_pb2_grpc.ProductServiceStub(channel).GetProduct
        for number in range(3):
            assert (
                get(product_service_pb2.GetProductRequest(id=f"p{number}"), timeout=5).product.id
                == f"p{number}"
            )
            with pytest.raises(grpc.RpcError) as refused:
                get(product_service_pb2.GetProductRequest(id="x"), timeout=5, metadata=(("refuse", "yes"),))
            assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
