"""pasar_testkit.jaeger against the real Jaeger it starts: spans sent over OTLP (gRPC and HTTP,
as the services' exporters send them) come back from its query API with their parents and
links, and the process listens on the ports it was given and no other."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry import trace
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcSpanExporter
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter

from pasar_testkit.jaeger import SPAN_KIND_CONSUMER, SPAN_KIND_SERVER, JaegerServer


def listening_ports(pid: int) -> set[int]:
    """The TCP ports a process listens on, from /proc (its sockets' inodes in the LISTEN state)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[len("socket:[") : -1])
    ports = set()
    for table in ("tcp", "tcp6"):
        for line in Path(f"/proc/{pid}/net/{table}").read_text().splitlines()[1:]:
            fields = line.split()
            local, state, inode = fields[1], fields[3], fields[9]
            if state == "0A" and inode in inodes:  # 0A: LISTEN
                ports.add(int(local.rpartition(":")[2], 16))
    return ports


def provider(service: str, exporter: SpanExporter) -> TracerProvider:
    tracer_provider = TracerProvider(resource=Resource.create({"service.name": service}))
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    return tracer_provider


@pytest.fixture
def tracer_providers(jaeger: JaegerServer) -> Iterator[tuple[TracerProvider, TracerProvider]]:
    """A provider exporting over OTLP gRPC ("uji-grpc") and one over OTLP HTTP ("uji-http")."""
    over_grpc = provider("uji-grpc", GrpcSpanExporter(endpoint=jaeger.otlp_endpoint, insecure=True))
    over_http = provider("uji-http", HttpSpanExporter(endpoint=f"{jaeger.otlp_http_endpoint}/v1/traces"))
    yield over_grpc, over_http
    over_grpc.shutdown()
    over_http.shutdown()


def test_spans_sent_over_both_otlp_protocols_come_back_with_their_parents_and_links(
    jaeger: JaegerServer, tracer_providers: tuple[TracerProvider, TracerProvider]
) -> None:
    over_grpc, over_http = tracer_providers
    with over_grpc.get_tracer("uji").start_as_current_span(
        "checkout", kind=trace.SpanKind.SERVER
    ) as checkout:
        checkout.set_attribute("pasar.order.id", "ord-1")
        with over_grpc.get_tracer("uji").start_as_current_span("INSERT"):
            pass
    cause = over_http.get_tracer("uji").start_span("simulate", kind=trace.SpanKind.SERVER)
    cause.end()
    settled = over_http.get_tracer("uji").start_span(
        "process payment-events",
        context=trace.set_span_in_context(checkout),
        kind=trace.SpanKind.CONSUMER,
        links=[trace.Link(cause.get_span_context())],
        attributes={"messaging.message.id": 7},
    )
    settled.end()
    trace_id = format(checkout.get_span_context().trace_id, "032x")
    cause_trace_id = format(cause.get_span_context().trace_id, "032x")

    found = jaeger.wait_for_trace(trace_id, lambda found: len(found.spans) == 3)

    assert found.services == {"uji-grpc", "uji-http"}
    [root] = found.find(name="checkout", kind=SPAN_KIND_SERVER)
    assert root.parent_span_id == ""
    assert root.attributes["pasar.order.id"] == "ord-1"
    [insert] = found.find(name="INSERT")
    assert found.ancestors(insert) == [root]
    [consumer] = found.find(service="uji-http", kind=SPAN_KIND_CONSUMER)
    assert found.is_beneath(consumer, root)
    assert consumer.links_to(cause_trace_id)
    assert consumer.attributes["messaging.message.id"] == 7
    assert {"uji-grpc", "uji-http"} <= set(jaeger.services())
    assert trace_id in {each.trace_id for each in jaeger.traces("uji-grpc", operation_name="checkout")}


def test_a_trace_jaeger_has_not_seen_is_none(jaeger: JaegerServer) -> None:
    assert jaeger.trace("0af7651916cd43dd8448eb211c80319c") is None
    assert jaeger.traces("no-such-service") == []


def test_jaeger_listens_on_its_given_loopback_ports_and_no_other(jaeger: JaegerServer) -> None:
    assert jaeger.process is not None
    assert listening_ports(jaeger.process.pid) == {
        jaeger.otlp_grpc_port,
        jaeger.otlp_http_port,
        jaeger.query_http_port,
        jaeger.query_grpc_port,
        jaeger.health_port,
    }


class BrokenQueryJaeger(JaegerServer):
    """A Jaeger whose query API check fails once its health check has answered."""

    pids: list[int]

    def _query_api_answers(self) -> bool:
        assert self.process is not None
        self.pids = [self.process.pid]
        raise ConnectionResetError("the query API broke")


def test_a_jaeger_whose_start_fails_is_not_left_running(jaeger: JaegerServer, tmp_path: Path) -> None:
    # jaeger: the session's, so that the binary is built before this one starts.
    server = BrokenQueryJaeger(tmp_path)

    with pytest.raises(ConnectionResetError):
        server.start()

    assert server.process is None
    [pid] = server.pids
    assert not Path(f"/proc/{pid}").exists(), "Jaeger still runs after its start failed"
