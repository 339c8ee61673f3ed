"""One trace for a purchase (issue 16): the order keeps its checkout's trace context, and
the later work (the PAID event's settlement, the fulfillment requests, the e-mails, the
expiry) runs in spans of that trace, linked to the event that caused it, even after a
restart. Tracing is on through an in-memory exporter; off, the columns stay empty."""

from __future__ import annotations

from collections.abc import Iterator, Sequence

import pytest
from conftest import (
    UNKNOWN_ORDER_ID,
    RunningService,
    StartService,
    create_request,
    handle_event_of_unknown_order,
    with_destinations,
)
from fakes import FakeFulfillment, FakePayments, window
from opentelemetry import trace
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from pasar.common.v1 import trace_context_pb2
from pasar.order.v1 import order_service_pb2
from pasar_kit import telemetry
from pasar_kit.config import Env
from pasar_order.models import (
    Email,
    EmailKind,
    FulfillmentTask,
    Order,
    OrderState,
    RefundTask,
    ReservationTask,
)
from pasar_testkit.assertions import eventually
from pasar_testkit.mail import MailCatcher
from pasar_testkit.spans import recorded_spans

PHONE = "081234567890"
TRACED_ROWS = (Order, Email, ReservationTask, FulfillmentTask, RefundTask)


@pytest.fixture
def spans(database_url: str) -> Iterator[InMemorySpanExporter]:
    """Tracing on (before the service starts), every ended span kept in memory."""
    with recorded_spans("svc-order", Env({"DATABASE_URL": database_url})) as exporter:
        yield exporter


def ids(traceparent: str) -> tuple[int, int]:
    """The trace id and span id a W3C traceparent names."""
    _, trace_id, span_id, _ = traceparent.split("-")
    return int(trace_id, 16), int(span_id, 16)


def caller_context(name: str) -> trace_context_pb2.TraceContext:
    """The context of a span of another trace (a peer's call that caused an event)."""
    with trace.get_tracer("test").start_as_current_span(name, kind=trace.SpanKind.CLIENT):
        return telemetry.current_trace_context()


def place(
    service: RunningService, *lines: tuple[str, int]
) -> tuple[order_service_pb2.CreateOrderResponse, int]:
    """CreateOrder called inside a client span (the gateway's, say); the order and the trace id."""
    request = with_destinations(
        create_request(*(lines or [("telkomsel-20k", 1)])), telkomsel_20k={"phone_number": PHONE}
    )
    with trace.get_tracer("test").start_as_current_span(
        "shopper checkout", kind=trace.SpanKind.CLIENT
    ) as span:
        traceparent = telemetry.current_trace_context().traceparent
        placed: order_service_pb2.CreateOrderResponse = service.stub.CreateOrder(
            request, metadata=(("traceparent", traceparent),)
        )
    return placed, span.get_span_context().trace_id


def stored_traceparent(service: RunningService, order_id: str) -> str:
    with service.database.connection_context():
        traceparent: str = Order.get_by_id(order_id).traceparent
        return traceparent


def state_of(service: RunningService, order_id: str) -> str:
    with service.database.connection_context():
        state: str = Order.get_by_id(order_id).state
        return state


def ended(spans: InMemorySpanExporter, name: str, **attributes: str) -> list[ReadableSpan]:
    """The ended spans of this name whose attributes include these (dots as double underscores)."""
    wanted = {key.replace("__", "."): value for key, value in attributes.items()}
    return [
        span
        for span in spans.get_finished_spans()
        if span.name == name
        and all((span.attributes or {}).get(key) == value for key, value in wanted.items())
    ]


def one_span(spans: InMemorySpanExporter, name: str, **attributes: str) -> ReadableSpan:
    eventually(lambda: ended(spans, name, **attributes), message=f"a span {name} {attributes}")
    found = ended(spans, name, **attributes)
    assert len(found) == 1, found
    return found[0]


def last_sequence(fake: FakePayments | FakeFulfillment) -> str:
    """The sequence of the fake's last event, as its span's messaging.message.id names it."""
    return str(fake.events[-1].sequence)


def parent_ids(span: ReadableSpan) -> tuple[int, int]:
    assert span.parent is not None, span.name
    return span.parent.trace_id, span.parent.span_id


def linked(span: ReadableSpan) -> list[tuple[int, int]]:
    return [(link.context.trace_id, link.context.span_id) for link in span.links]


