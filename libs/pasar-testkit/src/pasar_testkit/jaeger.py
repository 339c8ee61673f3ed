"""A real Jaeger (v2, v1.75.0) for tests: started on free loopback ports, stopped by its PID,
and read through its own HTTP query API, as a person debugging a purchase would.

The binary is built once by ``scripts/lib/jaeger.sh`` (minutes cold, which scripts/test spends
in the background before the suites; Go's caches keep it afterwards) and configured by
``scripts/lib/jaeger.yaml`` (traces in memory, OTLP over gRPC and HTTP, the query API and UI,
a health check; nothing else listens). Traces are read
from ``/api/v3`` (OTLP JSON, so span links and kinds come as exporters sent them).

(PYTEST_DONT_REWRITE: pasar_testkit.stack imports it before pytest loads it as a plugin.)

Spans reach Jaeger in batches (every service's BatchSpanProcessor, then Jaeger's own batch
processor), so a test waits for what it expects: ``wait_for_trace(trace_id, until=...)``.
"""

from __future__ import annotations

import functools
import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from pasar_testkit.go_service import repository_root, run_build_script
from pasar_testkit.ports import free_port
from pasar_testkit.processes import ComponentProcess
from pasar_testkit.waiting import wait_for

BUILD_SCRIPT = "scripts/lib/jaeger.sh"
CONFIG_FILE = "scripts/lib/jaeger.yaml"
# What jaeger.yaml reads: the host every listener binds, and per listener the variable that
# sets its port, with Jaeger's usual port (scripts/run --observe's defaults).
HOST_SETTING = "PASAR_JAEGER_HOST"
OTLP_GRPC_PORT = "PASAR_JAEGER_OTLP_GRPC_PORT"
OTLP_HTTP_PORT = "PASAR_JAEGER_OTLP_HTTP_PORT"
QUERY_HTTP_PORT = "PASAR_JAEGER_QUERY_HTTP_PORT"
QUERY_GRPC_PORT = "PASAR_JAEGER_QUERY_GRPC_PORT"
HEALTH_PORT = "PASAR_JAEGER_HEALTH_PORT"
USUAL_PORTS = {
    OTLP_GRPC_PORT: 4317,
    OTLP_HTTP_PORT: 4318,
    QUERY_HTTP_PORT: 16686,
    QUERY_GRPC_PORT: 16685,
    HEALTH_PORT: 13133,
}
# A cold build compiles the whole collector: minutes on a 2-core machine.
BUILD_TIMEOUT_SECONDS = 900
HEALTH_PATH = "/status"
# How often the services' BatchSpanProcessor exports in tests (milliseconds; the SDK's default
# is 5000), so that a test waits a fraction of a second for its spans.
QUICK_EXPORT_DELAY_MS = "100"
DEFAULT_NUM_TRACES = "100"  # /api/v3/traces refuses a search without query.num_traces

# OTLP span kinds, as /api/v3 returns them (numbers).
SPAN_KIND_INTERNAL = 1
SPAN_KIND_SERVER = 2
SPAN_KIND_CLIENT = 3
SPAN_KIND_PRODUCER = 4
SPAN_KIND_CONSUMER = 5


@functools.cache
def build_jaeger() -> Path:
    """Builds Jaeger when it is missing (once per process) and returns the binary's path.

    RuntimeError with the build's output when it fails."""
    return run_build_script(BUILD_SCRIPT, "Jaeger", BUILD_TIMEOUT_SECONDS)


@dataclass(frozen=True)
class SpanLink:
    trace_id: str
    span_id: str


@dataclass(frozen=True)
class Span:
    """One span as Jaeger stored it; ids are lowercase hex, kind an OTLP SpanKind number."""

    trace_id: str
    span_id: str
    parent_span_id: str  # "" for a trace's root
    name: str
    kind: int
    service: str
    attributes: Mapping[str, Any]
    links: tuple[SpanLink, ...]
    start_unix_nano: int
    status_code: int  # 0 unset, 1 ok, 2 error

    def links_to(self, trace_id: str) -> bool:
        return any(link.trace_id == trace_id for link in self.links)


