"""Tracer providers pasar_kit.telemetry hands out; imported only when tracing is on.

The global one follows whichever provider is on:
OpenTelemetry lets a process set its global provider once. Code that takes its tracer from
the global (Flask's instrumentation, say) would keep a provider that ``shutdown_tracing``
ended; this one asks, at each span, for the provider configured now (a no-op tracer when
tracing is off). The database driver's instrumentation gets ChildSpansOnlyTracerProvider.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.util.types import Attributes

_NO_OP = trace.NoOpTracer()


class DelegatingTracerProvider(trace.TracerProvider):
    def __init__(self, current: Callable[[], trace.TracerProvider | None]) -> None:
        self._current = current

    def get_tracer(
        self,
        instrumenting_module_name: str,
        instrumenting_library_version: str | None = None,
        schema_url: str | None = None,
        attributes: Attributes = None,
    ) -> trace.Tracer:
        return _DelegatingTracer(
            self._current, (instrumenting_module_name, instrumenting_library_version, schema_url, attributes)
        )


class _DelegatingTracer(trace.Tracer):
    def __init__(self, current: Callable[[], trace.TracerProvider | None], scope: tuple[Any, ...]) -> None:
        self._current = current
        self._scope = scope
        self._cached: tuple[trace.TracerProvider | None, trace.Tracer] = (None, _NO_OP)

    def _tracer(self) -> trace.Tracer:
        provider = self._current()
        if provider is None:
            return _NO_OP
        cached_provider, tracer = self._cached
        if cached_provider is not provider:
            tracer = provider.get_tracer(*self._scope)
            self._cached = (provider, tracer)
        return tracer

    def start_span(self, *args: Any, **kwargs: Any) -> trace.Span:
        return self._tracer().start_span(*args, **kwargs)

    def start_as_current_span(self, *args: Any, **kwargs: Any) -> Any:
        return self._tracer().start_as_current_span(*args, **kwargs)


class ChildSpansOnlyTracerProvider(trace.TracerProvider):
    """provider's tracers, except that a span without a valid parent is not made at all.

    Given to the database driver's instrumentation: a statement is worth a span inside the work
    it serves (a call, a consumer's processing), while the statements nothing asked for (the
    health probe every two seconds, a worker's poll for due rows, a metrics scrape, migrations)
    would each be a one-span trace of its own, burying the purchases in the trace viewer.
    """

    def __init__(self, provider: trace.TracerProvider) -> None:
        self._provider = provider

    def get_tracer(
        self,
        instrumenting_module_name: str,
        instrumenting_library_version: str | None = None,
        schema_url: str | None = None,
        attributes: Attributes = None,
    ) -> trace.Tracer:
        tracer = self._provider.get_tracer(
            instrumenting_module_name, instrumenting_library_version, schema_url, attributes
        )
        return _ChildSpansOnlyTracer(tracer)


class _ChildSpansOnlyTracer(trace.Tracer):
    def __init__(self, tracer: trace.Tracer) -> None:
        self._tracer = tracer

    def start_span(self, name: str, context: Context | None = None, *args: Any, **kwargs: Any) -> trace.Span:
        if not _has_parent(context):
            return trace.INVALID_SPAN
        return self._tracer.start_span(name, context, *args, **kwargs)

    def start_as_current_span(
        self, name: str, context: Context | None = None, *args: Any, **kwargs: Any
    ) -> Any:
        if not _has_parent(context):
            return trace.use_span(trace.INVALID_SPAN)
        return self._tracer.start_as_current_span(name, context, *args, **kwargs)


def _has_parent(context: Context | None) -> bool:
    return trace.get_current_span(context).get_span_context().is_valid