def test_a_purchase_is_one_trace_from_the_checkout_to_the_delivery_email(
    spans: InMemorySpanExporter,
    service: RunningService,
    fake_payments: FakePayments,
    fake_fulfillment: FakeFulfillment,
) -> None:
    placed, checkout_trace = place(service)
    order_id = placed.order.id
    # The order keeps the context of CreateOrder's server span, the caller's span's child.
    stored = stored_traceparent(service, order_id)
    assert stored, "the checkout's context is stored on the order"
    create_order = one_span(spans, "/pasar.order.v1.OrderService/CreateOrder")
    assert ids(stored) == (checkout_trace, create_order.context.span_id)

    # The PAID event carries the context of the call that paid (another trace): the
    # settlement is the checkout's child, linked to that call.
    notification = caller_context("sandbox notification")
    fake_payments.pay(placed.payment.id, trace_context=notification)
    settlement = one_span(
        spans, "process payment-events", messaging__message__id=last_sequence(fake_payments)
    )
    assert (settlement.attributes or {})["pasar.order.id"] == order_id
    assert settlement.kind == trace.SpanKind.CONSUMER
    assert parent_ids(settlement) == ids(stored)
    assert linked(settlement) == [ids(notification.traceparent)]
    attributes = settlement.attributes or {}
    assert attributes["pasar.payment.id"] == placed.payment.id
    assert attributes["messaging.destination.name"] == "payment-events"
    assert attributes["messaging.operation.type"] == "process"

    # The work the settlement queued runs in the checkout's trace, under the settlement.
    request = one_span(spans, "process fulfillment-requests", pasar__order__id=order_id)
    assert request.context.trace_id == checkout_trace
    assert parent_ids(request)[1] == settlement.context.span_id
    # ... and its call carries the trace on to the fulfillment service (the client interceptor).
    assert [ids(sent)[0] for sent in fake_fulfillment.hooks.traceparents["CreateFulfillment"]] == [
        checkout_trace
    ]
    commit = one_span(spans, "process reservation-steps", pasar__order__id=order_id)
    assert commit.context.trace_id == checkout_trace

    def mail_spans() -> list[ReadableSpan]:
        return ended(spans, "process mail-outbox", pasar__order__id=order_id)

    eventually(lambda: len(mail_spans()) == 2, message="order created and payment received sent")
    assert {span.context.trace_id for span in mail_spans()} == {checkout_trace}

    # The delivery: the SUCCEEDED event carries the context of the call that created the
    # fulfillment (contracts v1.4), as the fulfillment service keeps it: here the one the
    # CreateFulfillment call carried. The event's span and the "delivered" e-mail it queued
    # join the checkout's trace too.
    (creating_call,) = fake_fulfillment.hooks.traceparents["CreateFulfillment"]
    created = trace_context_pb2.TraceContext(traceparent=creating_call)
    fake_fulfillment.succeed(order_id, "telkomsel-20k", trace_context=created)
    delivery = one_span(
        spans, "process fulfillment-events", messaging__message__id=last_sequence(fake_fulfillment)
    )
    assert (delivery.attributes or {})["pasar.fulfillment.id"] == fulfillment_id(fake_fulfillment, order_id)
    assert parent_ids(delivery) == ids(stored)
    assert linked(delivery) == [ids(creating_call)]
    eventually(lambda: state_of(service, order_id) == OrderState.FULFILLED)
    eventually(lambda: len(mail_spans()) == 3, message="the delivered e-mail sent")
    delivered = delivered_email_id(service, order_id)
    mail = one_span(spans, "process mail-outbox", messaging__message__id=str(delivered))
    assert mail.context.trace_id == checkout_trace
    assert parent_ids(mail)[1] == delivery.context.span_id


def test_a_retried_checkout_keeps_the_first_checkouts_context(
    spans: InMemorySpanExporter, service: RunningService
) -> None:
    """CreateOrder retried with the same request_id (another trace: the shopper pressed again)
    answers the same order, which keeps the context of the call that created it."""
    request = with_destinations(
        create_request(("telkomsel-20k", 1), request_id="req-traced-retry"),
        telkomsel_20k={"phone_number": PHONE},
    )
    orders, traces = [], []
    for attempt in ("checkout", "the retried checkout"):
        with trace.get_tracer("test").start_as_current_span(attempt, kind=trace.SpanKind.CLIENT) as span:
            traceparent = telemetry.current_trace_context().traceparent
            placed = service.stub.CreateOrder(request, metadata=(("traceparent", traceparent),))
        orders.append(placed.order.id)
        traces.append(span.get_span_context().trace_id)
    assert orders[0] == orders[1]
    assert ids(stored_traceparent(service, orders[0]))[0] == traces[0] != traces[1]


def fulfillment_id(fake_fulfillment: FakeFulfillment, order_id: str) -> str:
    (fulfillment,) = fake_fulfillment.lines_of(order_id)
    return fulfillment.id