@dataclass
class Trace:
    """The spans Jaeger holds for one trace id."""

    trace_id: str
    spans: list[Span] = field(default_factory=list)

    @property
    def services(self) -> set[str]:
        return {span.service for span in self.spans}

    def find(
        self,
        *,
        service: str | None = None,
        name: str | None = None,
        kind: int | None = None,
        where: Callable[[Span], bool] | None = None,
    ) -> list[Span]:
        """The spans matching every criterion given, earliest first."""
        found = [
            span
            for span in self.spans
            if (service is None or span.service == service)
            and (name is None or span.name == name)
            and (kind is None or span.kind == kind)
            and (where is None or where(span))
        ]
        return sorted(found, key=lambda span: span.start_unix_nano)

    def span(self, span_id: str) -> Span | None:
        return next((span for span in self.spans if span.span_id == span_id), None)

    def ancestors(self, span: Span) -> list[Span]:
        """span's parent, its parent, … up to the root (as far as Jaeger has them)."""
        chain: list[Span] = []
        parent = self.span(span.parent_span_id) if span.parent_span_id else None
        while parent is not None and parent not in chain:
            chain.append(parent)
            parent = self.span(parent.parent_span_id) if parent.parent_span_id else None
        return chain

    def descendants(self, span: Span) -> list[Span]:
        """Every span beneath span (children, their children, …)."""
        below: list[Span] = []
        frontier = [span.span_id]
        while frontier:
            children = [other for other in self.spans if other.parent_span_id in frontier]
            below.extend(children)
            frontier = [child.span_id for child in children]
        return below

    def is_beneath(self, span: Span, ancestor: Span) -> bool:
        return ancestor in self.ancestors(span)

    def describe(self) -> str:
        """One line per span, for an assertion's message."""
        return "\n".join(
            f"{span.service} {span.name} kind={span.kind} id={span.span_id}"
            + f" parent={span.parent_span_id or '-'}"
            + (f" links={[link.trace_id for link in span.links]}" if span.links else "")
            for span in self.find()
        )


def _value(value: Mapping[str, Any]) -> Any:
    """An OTLP JSON AnyValue as a Python value (intValue comes as a string in JSON)."""
    if "stringValue" in value:
        return value["stringValue"]
    if "intValue" in value:
        return int(value["intValue"])
    if "doubleValue" in value:
        return float(value["doubleValue"])
    if "boolValue" in value:
        return bool(value["boolValue"])
    if "arrayValue" in value:
        return [_value(item) for item in value["arrayValue"].get("values", [])]
    return None


def _attributes(items: list[Mapping[str, Any]] | None) -> dict[str, Any]:
    return {item["key"]: _value(item.get("value", {})) for item in items or []}


def spans_of_otlp_json(document: Mapping[str, Any]) -> Iterator[Span]:
    """The spans of an /api/v3 answer ({"result": {"resourceSpans": [...]}})."""
    for resource_spans in document.get("result", {}).get("resourceSpans", []):
        resource = _attributes(resource_spans.get("resource", {}).get("attributes"))
        service = str(resource.get("service.name", ""))
        for scope_spans in resource_spans.get("scopeSpans", []):
            for span in scope_spans.get("spans", []):
                yield Span(
                    trace_id=span["traceId"].lower(),
                    span_id=span["spanId"].lower(),
                    parent_span_id=span.get("parentSpanId", "").lower(),
                    name=span.get("name", ""),
                    kind=int(span.get("kind", 0)),
                    service=service,
                    attributes=_attributes(span.get("attributes")),
                    links=tuple(
                        SpanLink(link["traceId"].lower(), link["spanId"].lower())
                        for link in span.get("links", [])
                    ),
                    start_unix_nano=int(span.get("startTimeUnixNano", 0)),
                    status_code=int(span.get("status", {}).get("code", 0)),
                )


