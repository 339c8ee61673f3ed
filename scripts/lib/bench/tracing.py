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
# How long a tracing scenario's CPU is still counted after its load: the last batch's export.
DRAIN_SECONDS = 1.0
# What the Python SDK's BatchSpanProcessor logs when its queue (2,048 spans) is full.
DROPPED_SPANS_WARNING = "Queue full, dropping"


def tracing_env(otlp_grpc_endpoint: str, *, on: bool) -> dict[str, str]:
    """The OTEL settings of the ON or the OFF shop: the same but for OTEL_SDK_DISABLED."""
    return {
        "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_grpc_endpoint,
        **SAMPLE_EVERYTHING,
        "OTEL_SDK_DISABLED": "false" if on else "true",
    }


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


def what_jaeger_received(jaeger: JaegerServer, expected: Sequence[str] = TRACED_SERVICES) -> dict[str, Any]:
    """Which of the expected services reached Jaeger, and a sample of the gateway's newest
    traces (spans per trace, by service): ON measured nothing if the shop did not trace."""
    try:
        seen = sorted(jaeger.services())
        sample = jaeger.traces("gateway", num_traces="20") if "gateway" in seen else []
    except (urllib.error.URLError, OSError, ValueError) as error:
        return {"error": f"Jaeger's query API failed: {error}"}
    by_service = collections.Counter(span.service for trace in sample for span in trace.spans)
    return {
        "services_seen": seen,
        "services_missing": [name for name in expected if name not in seen],
        "gateway_traces_sampled": len(sample),
        "spans_per_gateway_trace": (
            round(sum(len(trace.spans) for trace in sample) / len(sample), 1) if sample else 0.0
        ),
        "sampled_spans_by_service": dict(sorted(by_service.items())),
    }
