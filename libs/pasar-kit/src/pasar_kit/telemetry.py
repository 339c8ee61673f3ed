"""OpenTelemetry traces for every Python process, on only when an OTLP endpoint is set.

Tracing is ON iff ``OTEL_EXPORTER_OTLP_ENDPOINT`` or ``OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`` is
set and non-empty, ``OTEL_SDK_DISABLED`` is not ``true`` and ``OTEL_TRACES_EXPORTER`` is not
``none``. OFF, no OpenTelemetry module is imported (every import below sits on the ON path),
no interceptor is added and every function here returns at its first line: nothing is slower.

ON, :func:`check_tracing_config` refuses a setting the SDK would not take (a start-up reads
it before anything runs: a gateway master before it forks its workers), and
:func:`configure_tracing` (once per process, before the database opens) sets up the SDK
the way operators know from other programs: the resource from ``OTEL_SERVICE_NAME`` and
``OTEL_RESOURCE_ATTRIBUTES``, the sampler from ``OTEL_TRACES_SAMPLER``/``_ARG`` (the SDK's
default, parentbased_always_on), a batch processor, the OTLP exporter over gRPC or
http/protobuf (``OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL``; the exporter reads its endpoint,
headers and timeout itself), and W3C tracecontext and baggage propagation. The ecosystem's
instrumentations make the spans: gRPC server and client (:func:`server_interceptors`,
:func:`instrument_channel`) and the driver ``DATABASE_URL`` names (sqlite3 or PyMySQL).

Work that a row queued for later (an event, an outbox row) keeps the context of the span that
wrote it (:func:`current_trace_context`, :func:`trace_columns`), and its later processing
runs in :func:`span_for_stored_work`, so one trace shows a purchase even across a restart.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import unquote, urlsplit

import grpc

from pasar.common.v1.trace_context_pb2 import TraceContext
from pasar_kit.config import ConfigError, Env

if TYPE_CHECKING:
    from opentelemetry.context import Context
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import SpanExporter
    from opentelemetry.trace import Span, Tracer

log = logging.getLogger(__name__)

# The span attributes every component names its ids by (svc-fulfillment, in Go, uses the
# same), so that one Jaeger search by an order's id finds its spans in every service.
REQUEST_ID_ATTRIBUTE = "pasar.request_id"
ORDER_ID_ATTRIBUTE = "pasar.order.id"
PAYMENT_ID_ATTRIBUTE = "pasar.payment.id"
FULFILLMENT_ID_ATTRIBUTE = "pasar.fulfillment.id"

ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")
PROTOCOL_VARIABLES = ("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL", "OTEL_EXPORTER_OTLP_PROTOCOL")
GRPC, HTTP_PROTOBUF = "grpc", "http/protobuf"
# The samplers OTEL_TRACES_SAMPLER may name (the SDK's own names; the ratio ones take _ARG).
SAMPLERS = (
    "always_on",
    "always_off",
    "traceidratio",
    "parentbased_always_on",
    "parentbased_always_off",
    "parentbased_traceidratio",
)
DEFAULT_SAMPLER = "parentbased_always_on"
# Calls no one needs a trace of: the orchestrator's probes and grpcurl's questions.
UNTRACED_SERVICE_PREFIXES = ("grpc.health.v1.Health", "grpc.reflection.")


def tracing_wanted(env: Env) -> bool:
    """The ON rule of the module docstring (read from env; nothing is imported)."""
    if not any(env.optional(name) for name in ENDPOINT_VARIABLES):
        return False
    if env.string("OTEL_SDK_DISABLED", "false").strip().lower() == "true":
        return False
    return env.string("OTEL_TRACES_EXPORTER", "otlp").strip().lower() != "none"


@dataclass
class _Tracing:
    """What configure_tracing set up; None (the module's _state) while tracing is off."""

    provider: TracerProvider
    tracer: Tracer
    database_instrumentor: Any  # a BaseInstrumentor (untyped package), undone at shutdown
    current_span: Callable[[], Span]  # opentelemetry.trace.get_current_span, kept at hand for logs


_state: _Tracing | None = None
_lock = threading.Lock()
_global_provider_set = False


def tracing_enabled() -> bool:
    return _state is not None


def check_tracing_config(env: Env) -> None:
    """Raises ConfigError naming the variable when tracing is wanted and an OTEL_* setting
    read here is one the SDK would not take; nothing when off. Imports no OpenTelemetry module,
    so a process that forks (the gateway's master) checks it before its workers start."""
    if tracing_wanted(env):
        _sampler_choice(env)
        _otlp_protocol(env)


def configure_tracing(
    service_name: str, env: Env, *, exporter: SpanExporter | None = None, database: bool = True
) -> bool:
    """Turns tracing on when env says so (see the module docstring); returns whether it is on.

    service_name is the default of ``OTEL_SERVICE_NAME``. Call it before the database opens:
    the driver's instrumentation wraps connections made afterwards; database=False (a process
    with no database, the gateway) instruments no driver. Raises ConfigError as
    check_tracing_config does. exporter is for tests: it turns tracing on whatever env says and
    receives each span as it ends. A second call while tracing is on changes nothing.
    """
    global _state  # noqa: PLW0603 - one tracer provider per process
    if exporter is None:
        if not tracing_wanted(env):
            return False
        check_tracing_config(env)  # before anything is set up
    with _lock:
        if _state is not None:
            return True
        from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415 - only when on
        from opentelemetry.sdk.trace.export import (  # noqa: PLC0415
            BatchSpanProcessor,
            SimpleSpanProcessor,
        )

        _set_propagators()
        provider = TracerProvider(resource=_resource(service_name, env), sampler=_sampler(env))
        if exporter is None:
            provider.add_span_processor(BatchSpanProcessor(_otlp_exporter(env)))
        else:
            provider.add_span_processor(SimpleSpanProcessor(exporter))
        instrumentor = _instrument_database(env, provider) if database else None
        from opentelemetry.trace import get_current_span  # noqa: PLC0415

        _state = _Tracing(
            provider, provider.get_tracer("pasar_kit.telemetry"), instrumentor, get_current_span
        )
        _set_global_provider()
    log.info("tracing on", extra={"service_name": _state.provider.resource.attributes.get("service.name")})
    return True


def shutdown_tracing() -> None:
    """Exports the spans still queued and turns tracing off; idempotent (SIGTERM path and exit)."""
    global _state
    with _lock:
        state, _state = _state, None
    if state is None:
        return
    state.provider.shutdown()  # flushes the batch processor
    if state.database_instrumentor is not None:
        state.database_instrumentor.uninstrument()


def _resource(service_name: str, env: Env) -> Any:
    """service.name from OTEL_SERVICE_NAME, else OTEL_RESOURCE_ATTRIBUTES, else service_name;
    the other OTEL_RESOURCE_ATTRIBUTES pairs merge in (values percent-decoded, as the spec says)."""
    from opentelemetry.sdk.resources import SERVICE_NAME, Resource  # noqa: PLC0415

    attributes: dict[str, str] = {SERVICE_NAME: service_name}
    for pair in env.string("OTEL_RESOURCE_ATTRIBUTES", "").split(","):
        key, separator, value = pair.partition("=")
        if separator and key.strip():
            attributes[key.strip()] = unquote(value.strip())
    if name := env.optional("OTEL_SERVICE_NAME"):
        attributes[SERVICE_NAME] = name
    return Resource.create(attributes)


def _sampler_choice(env: Env) -> tuple[str, float]:
    """The sampler OTEL_TRACES_SAMPLER names and its ratio (1 unless a ratio sampler's _ARG
    says), read from env so that tests and the process agree; ConfigError when unknown."""
    name = env.string("OTEL_TRACES_SAMPLER", DEFAULT_SAMPLER).strip().lower()
    if name not in SAMPLERS:
        raise ConfigError(f"OTEL_TRACES_SAMPLER must be one of {', '.join(SAMPLERS)}, not {name!r}")
    ratio = 1.0
    if name.endswith("traceidratio"):
        ratio = env.number("OTEL_TRACES_SAMPLER_ARG", 1.0, minimum=0.0)
        if not ratio <= 1.0:  # nan too
            raise ConfigError(f"OTEL_TRACES_SAMPLER_ARG must be between 0 and 1, not {ratio}")
    return name, ratio


def _sampler(env: Env) -> Any:
    """The SDK's sampler for _sampler_choice(env)."""
    from opentelemetry.sdk.trace import sampling  # noqa: PLC0415

    name, ratio = _sampler_choice(env)
    samplers: dict[str, Any] = {
        "always_on": sampling.ALWAYS_ON,
        "always_off": sampling.ALWAYS_OFF,
        "traceidratio": sampling.TraceIdRatioBased(ratio),
        "parentbased_always_on": sampling.ParentBased(sampling.ALWAYS_ON),
        "parentbased_always_off": sampling.ParentBased(sampling.ALWAYS_OFF),
        "parentbased_traceidratio": sampling.ParentBased(sampling.TraceIdRatioBased(ratio)),
    }
    return samplers[name]


def _otlp_protocol(env: Env) -> str:
    """GRPC (the default) or HTTP_PROTOBUF, as OTEL_EXPORTER_OTLP_[TRACES_]PROTOCOL says;
    ConfigError naming the variable for anything else."""
    variable = next((name for name in PROTOCOL_VARIABLES if env.optional(name)), None)
    if variable is None:
        return GRPC
    protocol = env.string(variable).strip().lower()
    if protocol not in (GRPC, HTTP_PROTOBUF):
        raise ConfigError(f"{variable} must be {GRPC!r} or {HTTP_PROTOBUF!r}, not {protocol!r}")
    return protocol


def _otlp_exporter(env: Env) -> SpanExporter:
    """OTLP over gRPC (the default) or http/protobuf; the exporter reads the rest of its env."""
    if _otlp_protocol(env) == GRPC:
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (  # noqa: PLC0415
            OTLPSpanExporter as GrpcExporter,
        )

        return GrpcExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
        OTLPSpanExporter as HttpExporter,
    )

    return HttpExporter()


