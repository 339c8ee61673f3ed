"""Tracing on, over a real server and channel: one trace per call, and nothing else changes."""

# The fake servicers implement only the RPCs under test; mypy-protobuf marks the others
# abstract, which is what keeps real servicers complete.
# mypy: disable-error-code="abstract"

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import grpc
import peewee
import pytest
from conftest import CALLER_TOKEN, FakeCatalog, FakePaymentEvents
from grpc_health.v1 import health_pb2, health_pb2_grpc
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from pasar.payment.v1 import payment_service_pb2, payment_service_pb2_grpc
from pasar.product.v1 import product_service_pb2, product_service_pb2_grpc
from pasar.product.v1.error_reason_pb2 import ErrorReason as ProductErrorReason
from pasar_kit import database as db
from pasar_kit.channels import open_channel
from pasar_kit.config import Env
from pasar_kit.errors import error_info
from pasar_kit.logs import configure_logging, request_context
from pasar_kit.server import GrpcServer
from pasar_testkit.spans import recorded_spans
from pasar_testkit.waiting import wait_for

GET_PRODUCT = "/pasar.product.v1.ProductService/GetProduct"
WATCH = "/pasar.payment.v1.PaymentService/WatchPaymentEvents"


def product_stub(server: GrpcServer) -> product_service_pb2_grpc.ProductServiceStub:
    return product_service_pb2_grpc.ProductServiceStub(
        open_channel(f"127.0.0.1:{server.port}", default_timeout=5)
    )


def spans_named(exporter: InMemorySpanExporter, name: str) -> list[ReadableSpan]:
    return [span for span in exporter.get_finished_spans() if span.name == name]


def one(exporter: InMemorySpanExporter, name: str) -> ReadableSpan:
    found = spans_named(exporter, name)
    assert len(found) == 1, [span.name for span in exporter.get_finished_spans()]
    return found[0]


@pytest.fixture
def traced_database(database_url: str) -> Iterator[tuple[InMemorySpanExporter, peewee.Database]]:
    """Tracing on with the driver of database_url instrumented (configured before the database
    opens, as ServiceCli does), and that database."""
    with recorded_spans("svc-test", Env({"DATABASE_URL": database_url})) as exporter:
        database = db.connect(database_url, max_connections=4)
        try:
            yield exporter, database
        finally:
            db.close_pool(database)


def test_a_call_is_a_server_span_beneath_the_client_span_with_its_sql_beneath_it(
    traced_database: tuple[InMemorySpanExporter, peewee.Database], start_server: Callable[..., GrpcServer]
) -> None:
    spans, database = traced_database
    server = start_server(FakeCatalog(database), database)
    with request_context("purchase-7"):
        product_stub(server).GetProduct(product_service_pb2.GetProductRequest(id="needs-db"))
    spans_of_call = spans_named(spans, GET_PRODUCT)
    client = next(span for span in spans_of_call if span.kind == trace.SpanKind.CLIENT)
    served = next(span for span in spans_of_call if span.kind == trace.SpanKind.SERVER)
    assert served.parent is not None
    assert (served.parent.trace_id, served.parent.span_id) == (
        client.context.trace_id,
        client.context.span_id,
    )
    assert (served.attributes or {})["pasar.request_id"] == "purchase-7"
    statements = [span for span in spans.get_finished_spans() if span.name == "SELECT"]
    assert statements, [span.name for span in spans.get_finished_spans()]
    for statement in statements:
        assert statement.parent is not None
        assert statement.parent.span_id == served.context.span_id
        assert (statement.attributes or {})["db.system"] == ("mysql" if db.is_mysql(database) else "sqlite")


def test_statements_outside_any_span_make_no_trace(
    spans: InMemorySpanExporter, start_server: Callable[..., GrpcServer], tmp_path: Path
) -> None:
    database = db.connect(f"sqlite:///{tmp_path / 'probed.db'}", max_connections=4)
    start_server(FakeCatalog(database), database, health_probe_seconds=0.1)
    db.ping(database)  # as the health probe does, every few seconds
    threading.Event().wait(0.3)  # a few probes
    assert spans.get_finished_spans() == ()


def test_health_checks_make_no_span_on_either_side(
    spans: InMemorySpanExporter, start_server: Callable[..., GrpcServer]
) -> None:
    """A readiness probe asks every few seconds (the gateway's /readyz through open_channel):
    neither the client nor the server makes a span of it, while a contract call still does."""
    server = start_server(FakeCatalog())
    channel = open_channel(f"127.0.0.1:{server.port}", default_timeout=5)
    health: Any = health_pb2_grpc.HealthStub(channel)  # its stubs lack the Check attribute
    answer = health.Check(health_pb2.HealthCheckRequest(service=""))
    assert answer.status == health_pb2.HealthCheckResponse.SERVING
    assert health.Check.future(health_pb2.HealthCheckRequest(service="")).result().status == answer.status
    assert spans.get_finished_spans() == ()
    product_service_pb2_grpc.ProductServiceStub(channel).GetProduct(
        product_service_pb2.GetProductRequest(id="pulsa")
    )
    assert {span.kind for span in spans_named(spans, GET_PRODUCT)} == {
        trace.SpanKind.CLIENT,
        trace.SpanKind.SERVER,
    }


