"""The common deadline check judges a server faster than gRPC's deadlines fairly.

gRPC keeps a deadline in whole milliseconds, rounded up, so a call given a shorter one
(0.1 ms) that a server answers in less than a millisecond (a cached catalog page) succeeds
every time; the check must pass such a correct server, not fail it at random.
"""

from __future__ import annotations

from collections.abc import Iterator
from concurrent import futures

import grpc
import pytest

from pasar.product.v1 import product_service_pb2 as catalog_pb2
from pasar_conformance.common import CommonChecks, Suite
from pasar_conformance.target import Target

PRODUCT_SERVICE = "pasar.product.v1.ProductService"
LIST_CATEGORIES = f"{PRODUCT_SERVICE}/ListCategories"


def _answer_at_once(
    request: catalog_pb2.ListCategoriesRequest, context: grpc.ServicerContext
) -> catalog_pb2.ListCategoriesResponse:
    return catalog_pb2.ListCategoriesResponse()


@pytest.fixture
def instant_target() -> Iterator[Target]:
    """A real gRPC server on loopback whose ListCategories answers in well under a millisecond."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    handler = grpc.unary_unary_rpc_method_handler(
        _answer_at_once,
        request_deserializer=catalog_pb2.ListCategoriesRequest.FromString,
        response_serializer=catalog_pb2.ListCategoriesResponse.SerializeToString,
    )
    service = grpc.method_handlers_generic_handler(PRODUCT_SERVICE, {"ListCategories": handler})
    server.add_generic_rpc_handlers((service,))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    target = Target(f"127.0.0.1:{port}")
    target.call(LIST_CATEGORIES, catalog_pb2.ListCategoriesRequest())  # connected, as in a run
    try:
        yield target
    finally:
        target.close()
        server.stop(grace=0)


class InstantChecks(CommonChecks):
    suite = Suite(
        package="pasar.product.v1",
        services=(PRODUCT_SERVICE,),
        probe=(LIST_CATEGORIES, catalog_pb2.ListCategoriesRequest),
    )


def test_a_server_faster_than_any_deadline_passes_the_deadline_check(instant_target: Target) -> None:
    InstantChecks().test_a_short_deadline_ends_in_deadline_exceeded_and_never_hangs(instant_target)
