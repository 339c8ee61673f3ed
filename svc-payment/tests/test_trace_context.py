"""The trace context a payment and its events keep: the checkout's for the payment and its
CREATED event, the causing call's for PAID, CANCELLED and REFUNDED, the checkout's again for
EXPIRED (whose sweep span joins that trace); nothing at all while tracing is off."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, timedelta

import pytest
from conftest import (
    EVENT_TYPE,
    RunningService,
    StartService,
    create_payment,
    create_request,
    paid_payment,
    watched_events,
)
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from pasar.payment.v1 import payment_service_pb2, payment_service_pb2_grpc
from pasar_kit.ids import new_id
from pasar_kit.money import rupiah
from pasar_kit.telemetry import instrument_channel
from pasar_payment.events import EventFeed
from pasar_payment.expiry import expire_due_payments
from pasar_payment.models import Payment
from pasar_testkit.spans import recorded_spans, traceparent_of
from pasar_testkit.waiting import wait_for

PaymentStub = payment_service_pb2_grpc.PaymentServiceStub
SERVICE = "/pasar.payment.v1.PaymentService/"


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """Tracing on (before the service starts), every finished span in the exporter."""
    with recorded_spans("svc-payment") as exporter:
        yield exporter


@pytest.fixture
def traced(spans: InMemorySpanExporter, start_service: StartService) -> RunningService:
    """The service with tracing on; its stub's calls are client spans (traceparent sent)."""
    running = start_service()
    running.stub = PaymentStub(instrument_channel(running.channel))
    return running


def server_span(spans: InMemorySpanExporter, method: str, trace_id: int) -> ReadableSpan:
    """The service's span of method in the trace trace_id (it ends just after the answer)."""

    def find() -> ReadableSpan | None:
        return next(
            (
                span
                for span in spans.get_finished_spans()
                if span.name == SERVICE + method
                and span.kind == trace.SpanKind.SERVER
                and span.context is not None
                and span.context.trace_id == trace_id
            ),
            None,
        )

    return wait_for(find, 10, f"the server span of {method}")


def client_trace(name: str) -> trace.Span:
    """A span of the test, as a caller's (the storefront's checkout, the shopper paying)."""
    return trace.get_tracer("svc-payment tests").start_span(name)


def stored_context(service: RunningService, payment_id: str) -> tuple[str, str]:
    with service.database.connection_context():
        payment = Payment.get_by_id(payment_id)
        return payment.traceparent, payment.tracestate


def test_a_payment_keeps_its_checkout_context_and_paid_carries_the_settling_call(
    traced: RunningService, spans: InMemorySpanExporter
) -> None:
    checkout = client_trace("checkout")
    with trace.use_span(checkout, end_on_exit=True):
        payment = create_payment(traced.stub)
    created_by = server_span(spans, "CreatePayment", checkout.get_span_context().trace_id)
    assert stored_context(traced, payment.id) == (traceparent_of(created_by), "")
    retry = client_trace("a retried checkout")
    with trace.use_span(retry, end_on_exit=True):
        assert create_payment(traced.stub, order_id=payment.order_id) == payment
    assert stored_context(traced, payment.id) == (traceparent_of(created_by), ""), "a retry changes nothing"
    paying = client_trace("the shopper pays")
    with trace.use_span(paying, end_on_exit=True):
        traced.stub.SimulatePayment(payment_service_pb2.SimulatePaymentRequest(id=payment.id), timeout=10)
    paid_by = server_span(spans, "SimulatePayment", paying.get_span_context().trace_id)
    created, paid = watched_events(traced.stub, 2)
    assert (created.type, created.trace_context.traceparent) == (
        EVENT_TYPE.PAYMENT_EVENT_TYPE_CREATED,
        traceparent_of(created_by),
    )
    assert (paid.type, paid.trace_context.traceparent) == (
        EVENT_TYPE.PAYMENT_EVENT_TYPE_PAID,
        traceparent_of(paid_by),
    )