def test_a_service_error_reaches_the_client_with_its_details_and_marks_the_span(
    spans: InMemorySpanExporter, start_server: Callable[..., GrpcServer]
) -> None:
    with pytest.raises(grpc.RpcError) as failure:
        product_stub(start_server(FakeCatalog())).GetProduct(
            product_service_pb2.GetProductRequest(id="missing")
        )
    error = failure.value
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert error.details() == "product 'missing' not found"
    info = error_info(error)
    assert info is not None
    assert (info.reason, dict(info.metadata)) == (
        ProductErrorReason.Name(ProductErrorReason.PRODUCT_NOT_FOUND),
        {"product_id": "missing"},
    )
    served = next(span for span in spans_named(spans, GET_PRODUCT) if span.kind == trace.SpanKind.SERVER)
    # NOT_FOUND is the caller's failure: the code is recorded, the span's status stays unset.
    assert (served.attributes or {})["rpc.grpc.status_code"] == grpc.StatusCode.NOT_FOUND.value[0]
    assert served.status.status_code == trace.StatusCode.UNSET


def test_an_internal_error_marks_the_server_span_as_failed(
    spans: InMemorySpanExporter, start_server: Callable[..., GrpcServer]
) -> None:
    with pytest.raises(grpc.RpcError) as failure:
        product_stub(start_server(FakeCatalog())).GetProduct(
            product_service_pb2.GetProductRequest(id="crash")
        )
    assert failure.value.code() == grpc.StatusCode.INTERNAL
    assert failure.value.details() == "internal error"
    served = next(span for span in spans_named(spans, GET_PRODUCT) if span.kind == trace.SpanKind.SERVER)
    assert (served.attributes or {})["rpc.grpc.status_code"] == grpc.StatusCode.INTERNAL.value[0]
    assert served.status.status_code == trace.StatusCode.ERROR


def test_a_server_stream_still_streams_and_its_call_can_be_cancelled(
    spans: InMemorySpanExporter, watch_server: Callable[..., tuple[GrpcServer, FakePaymentEvents]]
) -> None:
    server, events = watch_server()
    channel = open_channel(f"127.0.0.1:{server.port}", default_timeout=10, caller_token=CALLER_TOKEN)
    stub = payment_service_pb2_grpc.PaymentServiceStub(channel)
    stream = stub.WatchPaymentEvents(payment_service_pb2.WatchPaymentEventsRequest(after_sequence=4))
    received = [next(stream).event.sequence for _ in range(3)]
    assert received == [5, 6, 7]
    cast(grpc.Call, stream).cancel()  # svc-order's consumer does this at stop
    assert events.ended.wait(5)
    with pytest.raises(grpc.RpcError) as ended:
        next(stream)
    assert cast(grpc.Call, ended.value).code() == grpc.StatusCode.CANCELLED
    # the server span ends once the stream's generators have unwound, just after the servicer's
    [served] = wait_for(lambda: spans_named(spans, WATCH), timeout=5, what="the stream's server span")
    assert served.kind == trace.SpanKind.SERVER


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_log_lines_inside_a_call_carry_its_trace_and_span_ids(
    spans: InMemorySpanExporter,
    start_server: Callable[..., GrpcServer],
    capsys: pytest.CaptureFixture[str],
    log_format: str,
) -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    configure_logging("svc-test", "info", log_format)
    try:
        stub = product_stub(start_server(FakeCatalog()))
        logging.getLogger("test").info("outside any span")
        stub.GetProduct(product_service_pb2.GetProductRequest(id="pulsa"))
    finally:
        root.handlers[:], root.level = saved_handlers, saved_level
    served = next(span for span in spans_named(spans, GET_PRODUCT) if span.kind == trace.SpanKind.SERVER)
    trace_id, span_id = f"{served.context.trace_id:032x}", f"{served.context.span_id:016x}"
    output = capsys.readouterr().out.splitlines()
    if log_format == "text":
        [call] = [line for line in output if " rpc " in line]
        assert f" t:{trace_id[:8]} rpc " in call
        [outside] = [line for line in output if "outside any span" in line]
        assert " t:" not in outside
        return
    lines = [json.loads(line) for line in output]
    [call] = [line for line in lines if line["message"] == "rpc"]
    assert (call["trace_id"], call["span_id"]) == (trace_id, span_id)
    [outside] = [line for line in lines if line["message"] == "outside any span"]
    assert "trace_id" not in outside
    assert "span_id" not in outside
