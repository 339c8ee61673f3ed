"""How svc-order's later work joins the trace of what caused it (issue 16).

A row that causes later work (an order, an outbox row) keeps the trace context of the
span current when it was written (:func:`traced_columns`); its work runs in a span whose
parent is that context (:func:`row_span`; :func:`work_span` for an event's, which links
to the event's own), so the settlement, the deliveries and the e-mails of a purchase show
in its checkout's trace, even after a restart. With tracing off the columns stay empty, the
spans are no-ops and no stored context is even read (nothing of OpenTelemetry is imported
here).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from typing import TYPE_CHECKING

from pasar.common.v1 import trace_context_pb2
from pasar_kit import telemetry

if TYPE_CHECKING:
    from pasar_order.models import TracedRow

ORDER_ID = telemetry.ORDER_ID_ATTRIBUTE
PAYMENT_ID = telemetry.PAYMENT_ID_ATTRIBUTE
FULFILLMENT_ID = telemetry.FULFILLMENT_ID_ATTRIBUTE


def traced_columns() -> dict[str, str]:
    """The traceparent and tracestate columns of a row written now (empty when untraced)."""
    return telemetry.trace_columns(telemetry.current_trace_context())


def stored_context(row: TracedRow) -> trace_context_pb2.TraceContext:
    """The trace context a row was written in (an empty message when it was untraced)."""
    return telemetry.stored_trace_context(row.traceparent, row.tracestate)


def work_span(
    destination: str,
    message_id: str | int,
    *,
    parent: trace_context_pb2.TraceContext | None,
    links: Sequence[trace_context_pb2.TraceContext] = (),
    attributes: Mapping[str, str | int] | None = None,
) -> contextlib.AbstractContextManager[None]:
    """The CONSUMER span of one message's or row's work (``process <destination>``, with
    OpenTelemetry's messaging attributes: the kit adds the system and the operation), child
    of parent and linked to links."""
    if not telemetry.tracing_enabled():
        return contextlib.nullcontext()
    return telemetry.span_for_stored_work(
        f"process {destination}",
        parent=parent,
        links=links,
        attributes={
            "messaging.destination.name": destination,
            "messaging.message.id": str(message_id),
            **(attributes or {}),
        },
    )


def row_span(
    destination: str, row: TracedRow, message_id: str | int, attributes: Mapping[str, str | int]
) -> contextlib.AbstractContextManager[None]:
    """The span of a stored row's work: the child of the context the row was written in."""
    if not telemetry.tracing_enabled():
        return contextlib.nullcontext()
    return work_span(destination, message_id, parent=stored_context(row), attributes=attributes)


@contextlib.contextmanager
def client_span(name: str, attributes: Mapping[str, str | int]) -> Iterator[None]:
    """A CLIENT span around a call no instrumentation package covers (an SMTP send);
    nothing at all when tracing is off."""
    if not telemetry.tracing_enabled():
        yield
        return
    from opentelemetry import trace  # noqa: PLC0415 - only when tracing is on

    tracer = trace.get_tracer("pasar_order")
    with tracer.start_as_current_span(name, kind=trace.SpanKind.CLIENT, attributes=dict(attributes)):
        yield