class JaegerServer(ComponentProcess):
    """Jaeger on free loopback ports: OTLP gRPC and HTTP, the query API and UI, health.

    ``start()`` builds the binary if needed and waits until the health check and the query
    API answer (killing it if they do not: a failed start leaves nothing running);
    ``stop()``/``kill()`` act on its PID only."""

    def __init__(self, log_dir: Path, *, binary: Path | None = None) -> None:
        ports = {setting: free_port() for setting in USUAL_PORTS}
        self.otlp_grpc_port = ports[OTLP_GRPC_PORT]
        self.otlp_http_port = ports[OTLP_HTTP_PORT]
        self.query_http_port = ports[QUERY_HTTP_PORT]
        self.query_grpc_port = ports[QUERY_GRPC_PORT]
        self.health_port = ports[HEALTH_PORT]
        self._binary = binary
        root = repository_root()
        super().__init__(
            "jaeger",
            command=[],  # the binary is known at start()
            env={HOST_SETTING: "127.0.0.1", **{setting: str(port) for setting, port in ports.items()}},
            log_dir=log_dir,
            port=self.health_port,
            http_ready_path=HEALTH_PATH,
        )
        self.config_file = root / CONFIG_FILE

    def start(self, timeout: float = 60.0) -> None:
        binary = self._binary or build_jaeger()
        self.command = [str(binary), "--config", f"file:{self.config_file}"]
        super().start(timeout)
        try:
            # The health check answers once every component has started; the query API with it.
            wait_for(self._query_api_answers, timeout, f"Jaeger's query API at {self.ui_url}")
        except BaseException:
            self.kill()
            raise

    def _query_api_answers(self) -> bool:
        try:
            self._get("/api/v3/services")
        except (urllib.error.URLError, OSError):
            return False
        return True

    @property
    def otlp_endpoint(self) -> str:
        """OTEL_EXPORTER_OTLP_ENDPOINT for OTLP over gRPC (the SDKs' default protocol)."""
        return f"http://127.0.0.1:{self.otlp_grpc_port}"

    @property
    def otlp_http_endpoint(self) -> str:
        """OTEL_EXPORTER_OTLP_ENDPOINT for OTEL_EXPORTER_OTLP_PROTOCOL=http/protobuf."""
        return f"http://127.0.0.1:{self.otlp_http_port}"

    @property
    def ui_url(self) -> str:
        return f"http://127.0.0.1:{self.query_http_port}"

    def tracing_env(self) -> dict[str, str]:
        """The environment that turns tracing on in a component and exports to this Jaeger
        quickly (every span sampled: the SDKs' default parentbased_always_on)."""
        return {
            "OTEL_EXPORTER_OTLP_ENDPOINT": self.otlp_endpoint,
            "OTEL_BSP_SCHEDULE_DELAY": QUICK_EXPORT_DELAY_MS,
        }

    # The query API.

    def _get(self, path: str, query: Mapping[str, str] | None = None) -> Any:
        url = f"{self.ui_url}{path}" + (f"?{urllib.parse.urlencode(query)}" if query else "")
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - our own Jaeger
            return json.loads(response.read())

    def services(self) -> list[str]:
        """The service names Jaeger has spans of."""
        return list(self._get("/api/v3/services").get("services", []))

    def trace(self, trace_id: str) -> Trace | None:
        """The trace with this id (32 lowercase hex), or None while Jaeger has none of it."""
        try:
            document = self._get(f"/api/v3/traces/{trace_id}")
        except urllib.error.HTTPError as error:
            if error.code == 404:
                return None
            raise
        return Trace(trace_id, [span for span in spans_of_otlp_json(document) if span.trace_id == trace_id])

    def traces(self, service: str, *, lookback: timedelta = timedelta(hours=1), **query: str) -> list[Trace]:
        """The traces with a span of service that started within lookback (at most 100 unless
        num_traces says; the API requires a number); query adds the API's other ``query.*``
        parameters by their short names (operation_name, num_traces, duration_min, …)."""
        now = datetime.now(UTC)
        parameters = {
            "query.service_name": service,
            "query.start_time_min": (now - lookback).isoformat().replace("+00:00", "Z"),
            "query.start_time_max": (now + timedelta(minutes=1)).isoformat().replace("+00:00", "Z"),
            "query.num_traces": DEFAULT_NUM_TRACES,
            **{f"query.{name}": value for name, value in query.items()},
        }
        try:
            document = self._get("/api/v3/traces", parameters)
        except urllib.error.HTTPError as error:
            if error.code == 404:  # "No traces found"
                return []
            raise
        by_id: dict[str, Trace] = {}
        for span in spans_of_otlp_json(document):
            by_id.setdefault(span.trace_id, Trace(span.trace_id)).spans.append(span)
        return list(by_id.values())

    def wait_for_trace(
        self, trace_id: str, until: Callable[[Trace], bool], timeout: float = 20.0, what: str = ""
    ) -> Trace:
        """The trace once until(trace) holds (spans arrive in batches); AssertionError naming
        what, with the spans Jaeger had by then, after timeout seconds."""
        latest: list[Trace | None] = [None]

        def arrived() -> Trace | None:
            trace = latest[0] = self.trace(trace_id)
            return trace if trace is not None and until(trace) else None

        try:
            return wait_for(arrived, timeout, what or f"trace {trace_id} as expected", interval=0.25)
        except AssertionError as error:
            trace = latest[0]
            held = trace.describe() if trace is not None else "(no span of it)"
            raise AssertionError(f"{error}\nJaeger holds:\n{held}") from None


@pytest.fixture(scope="session")
def jaeger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JaegerServer]:
    """One Jaeger for the session (traces are told apart by their ids), stopped by PID."""
    server = JaegerServer(tmp_path_factory.mktemp("jaeger"))
    server.start()
    try:
        yield server
    finally:
        server.stop()