def test_cancelled_and_refunded_events_carry_their_calls_context(
    traced: RunningService, spans: InMemorySpanExporter
) -> None:
    cancelled = create_payment(traced.stub)
    refunded = paid_payment(traced.stub)
    cancelling = client_trace("the order is cancelled")
    with trace.use_span(cancelling, end_on_exit=True):
        traced.stub.CancelPayment(payment_service_pb2.CancelPaymentRequest(id=cancelled.id), timeout=10)
    refunding = client_trace("the delivery failed")
    with trace.use_span(refunding, end_on_exit=True):
        traced.stub.RefundPayment(
            payment_service_pb2.RefundPaymentRequest(
                payment_id=refunded.id,
                request_id=new_id("ful"),
                amount=rupiah(1_000),
                reason="delivery failed",
            ),
            timeout=10,
        )
    events = watched_events(traced.stub, 5)
    assert [event.type for event in events[3:]] == [
        EVENT_TYPE.PAYMENT_EVENT_TYPE_CANCELLED,
        EVENT_TYPE.PAYMENT_EVENT_TYPE_REFUNDED,
    ]
    assert [event.trace_context.traceparent for event in events[3:]] == [
        traceparent_of(server_span(spans, "CancelPayment", cancelling.get_span_context().trace_id)),
        traceparent_of(server_span(spans, "RefundPayment", refunding.get_span_context().trace_id)),
    ]


def test_an_expired_payment_joins_its_checkout_trace(
    traced: RunningService, spans: InMemorySpanExporter
) -> None:
    checkout = client_trace("checkout")
    with trace.use_span(checkout, end_on_exit=True):
        payment = create_payment(traced.stub, channel_code="qris", amount=10_000)
    created_by = server_span(spans, "CreatePayment", checkout.get_span_context().trace_id)
    spans.clear()
    due = payment.expire_time.ToDatetime(tzinfo=UTC) + timedelta(minutes=1)
    # The sweep runs on its own thread, in no span: its span takes the stored context.
    assert expire_due_payments(traced.database, EventFeed(), now=due) == 1
    expired = watched_events(traced.stub, 1, after_sequence=1)[0]
    assert (expired.type, expired.trace_context.traceparent) == (
        EVENT_TYPE.PAYMENT_EVENT_TYPE_EXPIRED,
        traceparent_of(created_by),
    )
    [sweep] = [span for span in spans.get_finished_spans() if span.name == "process payment-expiry"]
    assert sweep.kind == trace.SpanKind.CONSUMER
    assert sweep.parent is not None
    assert created_by.context is not None
    assert (sweep.parent.trace_id, sweep.parent.span_id) == (
        created_by.context.trace_id,
        created_by.context.span_id,
    )
    assert dict(sweep.attributes or {}) == {
        "messaging.system": "pasar",
        "messaging.operation.type": "process",
        "messaging.destination.name": "payment-expiry",
        "messaging.message.id": payment.id,
        "pasar.payment.id": payment.id,
    }


def test_with_tracing_off_nothing_is_kept(service: RunningService) -> None:
    payment = paid_payment(service.stub)
    due = create_payment(service.stub, channel_code="qris", amount=10_000)
    assert expire_due_payments(service.database, EventFeed(), now=due.expire_time.ToDatetime(tzinfo=UTC)) == 1
    assert stored_context(service, payment.id) == ("", "")
    assert stored_context(service, due.id) == ("", "")
    events = watched_events(service.stub, 4)
    assert [event.type for event in events] == [
        EVENT_TYPE.PAYMENT_EVENT_TYPE_CREATED,
        EVENT_TYPE.PAYMENT_EVENT_TYPE_PAID,
        EVENT_TYPE.PAYMENT_EVENT_TYPE_CREATED,
        EVENT_TYPE.PAYMENT_EVENT_TYPE_EXPIRED,
    ]
    assert not any(event.HasField("trace_context") for event in events)


def test_a_callers_long_tracestate_is_cut_to_what_the_contract_holds(traced: RunningService) -> None:
    """W3C lets a tracestate hold 32 entries of up to 256 characters; the column and the
    contract's TraceContext hold 512 (MariaDB refused the row, and CreatePayment failed)."""
    entries = [f"vendor{index:02d}={'v' * 40}" for index in range(20)]  # 49 characters each
    long_entry = f"big={'b' * 200}"  # W3C: entries over 128 characters go first
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    # The caller's own metadata, through a channel that adds none.
    payment = (
        PaymentStub(traced.channel)
        .CreatePayment(
            create_request(),
            metadata=(("traceparent", parent), ("tracestate", ",".join([long_entry, *entries]))),
            timeout=10,
        )
        .payment
    )
    traceparent, tracestate = stored_context(traced, payment.id)
    assert traceparent.startswith("00-0af7651916cd43dd8448eb211c80319c-"), "the caller's trace"
    # Then entries from the end: 10 entries and 9 commas are 499 characters.
    assert tracestate == ",".join(entries[:10])
    [created] = watched_events(traced.stub, 1)
    assert created.trace_context.tracestate == tracestate