def _set_propagators() -> None:
    from opentelemetry.baggage.propagation import W3CBaggagePropagator  # noqa: PLC0415
    from opentelemetry.propagate import set_global_textmap  # noqa: PLC0415
    from opentelemetry.propagators.composite import CompositePropagator  # noqa: PLC0415
    from opentelemetry.trace.propagation.tracecontext import (  # noqa: PLC0415
        TraceContextTextMapPropagator,
    )

    set_global_textmap(CompositePropagator([TraceContextTextMapPropagator(), W3CBaggagePropagator()]))


def _instrument_database(env: Env, provider: TracerProvider) -> Any:
    """Instruments the driver DATABASE_URL names: PyMySQL for mysql://, sqlite3 otherwise (a
    service's default database is SQLite). The other driver's instrumentation is not imported.
    Statements make spans only beneath another span (ChildSpansOnlyTracerProvider says why)."""
    from pasar_kit._tracer_delegate import ChildSpansOnlyTracerProvider  # noqa: PLC0415

    scheme = urlsplit(env.string("DATABASE_URL", "sqlite:///")).scheme
    instrumentor: Any
    if scheme in ("mysql", "mariadb"):
        from opentelemetry.instrumentation.pymysql import (  # noqa: PLC0415
            PyMySQLInstrumentor,
        )

        instrumentor = PyMySQLInstrumentor()
    else:
        from opentelemetry.instrumentation.sqlite3 import SQLite3Instrumentor  # noqa: PLC0415

        instrumentor = SQLite3Instrumentor()
    instrumentor.instrument(tracer_provider=ChildSpansOnlyTracerProvider(provider))
    return instrumentor


