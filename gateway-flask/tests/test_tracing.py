"""Traces through the gateway: the browser's traceparent, the HTTP span, the gRPC calls beneath it.

With tracing on (through an in-memory exporter, pasar_kit.telemetry), a request that carries
a W3C traceparent makes the gateway's Flask SERVER span in that trace, the child of the
caller's span and named with the request id; the gRPC CLIENT span of the call to a backend
is its child, and the backend's own SERVER span (a fake behind the OpenTelemetry server
interceptor, as every service is) the client span's. Off, the gateway imports no
OpenTelemetry module at all.
"""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest
from fakes import FakeShop
from opentelemetry import context
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from pasar_gateway.app import create_app, gateway_of
from pasar_kit import telemetry
from pasar_testkit.spans import recorded_spans

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
BROWSER_SPAN_ID = "00f067aa0ba902b7"
TRACEPARENT = f"00-{TRACE_ID}-{BROWSER_SPAN_ID}-01"
# Where OpenTelemetry's sqlcommenter looks for the web framework's tags (the Flask
# instrumentation sets it when its enable_commenter is on).
SQL_COMMENTER_CONTEXT_KEY = "SQLCOMMENTER_ORM_TAGS_AND_VALUES"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    with recorded_spans("gateway") as exporter:
        yield exporter


@pytest.fixture
def traced_shop(spans: InMemorySpanExporter) -> Iterator[FakeShop]:
    shop = FakeShop(interceptors=telemetry.server_interceptors())
    shop.start()
    try:
        yield shop
    finally:
        shop.stop()


def hex_ids(span: ReadableSpan) -> tuple[str, str, str | None]:
    """(trace id, span id, parent span id) in lowercase hex."""
    context = span.get_span_context()
    assert context is not None
    parent = f"{span.parent.span_id:016x}" if span.parent is not None else None
    return f"{context.trace_id:032x}", f"{context.span_id:016x}", parent


def only(spans: list[ReadableSpan], kind: SpanKind, scope: str) -> ReadableSpan:
    found = [
        span
        for span in spans
        if span.kind == kind and span.instrumentation_scope and scope in span.instrumentation_scope.name
    ]
    assert len(found) == 1, [(span.name, span.kind) for span in spans]
    return found[0]


