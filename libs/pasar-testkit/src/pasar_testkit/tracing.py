"""Tracing on inside one test, every ended span kept in memory: ``with spans_in_memory(...)``.

pasar_kit.telemetry's own test hook (configure_tracing's exporter) with the shutdown a test
must not forget: the next test starts with tracing off. Configure it before the service or
database under test opens (the driver's instrumentation wraps connections made afterwards).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from pasar_kit import telemetry
from pasar_kit.config import Env


@contextmanager
def spans_in_memory(
    service_name: str, env: Mapping[str, str] | None = None
) -> Iterator[InMemorySpanExporter]:
    """Tracing on as service_name (env: its settings, DATABASE_URL naming the driver to
    instrument) until the block ends; the exporter holds every span that ended."""
    exporter = InMemorySpanExporter()
    assert telemetry.configure_tracing(service_name, Env(dict(env or {})), exporter=exporter)
    try:
        yield exporter
    finally:
        telemetry.shutdown_tracing()