def _set_global_provider() -> None:
    """Makes the global tracer provider (which others, like Flask's instrumentation, use) follow
    this module's: set once per process, it hands out tracers of whichever provider is on."""
    global _global_provider_set  # noqa: PLW0603
    if _global_provider_set:
        return
    from opentelemetry import trace  # noqa: PLC0415

    from pasar_kit._tracer_delegate import DelegatingTracerProvider  # noqa: PLC0415

    trace.set_tracer_provider(DelegatingTracerProvider(_current_provider))
    _global_provider_set = True


def _current_provider() -> TracerProvider | None:
    state = _state
    return state.provider if state is not None else None


def server_interceptors() -> list[grpc.ServerInterceptor]:
    """The OpenTelemetry server interceptor ([] when off); GrpcServer puts it first, so the
    call pipeline runs inside the server span. Health checks and reflection make no spans."""
    state = _state
    if state is None:
        return []
    from opentelemetry.instrumentation.grpc import server_interceptor  # noqa: PLC0415

    interceptor: grpc.ServerInterceptor = server_interceptor(  # type: ignore[no-untyped-call]
        tracer_provider=state.provider, filter_=_traced_service
    )
    return [interceptor]


def _traced_service(call_details: Any) -> bool:
    """The filter both sides share: False (no span) for the UNTRACED_SERVICE_PREFIXES' calls.
    call_details is the server's HandlerCallDetails (method) or the client's call info
    (full_method), "/package.Service/Method" either way."""
    method = getattr(call_details, "method", None) or getattr(call_details, "full_method", "")
    return not str(method).lstrip("/").startswith(UNTRACED_SERVICE_PREFIXES)


