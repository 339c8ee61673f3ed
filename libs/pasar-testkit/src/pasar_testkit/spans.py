"""Spans recorded in the test's own process: tracing on (pasar_kit.telemetry) with an in-memory
exporter, for a test that runs a service in-process and reads the spans it ended, and the W3C
traceparent a span would send, to compare with what a row or an event keeps."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from pasar_kit import telemetry
from pasar_kit.config import Env


@contextmanager
def recorded_spans(service_name: str, env: Env | None = None) -> Iterator[InMemorySpanExporter]:
    """Tracing on while the block runs (enter it before the service opens its database: the
    driver of env's DATABASE_URL is instrumented for connections made afterwards), every span
    that ends in the exporter; tracing off again at the end."""
    exporter = InMemorySpanExporter()
    assert telemetry.configure_tracing(service_name, env or Env({}), exporter=exporter)
    try:
        yield exporter
    finally:
        telemetry.shutdown_tracing()


def traceparent_of(span: ReadableSpan) -> str:
    """The traceparent that names span as the parent (what a call made inside it sends)."""
    context = span.get_span_context()
    assert context is not None
    return f"00-{context.trace_id:032x}-{context.span_id:016x}-{context.trace_flags:02x}"