def delivered_email_id(service: RunningService, order_id: str) -> int:
    with service.database.connection_context():
        email: Email = Email.get((Email.order == order_id) & (Email.kind == EmailKind.DELIVERED))
        return int(email.id)


def test_a_restarted_service_settles_the_order_in_its_checkouts_trace(
    spans: InMemorySpanExporter, start_service: StartService, fake_payments: FakePayments
) -> None:
    first = start_service()
    placed, checkout_trace = place(first)
    stored = stored_traceparent(first, placed.order.id)
    first.stop()
    notification = caller_context("sandbox notification")
    fake_payments.pay(placed.payment.id, trace_context=notification)

    second = start_service()
    eventually(lambda: state_of(second, placed.order.id) == OrderState.PAID)
    settlement = one_span(
        spans, "process payment-events", messaging__message__id=last_sequence(fake_payments)
    )
    assert parent_ids(settlement) == ids(stored)
    assert settlement.context.trace_id == checkout_trace
    assert linked(settlement) == [ids(notification.traceparent)]


def test_an_event_of_an_unknown_order_is_handled_in_the_events_trace(
    spans: InMemorySpanExporter, service: RunningService
) -> None:
    cause = caller_context("biller notification")
    handle_event_of_unknown_order(service, cause)
    handled = one_span(spans, "process fulfillment-events", pasar__order__id=UNKNOWN_ORDER_ID)
    assert parent_ids(handled) == ids(cause.traceparent)
    assert handled.links == ()


def test_an_expired_order_is_closed_and_its_stock_released_in_its_checkouts_trace(
    spans: InMemorySpanExporter, start_service: StartService, fake_payments: FakePayments
) -> None:
    fake_payments.channels["bca_va"].payment_ttl.CopyFrom(window(1))
    service = start_service()
    placed, checkout_trace = place(service, ("pulsa-10k", 1))
    stored = stored_traceparent(service, placed.order.id)
    expiry = one_span(spans, "process expired-orders", pasar__order__id=placed.order.id)
    assert parent_ids(expiry) == ids(stored)
    release = one_span(spans, "process reservation-steps", pasar__order__id=placed.order.id)
    assert release.context.trace_id == checkout_trace
    # Queued by whichever closed the order first: the sweeper, or the payment's CANCELLED
    # event its CancelPayment caused (handled in the checkout's trace too).
    closer = next(
        span for span in spans.get_finished_spans() if span.context.span_id == parent_ids(release)[1]
    )
    assert closer.name in ("process expired-orders", "process payment-events")


def test_the_smtp_send_is_a_client_span_of_the_emails_work(
    spans: InMemorySpanExporter, start_service: StartService, mail_catcher: MailCatcher
) -> None:
    service = start_service(SMTP_URL=mail_catcher.url)
    placed, checkout_trace = place(service, ("pulsa-10k", 1))
    eventually(lambda: mail_catcher.received(order_id=placed.order.id), message="order created sent")
    work = one_span(spans, "process mail-outbox", pasar__order__id=placed.order.id)
    send = one_span(spans, "smtp send")
    assert send.kind == trace.SpanKind.CLIENT
    assert parent_ids(send) == (checkout_trace, work.context.span_id)
    assert (send.attributes or {})["server.port"] == mail_catcher.port


def all_traceparents(service: RunningService) -> Sequence[str]:
    with service.database.connection_context():
        return [row.traceparent + row.tracestate for model in TRACED_ROWS for row in model.select()]


def test_with_tracing_off_the_rows_keep_no_context_and_the_purchase_goes_through(
    service: RunningService, fake_payments: FakePayments, fake_fulfillment: FakeFulfillment
) -> None:
    assert not telemetry.tracing_enabled()
    placed, _ = place(service)
    fake_payments.pay(placed.payment.id, trace_context=trace_context_pb2.TraceContext())
    eventually(lambda: fake_fulfillment.lines_of(placed.order.id))
    fake_fulfillment.succeed(placed.order.id, "telkomsel-20k")
    eventually(lambda: state_of(service, placed.order.id) == OrderState.FULFILLED)
    eventually(lambda: delivered_sent(service, placed.order.id))
    stored = all_traceparents(service)
    assert len(stored) >= 6  # the order, its e-mails, the commit and the fulfillment request
    assert set(stored) == {""}
    assert fake_fulfillment.hooks.traceparents["CreateFulfillment"] == [""]


def delivered_sent(service: RunningService, order_id: str) -> bool:
    with service.database.connection_context():
        return bool(
            Email.select()
            .where(
                (Email.order == order_id)
                & (Email.kind == EmailKind.DELIVERED)
                & Email.done_time.is_null(False)
            )
            .exists()
        )