def instrument_channel(channel: grpc.Channel) -> grpc.Channel:
    """channel with the OpenTelemetry client interceptor (a span per call, and the W3C
    traceparent in its metadata); channel itself when off.

    Health checks and reflection pass untraced, as the server side leaves them (a readiness
    probe's checks would each start a trace of their own).
    Server-streaming calls (the event watches) pass untraced: the instrumentation returns a
    plain generator for them in place of the call, which then cannot be cancelled (svc-order
    cancels its watch at stop), and would keep its span current in the reading thread
    between messages. Each event carries its cause's context instead (span_for_stored_work).
    """
    state = _state
    if state is None:
        return channel
    from opentelemetry.instrumentation.grpc import client_interceptor  # noqa: PLC0415
    from opentelemetry.instrumentation.grpc.grpcext import (  # noqa: PLC0415
        intercept_channel,
    )

    interceptor = client_interceptor(  # type: ignore[no-untyped-call]
        tracer_provider=state.provider, filter_=_traced_client_call
    )
    instrumented: grpc.Channel = intercept_channel(channel, interceptor)  # type: ignore[no-untyped-call]
    return instrumented


def _traced_client_call(client_info: Any) -> bool:
    """The client filter: True (traced) unless the call streams its responses or is a
    health check or reflection question."""
    return not getattr(client_info, "is_server_stream", False) and _traced_service(client_info)


# The codes a server reports as its own failure (OpenTelemetry's RPC conventions); the
# others (NOT_FOUND, INVALID_ARGUMENT, ...) are the caller's, and leave the span's status unset.
SERVER_ERROR_CODES = frozenset(
    {
        grpc.StatusCode.UNKNOWN,
        grpc.StatusCode.DEADLINE_EXCEEDED,
        grpc.StatusCode.UNIMPLEMENTED,
        grpc.StatusCode.INTERNAL,
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DATA_LOSS,
    }
)


def record_rpc_status(code: grpc.StatusCode, details: str) -> None:
    """Puts the status a call ends with on the current (server) span; nothing when off.

    The gRPC instrumentation records context.abort() but not abort_with_status(), which the
    call pipeline uses for every status with details: without this the span of a call that
    ended NOT_FOUND or UNAVAILABLE said OK.
    """
    if _state is None:
        return
    from opentelemetry import trace  # noqa: PLC0415

    span = trace.get_current_span()
    if not span.is_recording():
        return
    span.set_attribute("rpc.grpc.status_code", code.value[0])
    if code in SERVER_ERROR_CODES:
        span.set_status(trace.Status(trace.StatusCode.ERROR, f"{code.name}: {details}"))


def log_ids() -> tuple[str, str] | None:
    """The current recording span's (trace id, span id) in lowercase hex, for log lines;
    None when off or outside a span."""
    state = _state
    if state is None:
        return None
    span = state.current_span()
    if not span.is_recording():
        return None
    ids = span.get_span_context()
    return f"{ids.trace_id:032x}", f"{ids.span_id:016x}"


def current_trace_context() -> TraceContext:
    """The current span's W3C context, to store beside a row; empty when off or no span is valid."""
    if _state is None:
        return TraceContext()
    from opentelemetry.trace.propagation.tracecontext import (  # noqa: PLC0415
        TraceContextTextMapPropagator,
    )

    carrier: dict[str, str] = {}
    TraceContextTextMapPropagator().inject(carrier)
    return TraceContext(
        traceparent=carrier.get("traceparent", ""),
        tracestate=_fitted_tracestate(carrier.get("tracestate", "")),
    )


