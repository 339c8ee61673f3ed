"""svc-fulfillment's traces and metrics as the built binary gives them: its spans in a real
Jaeger, in the caller's trace (CreateFulfillment, its SQL, the biller hand-off, the biller's
call and answer), over OTLP gRPC and HTTP, the last of them flushed at SIGTERM; the trace ids
in its log lines; its Prometheus metrics scraped from the address its start-up line names.
"""

from __future__ import annotations

import secrets
import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from fulfillment_calls import electricity_token_line, order_service_stub

from pasar.fulfillment.v1 import fulfillment_pb2, fulfillment_service_pb2
from pasar_testkit.assertions import eventually
from pasar_testkit.go_service import fulfillment_process
from pasar_testkit.jaeger import SPAN_KIND_CLIENT, SPAN_KIND_CONSUMER, SPAN_KIND_SERVER, JaegerServer, Trace
from pasar_testkit.processes import ComponentProcess, run_to_exit
from pasar_testkit.scrape import scrape

SERVICE = "pasar.fulfillment.v1.FulfillmentService"
CREATE = f"{SERVICE}/CreateFulfillment"
STATE = fulfillment_pb2.FulfillmentState
# Longer than any test: a span reaches Jaeger before the stop only if the batch processor's
# schedule is ignored, so the spans found there were flushed at SIGTERM.
NO_SCHEDULED_EXPORT_MS = "600000"


def delivered(address: str, fulfillment_id: str) -> bool:
    request = fulfillment_service_pb2.GetFulfillmentRequest(id=fulfillment_id)
    with order_service_stub(address) as fulfillments:
        fulfillment = fulfillments.GetFulfillment(request, timeout=5).fulfillment
    return fulfillment.state == STATE.FULFILLMENT_STATE_SUCCEEDED


def whole_fulfillment(trace: Trace) -> bool:
    return bool(trace.find(name="process biller-notifications"))


@pytest.mark.parametrize(
    ("protocol", "service_name"),
    [("grpc", "svc-fulfillment"), ("http/protobuf", "fulfillment-eu")],
)
def test_the_callers_trace_holds_the_fulfillment_and_sigterm_flushes_it(
    jaeger: JaegerServer, tmp_path: Path, protocol: str, service_name: str
) -> None:
    endpoint = jaeger.otlp_endpoint if protocol == "grpc" else jaeger.otlp_http_endpoint
    naming = {"OTEL_SERVICE_NAME": service_name} if service_name != "svc-fulfillment" else {}
    process = fulfillment_process(
        env={
            "DATABASE_URL": f"sqlite:///{tmp_path / 'fulfillment.db'}",
            "PASAR_LOG_FORMAT": "json",
            "PASAR_SANDBOX_BILLER_DELAY_SECONDS": "0.05",
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_EXPORTER_OTLP_PROTOCOL": protocol,
            "OTEL_BSP_SCHEDULE_DELAY": NO_SCHEDULED_EXPORT_MS,
            **naming,
        },
        log_dir=tmp_path / "logs",
    )
    process.start()
    trace_id, caller_span = secrets.token_hex(16), secrets.token_hex(8)
    try:
        with order_service_stub(process.address) as fulfillments:
            created = fulfillments.CreateFulfillment(
                electricity_token_line("ord-traced"),
                timeout=5,
                metadata=(("traceparent", f"00-{trace_id}-{caller_span}-01"), ("x-request-id", "req-traced")),
            ).fulfillment
        eventually(lambda: delivered(process.address, created.id), timeout=15)
    finally:
        assert process.stop(timeout=15) == 0

    trace = jaeger.wait_for_trace(
        trace_id, whole_fulfillment, what="the fulfillment's spans, flushed at SIGTERM"
    )
    assert trace.services == {service_name}, trace.describe()
    (server,) = trace.find(name=CREATE, kind=SPAN_KIND_SERVER)
    assert server.parent_span_id == caller_span
    assert server.attributes["pasar.request_id"] == "req-traced"
    assert server.attributes["pasar.fulfillment.id"] == created.id
    assert {span.name for span in trace.descendants(server) if "db.system.name" in span.attributes} >= {
        "SELECT",
        "INSERT",
    }, trace.describe()
    (hand_off,) = trace.find(name="process biller-requests", kind=SPAN_KIND_CONSUMER)
    assert hand_off.parent_span_id == server.span_id
    assert hand_off.attributes["messaging.destination.name"] == "biller-requests"
    assert hand_off.attributes["messaging.message.id"] == created.id
    (submit,) = trace.find(name="biller submit", kind=SPAN_KIND_CLIENT)
    assert submit.parent_span_id == hand_off.span_id
    (answer,) = trace.find(name="process biller-notifications", kind=SPAN_KIND_CONSUMER)
    assert answer.parent_span_id == server.span_id

    (call_line,) = [
        line
        for line in process.logged_lines()
        if line.get("message") == "rpc" and line.get("method") == f"/{CREATE}"
    ]
    assert (call_line["trace_id"], call_line["span_id"], call_line["request_id"]) == (
        trace_id,
        server.span_id,
        "req-traced",
    )


