"""A backend address naming several instances: calls are spread, and an instance that is down is skipped."""

from __future__ import annotations

import time

from conftest import AppFactory
from fakes import Behaviour, Catalog, FakeProductService, FakeShop, product_registration

from pasar_testkit.fake_server import FakeGrpcServer


def product_instance(behaviour: Behaviour) -> FakeGrpcServer:
    servicer = FakeProductService(Catalog(), behaviour)  # type: ignore[abstract]
    server = FakeGrpcServer([product_registration(servicer)], max_workers=8)
    server.start()
    return server


def test_calls_are_balanced_across_instances_and_skip_one_that_is_down(
    make_app: AppFactory, shop: FakeShop
) -> None:
    first, second = Behaviour(), Behaviour()
    instances = [product_instance(first), product_instance(second)]
    try:
        target = "ipv4:" + ",".join(instance.address for instance in instances)
        client = make_app(PRODUCT_ADDRESS=target, CATALOG_CACHE="false").test_client()
        for _ in range(20):
            assert client.get("/api/v1/categories").status_code == 200
        assert len(first.calls) >= 5
        assert len(second.calls) >= 5

        instances[0].stop()
        before = len(second.calls)
        statuses = []
        for _ in range(20):
            statuses.append(client.get("/api/v1/categories").status_code)
            time.sleep(0.01)
        assert statuses == [200] * 20
        assert len(second.calls) - before == 20
    finally:
        for instance in instances:
            instance.stop()