# What TraceContext.tracestate (and the rows' column) holds: the length W3C asks every vendor
# to pass on. A caller may send up to 32 entries of 256 characters; more than this made
# MariaDB refuse the row (and the call failed) and an event break the contract's max_len.
TRACESTATE_MAX_CHARS = 512
_LONG_TRACESTATE_ENTRY = 128


def _fitted_tracestate(tracestate: str) -> str:
    """tracestate cut to TRACESTATE_MAX_CHARS as W3C Trace Context says: whole entries only,
    those longer than 128 characters dropped first, then entries from the end, until it fits."""
    if len(tracestate) <= TRACESTATE_MAX_CHARS:
        return tracestate
    entries = [entry.strip() for entry in tracestate.split(",") if entry.strip()]
    while len(",".join(entries)) > TRACESTATE_MAX_CHARS:
        long = [index for index, entry in enumerate(entries) if len(entry) > _LONG_TRACESTATE_ENTRY]
        entries.pop(long[-1] if long else -1)
    return ",".join(entries)


def trace_columns(context: TraceContext) -> dict[str, str]:
    """The two columns a row keeps its cause's context in: ``Model.create(**trace_columns(...))``."""
    return {"traceparent": context.traceparent, "tracestate": context.tracestate}


def stored_trace_context(traceparent: str, tracestate: str) -> TraceContext:
    """A row's two columns as a TraceContext (for span_for_stored_work or an event message)."""
    return TraceContext(traceparent=traceparent or "", tracestate=tracestate or "")


def span_for_stored_work(
    name: str,
    *,
    parent: TraceContext | None,
    links: Sequence[TraceContext] = (),
    attributes: Mapping[str, str | int] | None = None,
) -> AbstractContextManager[None]:
    """A CONSUMER span, current inside the block, for work a stored row caused.

    It is the child of parent and linked to each of links (OpenTelemetry's messaging
    conventions; see issue16-shape.md for which context is which); an empty or invalid context
    is skipped (no parent: a new trace, or the current span's child). ``messaging.system`` is
    ``pasar`` and ``messaging.operation.type`` ``process`` unless attributes say otherwise.
    An exception is recorded on the span and raised again. When off, the block just runs::

        with span_for_stored_work("process mail-outbox", parent=stored_trace_context(row.traceparent,
                row.tracestate), attributes={"messaging.destination.name": "mail-outbox",
                "messaging.message.id": row.id}):
            send(row)
    """
    state = _state
    if state is None:
        return nullcontext()
    return _stored_work_span(state, name, parent, links, attributes or {})


@contextmanager
def _stored_work_span(
    state: _Tracing,
    name: str,
    parent: TraceContext | None,
    links: Sequence[TraceContext],
    attributes: Mapping[str, str | int],
) -> Iterator[None]:
    from opentelemetry import trace  # noqa: PLC0415

    parent_context = _extracted(parent)
    span_links = [
        trace.Link(trace.get_current_span(context).get_span_context())
        for context in map(_extracted, links)
        if context is not None
    ]
    with state.tracer.start_as_current_span(
        name,
        context=parent_context,
        kind=trace.SpanKind.CONSUMER,
        links=span_links,
        attributes={"messaging.system": "pasar", "messaging.operation.type": "process", **attributes},
    ):
        yield


def _extracted(stored: TraceContext | None) -> Context | None:
    """The context stored names, or None when it is empty or not a valid W3C traceparent."""
    if stored is None or not stored.traceparent:
        return None
    from opentelemetry import trace  # noqa: PLC0415
    from opentelemetry.context import Context  # noqa: PLC0415
    from opentelemetry.trace.propagation.tracecontext import (  # noqa: PLC0415
        TraceContextTextMapPropagator,
    )

    carrier = {"traceparent": stored.traceparent, "tracestate": stored.tracestate}
    context = TraceContextTextMapPropagator().extract(carrier, context=Context())
    return context if trace.get_current_span(context).get_span_context().is_valid else None


def annotate(attributes: Mapping[str, str | int]) -> None:
    """Sets attributes on the current span (the server span, in a call); nothing when off."""
    if _state is None:
        return
    from opentelemetry import trace  # noqa: PLC0415

    span = trace.get_current_span()
    if span.is_recording():
        span.set_attributes(attributes)
