"""Tracing: off unless an OTLP endpoint is set, and then the SDK the way OTEL_* variables say."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from pasar.common.v1.trace_context_pb2 import TraceContext
from pasar_kit import telemetry
from pasar_kit.config import ConfigError, Env

ENDPOINT = {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:4317"}


def run_python(code: str, env: dict[str, str]) -> str:
    """Runs code in a fresh interpreter with exactly env (plus PATH-free basics); its stdout."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={"PYTHONHASHSEED": "0", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


@pytest.mark.parametrize(
    ("env", "on"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": ""}, False),
        (ENDPOINT, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://127.0.0.1:4318/v1/traces"}, True),
        ({**ENDPOINT, "OTEL_SDK_DISABLED": "true"}, False),
        ({**ENDPOINT, "OTEL_SDK_DISABLED": "TRUE"}, False),
        ({**ENDPOINT, "OTEL_SDK_DISABLED": "false"}, True),
        ({**ENDPOINT, "OTEL_TRACES_EXPORTER": "none"}, False),
        ({**ENDPOINT, "OTEL_TRACES_EXPORTER": "otlp"}, True),
    ],
)
def test_tracing_is_on_only_with_an_endpoint_and_not_disabled(env: dict[str, str], on: bool) -> None:
    assert telemetry.tracing_wanted(Env(env)) is on


def test_off_imports_no_opentelemetry_module_and_changes_nothing() -> None:
    output = run_python(
        """
        import sys
        import grpc
        from pasar_kit import channels, cli, logs, pipeline, server, telemetry
        from pasar_kit.config import Env
        assert telemetry.configure_tracing("svc-x", Env({"DATABASE_URL": "sqlite:///x.db"})) is False
        assert not telemetry.tracing_enabled()
        assert telemetry.server_interceptors() == []
        channel = grpc.insecure_channel("127.0.0.1:1")
        assert telemetry.instrument_channel(channel) is channel
        assert telemetry.current_trace_context().traceparent == ""
        with telemetry.span_for_stored_work("process x", parent=telemetry.stored_trace_context(
                "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", "")):
            telemetry.annotate({"pasar.request_id": "r"})
        telemetry.shutdown_tracing()
        # What a gateway's master checks before it forks imports nothing either.
        telemetry.check_tracing_config(Env({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:1",
            "OTEL_TRACES_SAMPLER": "parentbased_traceidratio", "OTEL_TRACES_SAMPLER_ARG": "0.5",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}))
        print(sorted(m for m in sys.modules if m.startswith("opentelemetry")))
        """,
        {},
    )
    assert output == "[]"


@pytest.mark.parametrize(
    ("database_url", "database", "instrumented"),
    [
        ("sqlite:///x.db", True, ["sqlite3"]),
        ("mysql://u:p@h/db", True, ["pymysql"]),
        ("sqlite:///x.db", False, []),  # a process without a database: the gateway
    ],
)
def test_only_the_driver_database_url_names_is_instrumented(
    database_url: str, database: bool, instrumented: list[str]
) -> None:
    """The other driver's instrumentation is not even imported; shutdown undoes the wrapping."""
    output = run_python(
        f"""
        import sqlite3, sys
        from pasar_kit import telemetry
        from pasar_kit.config import Env
        env = Env({{"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9", "DATABASE_URL": {database_url!r}}})
        assert telemetry.configure_tracing("svc-x", env, database={database})
        drivers = ("sqlite3", "pymysql")
        print(sorted(d for d in drivers if f"opentelemetry.instrumentation.{{d}}" in sys.modules))
        print(type(sqlite3.connect).__name__ != "builtin_function_or_method")
        telemetry.shutdown_tracing()
        print(type(sqlite3.connect).__name__)
        """,
        {},
    )
    wrapped = instrumented == ["sqlite3"]
    assert output.splitlines() == [str(instrumented), str(wrapped), "builtin_function_or_method"]


def ratio_sampler(name: str, ratio: str) -> dict[str, str]:
    return {"OTEL_TRACES_SAMPLER": name, "OTEL_TRACES_SAMPLER_ARG": ratio}


@pytest.mark.parametrize(
    ("env", "variable"),
    [
        ({"OTEL_TRACES_SAMPLER": "sometimes"}, "OTEL_TRACES_SAMPLER"),
        (ratio_sampler("traceidratio", "2"), "OTEL_TRACES_SAMPLER_ARG"),
        (ratio_sampler("traceidratio", "half"), "OTEL_TRACES_SAMPLER_ARG"),
        (ratio_sampler("parentbased_traceidratio", "nan"), "OTEL_TRACES_SAMPLER_ARG"),
        ({"OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}, "OTEL_EXPORTER_OTLP_PROTOCOL"),
        ({"OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "udp"}, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"),
    ],
)
def test_a_setting_the_sdk_would_not_take_is_refused_before_anything_starts(
    env: dict[str, str], variable: str
) -> None:
    """check_tracing_config (a forking process's master) and configure_tracing (each service's
    start-up) refuse the same settings, naming the variable; off, the settings are not read."""
    with pytest.raises(ConfigError) as checked:
        telemetry.check_tracing_config(Env({**ENDPOINT, **env}))
    assert str(checked.value).startswith(variable)
    with pytest.raises(ConfigError) as configured:
        telemetry.configure_tracing("svc-x", Env({**ENDPOINT, **env}))
    assert str(configured.value).startswith(variable)
    assert not telemetry.tracing_enabled()
    telemetry.check_tracing_config(Env(env))  # no endpoint: tracing is off


def test_the_exporter_speaks_the_protocol_the_environment_names() -> None:
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as GrpcExporter
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as HttpExporter

    assert isinstance(telemetry._otlp_exporter(Env(ENDPOINT)), GrpcExporter)
    http = {**ENDPOINT, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf"}
    assert isinstance(telemetry._otlp_exporter(Env(http)), HttpExporter)
    traces_grpc = {**http, "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "grpc"}
    assert isinstance(telemetry._otlp_exporter(Env(traces_grpc)), GrpcExporter)
    with pytest.raises(ConfigError, match="OTEL_EXPORTER_OTLP_PROTOCOL must be 'grpc' or 'http/protobuf'"):
        telemetry._otlp_exporter(Env({**ENDPOINT, "OTEL_EXPORTER_OTLP_PROTOCOL": "http/json"}))


def test_a_sampler_the_sdk_does_not_know_is_refused_by_name() -> None:
    with pytest.raises(ConfigError, match="OTEL_TRACES_SAMPLER must be one of"):
        telemetry.configure_tracing(
            "svc-x", Env({"OTEL_TRACES_SAMPLER": "sometimes"}), exporter=InMemorySpanExporter()
        )
    assert not telemetry.tracing_enabled()


def test_always_off_sampling_exports_nothing() -> None:
    exporter = InMemorySpanExporter()
    telemetry.configure_tracing("svc-x", Env({"OTEL_TRACES_SAMPLER": "always_off"}), exporter=exporter)
    try:
        with telemetry.span_for_stored_work("process x", parent=None):
            pass
    finally:
        telemetry.shutdown_tracing()
    assert exporter.get_finished_spans() == ()


def test_the_resource_has_the_default_service_name_unless_the_environment_names_one() -> None:
    def resource_of(env: dict[str, str]) -> dict[str, object]:
        exporter = InMemorySpanExporter()
        telemetry.configure_tracing("svc-order", Env(env), exporter=exporter)
        try:
            with telemetry.span_for_stored_work("process x", parent=None):
                pass
        finally:
            telemetry.shutdown_tracing()
        return dict(exporter.get_finished_spans()[0].resource.attributes)

    assert resource_of({})["service.name"] == "svc-order"
    merged = resource_of({"OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=staging,team=pay%20ops"})
    assert merged["service.name"] == "svc-order"
    assert merged["deployment.environment"] == "staging"
    assert merged["team"] == "pay ops"
    named = resource_of(
        {"OTEL_SERVICE_NAME": "order-eu", "OTEL_RESOURCE_ATTRIBUTES": "service.name=other,a=b"}
    )
    assert named["service.name"] == "order-eu"
    assert named["a"] == "b"
    assert resource_of({"OTEL_RESOURCE_ATTRIBUTES": "service.name=from-attributes"})["service.name"] == (
        "from-attributes"
    )


def test_a_second_configuration_changes_nothing(spans: InMemorySpanExporter) -> None:
    other = InMemorySpanExporter()
    assert telemetry.configure_tracing("svc-other", Env({}), exporter=other)
    with telemetry.span_for_stored_work("process x", parent=None):
        pass
    assert len(spans.get_finished_spans()) == 1
    assert other.get_finished_spans() == ()


def test_trace_columns_and_stored_context_round_trip() -> None:
    context = TraceContext(
        traceparent="00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01", tracestate="a=1"
    )
    columns = telemetry.trace_columns(context)
    assert columns == {"traceparent": context.traceparent, "tracestate": "a=1"}
    assert telemetry.stored_trace_context(**columns) == context
    assert telemetry.trace_columns(TraceContext()) == {"traceparent": "", "tracestate": ""}


def _only(exporter: InMemorySpanExporter, name: str) -> ReadableSpan:
    found = [span for span in exporter.get_finished_spans() if span.name == name]
    assert len(found) == 1, [span.name for span in exporter.get_finished_spans()]
    return found[0]


def test_the_current_context_names_the_current_span(spans: InMemorySpanExporter) -> None:
    assert telemetry.current_trace_context() == TraceContext()
    with trace.get_tracer("test").start_as_current_span("checkout") as span:
        context = telemetry.current_trace_context()
    ids = span.get_span_context()
    version, trace_id, span_id, flags = context.traceparent.split("-")
    assert (version, trace_id, span_id) == ("00", f"{ids.trace_id:032x}", f"{ids.span_id:016x}")
    assert int(flags, 16) & 1  # sampled
    assert context.tracestate == ""


def test_stored_work_is_a_consumer_span_child_of_its_parent_and_linked_to_its_causes(
    spans: InMemorySpanExporter,
) -> None:
    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("checkout"):
        checkout = telemetry.current_trace_context()
    with tracer.start_as_current_span("notification"):
        notification = telemetry.current_trace_context()
    broken = TraceContext(traceparent="00-zz-not-a-context")
    with telemetry.span_for_stored_work(
        "process payment-events",
        parent=checkout,
        links=[notification, TraceContext(), broken],
        attributes={"messaging.destination.name": "payment-events", "messaging.message.id": 7},
    ):
        inside = telemetry.current_trace_context()
    work = _only(spans, "process payment-events")
    parent = _only(spans, "checkout").context
    assert work.kind == trace.SpanKind.CONSUMER
    assert work.parent is not None
    assert (work.parent.trace_id, work.parent.span_id) == (parent.trace_id, parent.span_id)
    assert work.context.trace_id == parent.trace_id
    assert inside.traceparent.split("-")[2] == f"{work.context.span_id:016x}"
    caused_by = _only(spans, "notification").context
    assert [(link.context.trace_id, link.context.span_id) for link in work.links] == [
        (caused_by.trace_id, caused_by.span_id)
    ]
    assert dict(work.attributes or {}) == {
        "messaging.system": "pasar",
        "messaging.operation.type": "process",
        "messaging.destination.name": "payment-events",
        "messaging.message.id": 7,
    }


def test_stored_work_without_a_valid_parent_starts_a_trace_of_its_own(spans: InMemorySpanExporter) -> None:
    with telemetry.span_for_stored_work("process a", parent=TraceContext()):
        pass
    with telemetry.span_for_stored_work("process b", parent=TraceContext(traceparent="garbage")):
        pass
    with telemetry.span_for_stored_work("process c", parent=None):
        pass
    assert [span.parent for span in spans.get_finished_spans()] == [None, None, None]


def test_an_exception_in_stored_work_is_recorded_and_raised_again(spans: InMemorySpanExporter) -> None:
    with (
        pytest.raises(RuntimeError, match="biller down"),
        telemetry.span_for_stored_work("process fulfillment-requests", parent=None),
    ):
        raise RuntimeError("biller down")
    span = _only(spans, "process fulfillment-requests")
    assert span.status.status_code == trace.StatusCode.ERROR
    assert [event.name for event in span.events] == ["exception"]


def test_annotate_sets_attributes_on_the_current_span(spans: InMemorySpanExporter) -> None:
    telemetry.annotate({telemetry.REQUEST_ID_ATTRIBUTE: "outside"})  # no span: nothing happens
    with trace.get_tracer("test").start_as_current_span("call"):
        telemetry.annotate({telemetry.REQUEST_ID_ATTRIBUTE: "r-1", "pasar.order.id": "o-1"})
    assert dict(_only(spans, "call").attributes or {}) == {"pasar.request_id": "r-1", "pasar.order.id": "o-1"}


def test_the_global_tracer_provider_follows_the_configured_one() -> None:
    tracer = trace.get_tracer("flask-like")
    first, second = InMemorySpanExporter(), InMemorySpanExporter()
    for exporter in (first, second):
        telemetry.configure_tracing("svc-x", Env({}), exporter=exporter)
        try:
            with tracer.start_as_current_span("request"):
                pass
        finally:
            telemetry.shutdown_tracing()
    with tracer.start_as_current_span("after shutdown"):
        pass
    assert [span.name for span in first.get_finished_spans()] == ["request"]
    assert [span.name for span in second.get_finished_spans()] == ["request"]