def json_printed_by(code: str) -> Any:
    """The JSON code prints last, run in a fresh interpreter (its own sys.modules)."""
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        env={"PYTHONHASHSEED": "0"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_a_request_joins_the_callers_trace_down_to_the_backends_span(
    traced_shop: FakeShop, spans: InMemorySpanExporter
) -> None:
    app = create_app({**traced_shop.config(), "CORS_ORIGINS": "https://shop.example"})
    try:
        response = app.test_client().get(
            "/api/v1/products/pulsa-nusantara",
            headers={"traceparent": TRACEPARENT, "X-Request-Id": "from-the-browser"},
        )
    finally:
        gateway_of(app).close()
    assert response.status_code == 200, response.text
    finished = list(spans.get_finished_spans())

    http = only(finished, SpanKind.SERVER, "flask")
    client = only(finished, SpanKind.CLIENT, "grpc")
    backend = only(finished, SpanKind.SERVER, "grpc")
    http_trace, http_id, http_parent = hex_ids(http)
    assert (http_trace, http_parent) == (TRACE_ID, BROWSER_SPAN_ID)  # the browser's span is its parent
    assert http.attributes is not None
    assert http.attributes[telemetry.REQUEST_ID_ATTRIBUTE] == "from-the-browser"
    assert http.attributes["http.route"] == "/api/v1/products/<v0>"
    client_trace, client_id, client_parent = hex_ids(client)
    assert (client_trace, client_parent) == (TRACE_ID, http_id)
    assert client.name == "/pasar.product.v1.ProductService/GetProduct"
    backend_trace, _, backend_parent = hex_ids(backend)
    assert (backend_trace, backend_parent) == (TRACE_ID, client_id)
    # The request id still travels to the service beside the traceparent.
    assert traced_shop.product.metadata("GetProduct")[-1]["x-request-id"] == "from-the-browser"


def test_a_request_without_a_traceparent_starts_a_trace_and_only_the_api_is_traced(
    traced_shop: FakeShop, spans: InMemorySpanExporter
) -> None:
    app = create_app(traced_shop.config())
    try:
        client = app.test_client()
        response = client.get("/api/v1/products")
        assert response.status_code == 200
        assert client.get("/healthz").status_code == 200
        assert client.get("/readyz").status_code == 200  # its health checks make no trace either
        client.get("/")  # the storefront's pages and files are not traced
        client.get("/assets/index.js")
    finally:
        gateway_of(app).close()
    finished = list(spans.get_finished_spans())
    http = only(finished, SpanKind.SERVER, "flask")
    assert http.parent is None
    assert http.attributes is not None
    assert http.attributes[telemetry.REQUEST_ID_ATTRIBUTE] == response.headers["X-Request-Id"]
    assert hex_ids(only(finished, SpanKind.CLIENT, "grpc"))[2] == hex_ids(http)[1]


def test_an_operator_excludes_more_urls_the_way_opentelemetry_says(
    traced_shop: FakeShop, spans: InMemorySpanExporter, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_PYTHON_FLASK_EXCLUDED_URLS", "/api/v1/categories")
    app = create_app(traced_shop.config())
    try:
        client = app.test_client()
        assert client.get("/api/v1/categories").status_code == 200
        assert client.get("/api/v1/products").status_code == 200
    finally:
        gateway_of(app).close()
    http = only(list(spans.get_finished_spans()), SpanKind.SERVER, "flask")
    assert http.attributes is not None
    assert http.attributes["http.route"] == "/api/v1/products"


def test_a_traced_request_attaches_no_sql_comment_context(
    traced_shop: FakeShop, spans: InMemorySpanExporter
) -> None:
    """Flask's instrumentation attaches, by default, a context for SQL comments to every request;
    the gateway runs no SQL, so that was CPU for nothing on each traced request."""
    app = create_app(traced_shop.config())
    seen: list[object] = []

    @app.get("/api/v1/context-probe")
    def context_probe() -> str:
        seen.append(context.get_value(SQL_COMMENTER_CONTEXT_KEY))
        return "ok"

    try:
        assert app.test_client().get("/api/v1/context-probe").status_code == 200
    finally:
        gateway_of(app).close()
    assert seen == [None]
    assert only(list(spans.get_finished_spans()), SpanKind.SERVER, "flask").name.endswith("/context-probe")


def test_off_the_gateway_imports_no_opentelemetry_module() -> None:
    code = """
        import json, sys
        from pasar_gateway.app import create_app, gateway_of
        from pasar_kit import telemetry
        from pasar_kit.config import Env

        assert telemetry.configure_tracing("gateway", Env({})) is False
        app = create_app({"PRODUCT_ADDRESS": "127.0.0.1:1", "CORS_ORIGINS": "https://shop.example"})
        response = app.test_client().options(
            "/api/v1/orders",
            headers={
                "Origin": "https://shop.example",
                "Access-Control-Request-Method": "POST",
                "Access-Control-Request-Headers": "traceparent, tracestate",
                "traceparent": "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",
            },
        )
        gateway_of(app).close()
        print(json.dumps({
            "status": response.status_code,
            "allowed": response.headers.get("Access-Control-Allow-Headers", ""),
            "modules": sorted(name for name in sys.modules if name.startswith("opentelemetry")),
        }))
    """
    seen = json_printed_by(code)
    assert seen["modules"] == []
    assert seen["status"] == 200
    assert {"traceparent", "tracestate"} <= {name.strip().lower() for name in seen["allowed"].split(",")}


def test_a_worker_turns_tracing_on_without_instrumenting_a_database_driver() -> None:
    """The gateway has no database: its workers' tracing wraps no driver (sqlite3 stays the
    standard library's own) and imports no driver's instrumentation."""
    code = """
        import json, sqlite3, sys
        from pasar_gateway.tracing import start_tracing
        from pasar_kit import telemetry
        from pasar_kit.config import Env

        assert start_tracing(Env({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://127.0.0.1:9"}))
        print(json.dumps({
            "instrumentations": sorted(
                name for name in sys.modules if name.startswith("opentelemetry.instrumentation.")
                and name.split(".")[2] in ("sqlite3", "pymysql", "dbapi")
            ),
            "connect": type(sqlite3.connect).__name__,
        }))
        telemetry.shutdown_tracing()
    """
    seen = json_printed_by(code)
    assert seen == {"instrumentations": [], "connect": "builtin_function_or_method"}
