"""The common deadline check judges a server faster than gRPC's deadlines fairly.

gRPC keeps a deadline in whole milliseconds, rounded up, so a call given a shorter one
(0.1 ms) that a server answers in less than a millisecond (a cached catalog page) succeeds
every time; the check must pass such a correct server, not fail it at random.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from pasar.product.v1 import product_service_pb2 as catalog_pb2
from pasar.product.v1 import product_service_pb2_grpc as catalog_pb2_grpc
from pasar_conformance.common import CommonChecks, Suite
from pasar_conformance.target import Target
from pasar_kit.server import ServiceRegistration
from pasar_testkit.fake_server import FakeGrpcServer

PRODUCT_SERVICE = "pasar.product.v1.ProductService"
LIST_CATEGORIES = f"{PRODUCT_SERVICE}/ListCategories"


class InstantCatalog(catalog_pb2_grpc.ProductServiceServicer):
    """ListCategories answered in well under a millisecond (its other methods: UNIMPLEMENTED)."""

    def ListCategories(
        self, request: catalog_pb2.ListCategoriesRequest, context: grpc.ServicerContext
    ) -> catalog_pb2.ListCategoriesResponse:
        return catalog_pb2.ListCategoriesResponse()


@pytest.fixture
def instant_target() -> Iterator[Target]:
    service = ServiceRegistration(
        catalog_pb2.DESCRIPTOR.services_by_name["ProductService"],
        lambda server: catalog_pb2_grpc.add_ProductServiceServicer_to_server(
            InstantCatalog(),  # type: ignore[abstract]
            server,
        ),
    )
    with FakeGrpcServer([service]) as server:
        target = Target(server.address)
        target.call(LIST_CATEGORIES, catalog_pb2.ListCategoriesRequest())  # connected, as in a run
        try:
            yield target
        finally:
            target.close()


class InstantChecks(CommonChecks):
    suite = Suite(
        package="pasar.product.v1",
        services=(PRODUCT_SERVICE,),
        probe=(LIST_CATEGORIES, catalog_pb2.ListCategoriesRequest),
    )


def test_a_server_faster_than_any_deadline_passes_the_deadline_check(instant_target: Target) -> None:
    InstantChecks().test_a_short_deadline_ends_in_deadline_exceeded_and_never_hangs(instant_target)
