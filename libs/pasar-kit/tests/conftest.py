"""Fixtures of pasar-kit's own tests: a fake catalog servicer on a real GrpcServer."""

# The fake servicers implement only the RPCs under test; mypy-protobuf marks the others
# abstract, which is what keeps real servicers complete.
# mypy: disable-error-code="abstract"

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import peewee
import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from pasar.payment.v1 import payment_pb2, payment_service_pb2, payment_service_pb2_grpc
from pasar.product.v1 import product_pb2, product_service_pb2, product_service_pb2_grpc
from pasar.product.v1.error_reason_pb2 import ErrorReason as ProductErrorReason
from pasar_kit import database as db
from pasar_kit import errors
from pasar_kit.callers import InternalCallers
from pasar_kit.logs import request_id_var
from pasar_kit.server import GrpcServer, ServerSettings, ServiceRegistration
from pasar_testkit.spans import recorded_spans

pytest_plugins = ["pasar_testkit.fixtures"]

PRODUCT_SERVICE = product_service_pb2.DESCRIPTOR.services_by_name["ProductService"]
PAYMENT_SERVICE = payment_service_pb2.DESCRIPTOR.services_by_name["PaymentService"]
CALLER_TOKEN = "a-test-caller-token-of-32-bytes-at-least"


class FakeCatalog(product_service_pb2_grpc.ProductServiceServicer):
    """GetProduct behaves according to the requested id, so tests can provoke each path."""

    def __init__(self, database: peewee.Database | None = None) -> None:
        self.database = database
        self.seen_request_ids: list[str] = []
        self.calls = 0
        self.lock = threading.Lock()
        self.on_get: Callable[[str], object] | None = None

    def GetProduct(
        self, request: product_service_pb2.GetProductRequest, context: grpc.ServicerContext
    ) -> product_service_pb2.GetProductResponse:
        with self.lock:
            self.calls += 1
        self.seen_request_ids.append(request_id_var.get())
        if self.on_get:
            self.on_get(request.id)
        if request.id == "missing":
            raise errors.NotFound(
                "product 'missing' not found",
                reason=ProductErrorReason.Name(ProductErrorReason.PRODUCT_NOT_FOUND),
                metadata={"product_id": "missing"},
            )
        if request.id == "crash":
            raise RuntimeError("a secret internal detail")
        if request.id == "needs-db":
            assert self.database is not None
            self.database.execute_sql("SELECT 1")
            assert not self.database.is_closed()
        return product_service_pb2.GetProductResponse(
            product=product_pb2.Product(id=request.id, display_name="Pulsa")
        )


def registration(servicer: Any) -> ServiceRegistration:
    return ServiceRegistration(
        PRODUCT_SERVICE,
        lambda server: product_service_pb2_grpc.add_ProductServiceServicer_to_server(servicer, server),
    )


@pytest.fixture
def pooled(database_url: str) -> Iterator[peewee.Database]:
    """A pool of four connections on the test's database, closed after it."""
    database = db.connect(database_url, max_connections=4)
    try:
        yield database
    finally:
        db.close_pool(database)


@pytest.fixture
def start_server(grpc_servers: Callable[..., GrpcServer]) -> Callable[..., GrpcServer]:
    """Starts a GrpcServer for servicer on a free port (stopped at the end of the test);
    callers: who may call the internal methods; settings: ServerSettings' fields."""

    def start(
        servicer: Any,
        database: peewee.Database | None = None,
        callers: InternalCallers | None = None,
        **settings: Any,
    ) -> GrpcServer:
        server_settings = ServerSettings("127.0.0.1:0", **settings)
        return grpc_servers(server_settings, [registration(servicer)], database, callers=callers)

    return start


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on for this test (configure it before opening a database: the driver's
    instrumentation wraps connections made afterwards); every finished span in the exporter."""
    with recorded_spans("svc-test") as exporter:
        yield exporter


class FakePaymentEvents(payment_service_pb2_grpc.PaymentServiceServicer):
    """WatchPaymentEvents sends three events, then waits until the client goes away."""

    def __init__(self) -> None:
        self.ended = threading.Event()

    def WatchPaymentEvents(
        self, request: payment_service_pb2.WatchPaymentEventsRequest, context: grpc.ServicerContext
    ) -> Iterator[payment_service_pb2.WatchPaymentEventsResponse]:
        try:
            for sequence in range(request.after_sequence + 1, request.after_sequence + 4):
                yield payment_service_pb2.WatchPaymentEventsResponse(
                    event=payment_pb2.PaymentEvent(sequence=sequence)
                )
            while context.is_active():
                threading.Event().wait(0.05)
        finally:
            self.ended.set()


@pytest.fixture
def watch_server(
    grpc_servers: Callable[..., GrpcServer],
) -> Callable[..., tuple[GrpcServer, FakePaymentEvents]]:
    """Starts a server of FakePaymentEvents (settings: ServerSettings' fields) that accepts
    the caller "order" with CALLER_TOKEN."""

    def start(**settings: Any) -> tuple[GrpcServer, FakePaymentEvents]:
        events = FakePaymentEvents()
        registration = ServiceRegistration(
            PAYMENT_SERVICE,
            lambda server: payment_service_pb2_grpc.add_PaymentServiceServicer_to_server(events, server),
        )
        callers = InternalCallers(frozenset({"order"}), {"order": CALLER_TOKEN})
        server_settings = ServerSettings("127.0.0.1:0", **settings)
        return grpc_servers(server_settings, [registration], None, callers=callers), events

    return start
