"""Tracing's cost: the settings of the two shops the tracing scenarios compare, and what
Jaeger received.

Both shops are the SQLite shop of the other scenarios (same catalog, gateway, background
intervals), each on its own databases. ON exports every span over OTLP/gRPC to a Jaeger the
bench starts on free loopback ports (``pasar_testkit.jaeger``), sampling everything, the
worst case an operator can choose. OFF carries the same settings and
``OTEL_SDK_DISABLED=true``: by the components' on/off rule nothing of OpenTelemetry is then
loaded, so its figures beside the ordinary ``browse`` (no OTEL setting at all) show whether
"off" is free. Jaeger runs on the same two cores: its CPU is reported apart from the shop's,
and ON's throughput pays for it, so the ratio is a pessimistic one. No OTEL_* setting of
the caller's shell reaches a server (pasar_testkit.processes drops them): only these do.
"""

from __future__ import annotations

import collections
import urllib.error
from collections.abc import Sequence
from typing import Any

from pasar_testkit.jaeger import JaegerServer
from pasar_testkit.stack import Stack

# The default service names (OTEL_SERVICE_NAME unset), those a traced purchase goes through.
TRACED_SERVICES = ("gateway", "svc-order", "svc-payment", "svc-product")
# Every span sampled; exported every 500 ms at the latest (the SDK's default is 5 s, or at
# once when 512 wait), so that a run's spans are exported, and received by Jaeger, within
# the run and its drain: their CPU is counted in the run that made them.
SAMPLE_EVERYTHING = {
    "OTEL_TRACES_SAMPLER": "always_on",
    "OTEL_EXPORTER_OTLP_PROTOCOL": "grpc",
    "OTEL_BSP_SCHEDULE_DELAY": "500",
}
# The gateway's HTTP spans of the two scenarios (Flask's instrumentation: method and route).
OPERATIONS = {"browse": "GET /api/v1/products", "checkout": "POST /api/v1/orders"}
# How long a tracing scenario's CPU is still counted after its load: the last batch's export.
DRAIN_SECONDS = 1.0
# What a component logs at start-up when its tracing is on.
TRACING_ON_MESSAGE = "tracing on"
# What the Python SDK's BatchSpanProcessor logs when its queue (2,048 spans) is full.
DROPPED_SPANS_WARNING = "Queue full, dropping"


def tracing_env(otlp_grpc_endpoint: str, *, on: bool) -> dict[str, str]:
    """The OTEL settings of the ON or the OFF shop: the same but for OTEL_SDK_DISABLED."""
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_grpc_endpoint,
        **SAMPLE_EVERYTHING,
        "OTEL_SDK_DISABLED": "false" if on else "true",
    }


def components_tracing(stack: Stack) -> list[str]:
    """The components of a shop that logged "tracing on" at start-up (pasar_kit.telemetry and
    svc-fulfillment's telemetry both do): all of ON's, none of OFF's, or the pair is no pair."""
    return sorted(
        name
        for name, component in stack.components.items()
        if any(entry.get("message") == TRACING_ON_MESSAGE for entry in component.logged_lines())
    )


def dropped_span_warnings(stack: Stack) -> dict[str, int]:
    """How often each component of the traced shop logged that it dropped spans: ON's
    figures are too kind if its exporters could not keep up."""
    found = {}
    for name, component in stack.components.items():
        try:
            count = component.log_path.read_text(errors="replace").count(DROPPED_SPANS_WARNING)
        except FileNotFoundError:
            continue
        if count:
            found[name] = count
    return found


def spans_per_trace(jaeger: JaegerServer, operation: str, traces: int = 20) -> dict[str, Any]:
    """The newest traces of a gateway operation: how many spans each holds, by service (the
    work tracing adds per request grows with them)."""
    sample = jaeger.traces("gateway", operation_name=operation, num_traces=str(traces))
    by_service = collections.Counter(span.service for trace in sample for span in trace.spans)
    return {
        "traces": len(sample),
        "spans_per_trace": round(sum(by_service.values()) / len(sample), 1) if sample else 0.0,
        "per_trace_by_service": {
            name: round(count / len(sample), 1) for name, count in sorted(by_service.items())
        },
    }


def what_jaeger_received(jaeger: JaegerServer, expected: Sequence[str] = TRACED_SERVICES) -> dict[str, Any]:
    """Which of the expected services reached Jaeger, and how many spans a browse and a
    checkout make: ON measured nothing if the shop did not trace."""
    try:
        seen = sorted(jaeger.services())
        operations = {name: spans_per_trace(jaeger, operation) for name, operation in OPERATIONS.items()}
    except (urllib.error.URLError, OSError, ValueError) as error:
        return {"error": f"Jaeger's query API failed: {error}"}
    return {
        "services_seen": seen,
        "services_missing": [name for name in expected if name not in seen],
        "spans": operations,
    }
