"""The server around every service: health that tells the truth, reflection, graceful stop."""

# The fake servicers implement only the RPCs under test; mypy-protobuf marks the others
# abstract, which is what keeps real servicers complete.
# mypy: disable-error-code="abstract"

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from conftest import PRODUCT_SERVICE, FakeCatalog
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from pasar.product.v1 import product_service_pb2, product_service_pb2_grpc
from pasar_kit import database as db
from pasar_kit.server import GrpcServer, ServerSettings
from pasar_testkit.mariadb import MariaDBServer

SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def health_of(port: int, service: str = "") -> int:
    with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
        stub: Any = health_pb2_grpc.HealthStub(channel)
        return int(stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=2).status)


def wait_for_health(port: int, expected: int, timeout: float = 15.0) -> float:
    """Seconds until the server reports expected."""
    started = time.monotonic()
    while health_of(port) != expected:
        if time.monotonic() - started > timeout:
            raise AssertionError(f"health did not become {expected} within {timeout}s")
        time.sleep(0.05)
    return time.monotonic() - started


def test_health_is_reported_per_service(start_server: Callable[..., GrpcServer]) -> None:
    server = start_server(FakeCatalog())
    assert health_of(server.port) == SERVING
    assert health_of(server.port, PRODUCT_SERVICE.full_name) == SERVING


@pytest.mark.mariadb
def test_health_follows_the_database(
    start_server: Callable[..., GrpcServer], own_mariadb: MariaDBServer
) -> None:
    database = db.connect(own_mariadb.create_database(), max_connections=4)
    server = start_server(FakeCatalog(database), database, health_probe_seconds=0.2)
    assert health_of(server.port) == SERVING
    own_mariadb.stop()
    wait_for_health(server.port, NOT_SERVING)
    assert health_of(server.port, PRODUCT_SERVICE.full_name) == NOT_SERVING
    own_mariadb.start()
    wait_for_health(server.port, SERVING, timeout=30)


def test_reflection_lists_the_services(start_server: Callable[..., GrpcServer]) -> None:
    server = start_server(FakeCatalog())
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub: Any = reflection_pb2_grpc.ServerReflectionStub(channel)
        [response] = stub.ServerReflectionInfo(
            iter([reflection_pb2.ServerReflectionRequest(list_services="")])
        )
    names = {service.name for service in response.list_services_response.service}
    assert {"pasar.product.v1.ProductService", "grpc.health.v1.Health"} <= names


def test_stop_lets_in_flight_calls_finish_and_refuses_new_ones(
    start_server: Callable[..., GrpcServer],
) -> None:
    catalog = FakeCatalog()
    started = threading.Event()

    def slow(_product_id: str) -> None:
        started.set()
        time.sleep(0.5)

    catalog.on_get = slow
    server = start_server(catalog)
    channel = grpc.insecure_channel(f"127.0.0.1:{server.port}")
    stub = product_service_pb2_grpc.ProductServiceStub(channel)
    in_flight = stub.GetProduct.future(product_service_pb2.GetProductRequest(id="pulsa"), timeout=5)
    assert started.wait(5)
    stopper = threading.Thread(target=server.stop, kwargs={"grace": 5})
    stopper.start()
    assert in_flight.result().product.id == "pulsa", "the in-flight call completes during the grace period"
    stopper.join(10)
    with pytest.raises(grpc.RpcError) as refused:
        stub.GetProduct(product_service_pb2.GetProductRequest(id="pulsa"), timeout=2)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    channel.close()


def test_background_tasks_stop_with_the_server() -> None:
    ticks: list[float] = []

    def ticker(stopping: threading.Event) -> None:
        while not stopping.wait(0.01):
            ticks.append(time.monotonic())

    server = GrpcServer(ServerSettings("127.0.0.1:0"), [], None, background=[ticker])
    server.start()
    time.sleep(0.1)
    server.stop(grace=0)
    count = len(ticks)
    time.sleep(0.1)
    assert count > 0
    assert len(ticks) == count, "the task stopped when the server stopped"


class HealthWatch:
    """A real grpc.health.v1.Health/Watch stream; every status it sends, as it arrives."""

    def __init__(self, port: int) -> None:
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        stub: Any = health_pb2_grpc.HealthStub(self.channel)
        self.stream = stub.Watch(health_pb2.HealthCheckRequest(service=""), timeout=120)
        self.statuses: list[int] = []
        self.changed = threading.Condition()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for response in self.stream:
                with self.changed:
                    self.statuses.append(int(response.status))
                    self.changed.notify_all()
        except grpc.RpcError:
            pass  # cancelled by close()

    def wait_for(self, count: int, timeout: float = 30.0) -> list[int]:
        with self.changed:
            self.changed.wait_for(lambda: len(self.statuses) >= count, timeout)
            return list(self.statuses)

    def close(self) -> None:
        self.stream.cancel()
        self.channel.close()
        self.thread.join(timeout=5)


@pytest.fixture
def watch_health() -> Iterator[Callable[[int], HealthWatch]]:
    watches: list[HealthWatch] = []

    def watch(port: int) -> HealthWatch:
        watches.append(HealthWatch(port))
        return watches[-1]

    yield watch
    for watch_ in watches:
        watch_.close()


def test_health_watch_sends_nothing_while_the_status_stays(
    start_server: Callable[..., GrpcServer],
    watch_health: Callable[[int], HealthWatch],
    database_url: str,
) -> None:
    database = db.connect(database_url, max_connections=4)
    try:
        server = start_server(FakeCatalog(database), database, health_probe_seconds=0.1)
        watch = watch_health(server.port)
        assert watch.wait_for(1) == [SERVING]
        time.sleep(1.0)  # ten probes, all finding the database answering
        assert watch.wait_for(2, timeout=0.2) == [SERVING]
    finally:
        db.close_pool(database)


@pytest.mark.mariadb
def test_health_watch_sends_one_message_per_change_of_the_database(
    start_server: Callable[..., GrpcServer],
    watch_health: Callable[[int], HealthWatch],
    own_mariadb: MariaDBServer,
) -> None:
    database = db.connect(own_mariadb.create_database(), max_connections=4)
    server = start_server(FakeCatalog(database), database, health_probe_seconds=0.1)
    watch = watch_health(server.port)
    assert watch.wait_for(1) == [SERVING]
    own_mariadb.stop()
    assert watch.wait_for(2) == [SERVING, NOT_SERVING]
    time.sleep(1.0)  # probes keep failing: nothing new to say
    own_mariadb.start()
    assert watch.wait_for(3) == [SERVING, NOT_SERVING, SERVING]
    time.sleep(1.0)
    assert watch.wait_for(4, timeout=0.2) == [SERVING, NOT_SERVING, SERVING]