@pytest.fixture
def service(tmp_path: Path) -> Iterator[ComponentProcess]:
    process = fulfillment_process(
        env={"DATABASE_URL": f"sqlite:///{tmp_path / 'fulfillment.db'}", "PASAR_LOG_FORMAT": "json"},
        log_dir=tmp_path / "logs",
    )
    process.start()
    try:
        yield process
    finally:
        process.stop()


def test_metrics_are_served_where_the_start_up_line_says(service: ComponentProcess) -> None:
    address = service.logged("metrics_address")
    assert isinstance(address, str)
    assert address.startswith("127.0.0.1:"), "loopback by default"
    with order_service_stub(service.address) as fulfillments:
        fulfillments.CreateFulfillment(electricity_token_line("ord-metrics"), timeout=5)
    page = scrape(f"http://{address}/metrics")
    handled = page.value(
        "grpc_server_handled_total",
        grpc_service=SERVICE,
        grpc_method="CreateFulfillment",
        grpc_type="unary",
        grpc_code="OK",
    )
    assert handled == 1
    assert page.value("pasar_event_stream_newest_sequence", stream="fulfillment-events") is not None
    assert page.value("pasar_db_connections_max") == 8
    assert service.logged("trace_id") is None, "tracing is off without an OTLP endpoint"


def test_a_taken_metrics_address_ends_the_start_in_one_line(binary: Path, tmp_path: Path) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        address = f"127.0.0.1:{holder.getsockname()[1]}"
        taken = run_to_exit(
            [str(binary), "serve"],
            {
                "DATABASE_URL": f"sqlite:///{tmp_path / 'fulfillment.db'}",
                "PASAR_LISTEN_ADDRESS": "127.0.0.1:0",
                "PASAR_METRICS_ADDRESS": address,
            },
        )
    assert taken.returncode == 2
    assert taken.stderr.splitlines() == [
        f"svc-fulfillment: PASAR_METRICS_ADDRESS: cannot listen on {address}: the address is already in use"
    ]


@pytest.mark.parametrize(
    ("sampler", "variable"),
    [
        ({"OTEL_TRACES_SAMPLER": "sometimes"}, "OTEL_TRACES_SAMPLER"),
        ({"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "2"}, "OTEL_TRACES_SAMPLER_ARG"),
        (
            {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "half"},
            "OTEL_TRACES_SAMPLER_ARG",
        ),
    ],
    ids=["unknown sampler", "ratio above 1", "ratio not a number"],
)
def test_a_sampler_it_cannot_follow_is_refused_at_start(
    binary: Path, tmp_path: Path, sampler: dict[str, str], variable: str
) -> None:
    refused = run_to_exit(
        [str(binary), "serve"],
        {
            "DATABASE_URL": f"sqlite:///{tmp_path / 'fulfillment.db'}",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317",
            **sampler,
        },
    )
    assert refused.returncode == 2
    (line,) = refused.stderr.splitlines()
    assert line.startswith(f"svc-fulfillment: {variable} must be ")
