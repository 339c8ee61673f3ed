"""One purchase seen end to end in a real Jaeger, and the services' metrics and logs about it.

The shop runs as real processes (SQLite) with tracing on, every component exporting over OTLP
to the session's Jaeger (pasar_testkit.jaeger). The purchase goes through the gateway with a
``traceparent`` of our own, as the storefront sends one; the payment is simulated through the
gateway under another. Jaeger's own HTTP API must then return the checkout's trace with:

- the gateway's HTTP span as the child of our traceparent, svc-order's CreateOrder beneath it,
  svc-product's ReserveStock and svc-payment's CreatePayment beneath that, SQL beneath each;
- the later, asynchronous steps (issue16-shape: their parent is the stored checkout context,
  their immediate cause a link): svc-order's consumer span for the PAID event (linked to the
  simulate call's trace) with the order marked paid in SQL beneath it, the fulfillment request
  and svc-fulfillment's CreateFulfillment beneath it, the biller hand-off and the notification
  handling in svc-fulfillment, the FULFILLED event's consumer span, and one span per e-mail.

Killing svc-order between payment and settlement does not lose that: after the restart the
settlement still lands in the checkout's trace, linked to the simulate call's.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import traced_shop
from e2e_shop import Shop

from pasar.order.v1 import order_pb2
from pasar.payment.v1 import payment_pb2
from pasar_testkit.failure_logs import FailureLogs
from pasar_testkit.jaeger import (
    SPAN_KIND_CLIENT,
    SPAN_KIND_CONSUMER,
    SPAN_KIND_SERVER,
    JaegerServer,
    Span,
    Trace,
)
from pasar_testkit.scrape import Scrape, scrape
from pasar_testkit.waiting import wait_for

# Service names (OTEL_SERVICE_NAME's defaults, issue16-shape).
GATEWAY, ORDER, PRODUCT, PAYMENT, FULFILLMENT = (
    "gateway",
    "svc-order",
    "svc-product",
    "svc-payment",
    "svc-fulfillment",
)
# messaging.destination.name of the later work (issue16-shape: the stream's or queue's own name).
PAYMENT_EVENTS, FULFILLMENT_EVENTS = "payment-events", "fulfillment-events"
FULFILLMENT_REQUESTS, MAIL_OUTBOX = "fulfillment-requests", "mail-outbox"
BILLER_REQUESTS, BILLER_NOTIFICATIONS = "biller-requests", "biller-notifications"  # svc-fulfillment's queues
CHANNEL = "qris"
TRACE_TIMEOUT = 30.0

# Check = (what it asserts, whether the trace shows it).
Check = tuple[str, Callable[[Trace], bool]]


def new_traceparent() -> tuple[str, str, str]:
    """A W3C traceparent as the storefront makes one (random ids, sampled): (header, trace id, span id)."""
    trace_id, span_id = secrets.token_hex(16), secrets.token_hex(8)
    return f"00-{trace_id}-{span_id}-01", trace_id, span_id


def is_sql(span: Span) -> bool:
    """A database client span (the driver instrumentations set db.* attributes)."""
    return any(key.startswith("db.") for key in span.attributes)


def processing(destination: str) -> Callable[[Span], bool]:
    return lambda span: (
        span.kind == SPAN_KIND_CONSUMER and span.attributes.get("messaging.destination.name") == destination
    )


def rpc(service: str, method: str) -> Callable[[Span], bool]:
    """The SERVER span of a gRPC method (Python names it "/pkg.Service/Method", Go "pkg.Service/Method")."""
    return lambda span: (
        span.service == service and span.kind == SPAN_KIND_SERVER and span.name.endswith(f"/{method}")
    )


def first(trace: Trace, where: Callable[[Span], bool]) -> Span | None:
    found = trace.find(where=where)
    return found[0] if found else None


def beneath(trace: Trace, child: Callable[[Span], bool], parent: Callable[[Span], bool]) -> bool:
    """Some span matching child has a span matching parent among its ancestors."""
    return any(
        any(parent(ancestor) for ancestor in trace.ancestors(span)) for span in trace.find(where=child)
    )


def sql_beneath(trace: Trace, service: str, parent: Callable[[Span], bool]) -> bool:
    """SQL of service beneath a span matching parent."""
    return beneath(trace, lambda span: span.service == service and is_sql(span), parent)


def wait_for_checks(
    jaeger: JaegerServer, trace_id: str, checks: list[Check], timeout: float = TRACE_TIMEOUT
) -> Trace:
    """Polls Jaeger until its trace satisfies every check (spans arrive in batches); then fails
    naming each check still unmet, with the spans Jaeger holds."""
    latest = [Trace(trace_id)]

    def unmet(trace: Trace) -> list[str]:
        return [what for what, check in checks if not check(trace)]

    def satisfied() -> Trace | None:
        trace = latest[0] = jaeger.trace(trace_id) or Trace(trace_id)
        return None if unmet(trace) else trace

    try:
        return wait_for(satisfied, timeout, f"trace {trace_id} complete", interval=0.25)
    except AssertionError:
        lacking = "\n- ".join(unmet(latest[0]))
        raise AssertionError(
            f"the trace lacks:\n- {lacking}\nJaeger holds:\n{latest[0].describe()}"
        ) from None


def checkout_checks(gateway_parent: str) -> list[Check]:
    """The synchronous part of a checkout's trace: the gateway, svc-order, svc-product and
    svc-payment, SQL beneath the services' server spans, the request id on the spans."""
    gateway_span: Callable[[Span], bool] = lambda span: (  # noqa: E731
        span.service == GATEWAY and span.kind == SPAN_KIND_SERVER and span.parent_span_id == gateway_parent
    )
    create_order = rpc(ORDER, "CreateOrder")

    def same_request_id(trace: Trace) -> bool:
        gateway, order = first(trace, gateway_span), first(trace, create_order)
        request_id = gateway.attributes.get("pasar.request_id") if gateway else None
        return (
            bool(request_id) and order is not None and order.attributes.get("pasar.request_id") == request_id
        )

    return [
        (
            "the gateway's SERVER span, the child of the storefront's traceparent",
            lambda t: first(t, gateway_span) is not None,
        ),
        (
            "svc-order's CreateOrder beneath the gateway's span",
            lambda t: beneath(t, create_order, gateway_span),
        ),
        (
            "svc-product's ReserveStock beneath CreateOrder",
            lambda t: beneath(t, rpc(PRODUCT, "ReserveStock"), create_order),
        ),
        (
            "svc-payment's CreatePayment beneath CreateOrder",
            lambda t: beneath(t, rpc(PAYMENT, "CreatePayment"), create_order),
        ),
        ("SQL beneath svc-order's CreateOrder", lambda t: sql_beneath(t, ORDER, create_order)),
        (
            "SQL beneath svc-product's ReserveStock",
            lambda t: sql_beneath(t, PRODUCT, rpc(PRODUCT, "ReserveStock")),
        ),
        (
            "SQL beneath svc-payment's CreatePayment",
            lambda t: sql_beneath(t, PAYMENT, rpc(PAYMENT, "CreatePayment")),
        ),
        ("pasar.request_id on the gateway's span, the same on CreateOrder's", same_request_id),
    ]


def is_update(span: Span) -> bool:
    """SQL that changes rows (the instrumentations name a span by its statement's first word)."""
    statement = " ".join(str(span.attributes.get(key, "")) for key in ("db.statement", "db.query.text"))
    return is_sql(span) and "UPDATE" in f"{span.name} {statement}".upper()


def settlement(trace: Trace, order_id: str, simulate_trace_id: str) -> Span | None:
    """svc-order's CONSUMER span of the order's PAID event: beneath the checkout's CreateOrder
    (the order's stored context is its parent) and linked to the simulate call's trace."""
    return first(
        trace,
        lambda span: (
            span.service == ORDER
            and processing(PAYMENT_EVENTS)(span)
            and span.attributes.get("pasar.order.id") == order_id
            and span.links_to(simulate_trace_id)
            and any(rpc(ORDER, "CreateOrder")(ancestor) for ancestor in trace.ancestors(span))
        ),
    )


def settlement_checks(order_id: str, simulate_trace_id: str) -> list[Check]:
    """svc-order's handling of the PAID event in the checkout's trace, linked to the simulate call's."""

    def marked_paid(trace: Trace) -> bool:
        settled = settlement(trace, order_id, simulate_trace_id)
        return settled is not None and any(is_update(span) for span in trace.descendants(settled))

    return [
        (
            f"svc-order's CONSUMER span of {PAYMENT_EVENTS} for the order, beneath CreateOrder,"
            " linked to the simulate call's trace",
            lambda t: settlement(t, order_id, simulate_trace_id) is not None,
        ),
        ("the order marked paid: an SQL UPDATE beneath that consumer span", marked_paid),
    ]


def delivery_checks(order_id: str, simulate_trace_id: str, mails: Callable[[], int]) -> list[Check]:
    """The fulfillment in svc-fulfillment, its end back in svc-order, and the e-mails (mails:
    how many the order has, read when checked: each is written inside its span). Each later
    step is beneath the span that queued it (issue16-shape: the stored context is the parent)."""

    def request(span: Span) -> bool:
        return span.service == ORDER and processing(FULFILLMENT_REQUESTS)(span)

    create_fulfillment = rpc(FULFILLMENT, "CreateFulfillment")

    def request_beneath_settlement(trace: Trace) -> bool:
        settled = settlement(trace, order_id, simulate_trace_id)
        return settled is not None and any(request(span) for span in trace.descendants(settled))

    return [
        (
            f"svc-order's CONSUMER span of {FULFILLMENT_REQUESTS} beneath the settlement that queued it",
            request_beneath_settlement,
        ),
        (
            "svc-fulfillment's CreateFulfillment beneath it",
            lambda t: beneath(t, create_fulfillment, request),
        ),
        (
            f"svc-fulfillment's biller hand-off ({BILLER_REQUESTS}) beneath CreateFulfillment,"
            " with the biller call beneath it",
            lambda t: beneath(
                t,
                lambda span: span.service == FULFILLMENT and span.kind == SPAN_KIND_CLIENT,
                lambda span: (
                    span.service == FULFILLMENT
                    and processing(BILLER_REQUESTS)(span)
                    and any(create_fulfillment(ancestor) for ancestor in t.ancestors(span))
                ),
            ),
        ),
        (
            f"svc-fulfillment's notification handling ({BILLER_NOTIFICATIONS}) beneath CreateFulfillment",
            lambda t: beneath(
                t,
                lambda span: span.service == FULFILLMENT and processing(BILLER_NOTIFICATIONS)(span),
                create_fulfillment,
            ),
        ),
        (
            f"svc-order's CONSUMER span of {FULFILLMENT_EVENTS} beneath the checkout's CreateOrder",
            lambda t: beneath(
                t,
                lambda span: span.service == ORDER and processing(FULFILLMENT_EVENTS)(span),
                rpc(ORDER, "CreateOrder"),
            ),
        ),
        (
            f"the delivered e-mail: a {MAIL_OUTBOX} span beneath the {FULFILLMENT_EVENTS} consumer's",
            lambda t: beneath(
                t,
                lambda span: span.service == ORDER and processing(MAIL_OUTBOX)(span),
                lambda span: span.service == ORDER and processing(FULFILLMENT_EVENTS)(span),
            ),
        ),
        (
            f"one {MAIL_OUTBOX} span per e-mail of the order",
            lambda t: (
                len([span for span in t.find(where=processing(MAIL_OUTBOX)) if span.service == ORDER])
                == mails()
            ),
        ),
    ]


@dataclass
class Purchase:
    """A purchase placed and paid through the gateway, each under a traceparent of ours."""

    shop: Shop
    order_id: str
    token: str
    payment_id: str
    trace_id: str  # the checkout's
    gateway_parent: str  # the storefront's span id in the checkout's traceparent
    simulate_trace_id: str


def place(shop: Shop, package_id: str) -> Purchase:
    traceparent, trace_id, span_id = new_traceparent()
    placed = shop.gateway_post(
        "/api/v1/orders",
        {
            "customerEmail": "sari@example.co.id",
            "lines": [{"packageId": package_id, "quantity": 1}],
            "paymentChannelCode": CHANNEL,
        },
        {"traceparent": traceparent, "Idempotency-Key": secrets.token_hex(8)},
    )
    return Purchase(
        shop, placed["order"]["id"], placed["accessToken"], placed["payment"]["id"], trace_id, span_id, ""
    )


def simulate(purchase: Purchase) -> None:
    traceparent, trace_id, _ = new_traceparent()
    purchase.shop.gateway_post(
        f"/api/v1/payments/{purchase.payment_id}:simulate", headers={"traceparent": traceparent}
    )
    purchase.simulate_trace_id = trace_id


@pytest.fixture(scope="module")
def purchase(
    jaeger: JaegerServer, tmp_path_factory: pytest.TempPathFactory, session_failure_logs: FailureLogs
) -> Iterator[Purchase]:
    """One purchase placed, paid and delivered in a traced shop (shared by the tests that read it)."""
    with traced_shop(tmp_path_factory.mktemp("traced"), jaeger, session_failure_logs) as shop:
        bought = place(shop, shop.add_package(price=11_500, stock=5))
        simulate(bought)
        shop.wait_for_order_state(bought.order_id, bought.token, order_pb2.ORDER_STATE_FULFILLED)
        yield bought


def test_a_purchase_is_one_trace_from_the_storefront_to_the_delivery_e_mail(
    jaeger: JaegerServer, purchase: Purchase
) -> None:
    shop = purchase.shop
    wait_for(lambda: shop.mails(purchase.order_id, "delivered"), what="the delivered e-mail")

    trace = wait_for_checks(
        jaeger,
        purchase.trace_id,
        checkout_checks(purchase.gateway_parent)
        + settlement_checks(purchase.order_id, purchase.simulate_trace_id)
        + delivery_checks(
            purchase.order_id, purchase.simulate_trace_id, lambda: len(shop.mails(purchase.order_id))
        ),
    )

    assert {GATEWAY, ORDER, PRODUCT, PAYMENT, FULFILLMENT} <= trace.services
    # The simulate call is a trace of its own: the gateway, then svc-payment, which stored the
    # PAID event with that context (the settlement links to it).
    simulated = wait_for_checks(
        jaeger,
        purchase.simulate_trace_id,
        [("svc-payment's SimulatePayment", lambda t: first(t, rpc(PAYMENT, "SimulatePayment")) is not None)],
    )
    assert GATEWAY in simulated.services


def test_the_log_lines_of_a_traced_call_carry_its_trace_and_span_ids(
    jaeger: JaegerServer, purchase: Purchase
) -> None:
    trace = wait_for_checks(jaeger, purchase.trace_id, checkout_checks(purchase.gateway_parent))
    span_ids = {span.span_id for span in trace.spans}

    gateway_lines = [
        line
        for line in purchase.shop.stack["gateway"].logged_lines()
        if line.get("message") == "http" and line.get("path") == "/api/v1/orders"
    ]
    assert [(line.get("trace_id"), line.get("span_id") in span_ids) for line in gateway_lines] == [
        (purchase.trace_id, True)
    ]
    for service, method in (
        ("order", "CreateOrder"),
        ("product", "ReserveStock"),
        ("payment", "CreatePayment"),
    ):
        calls = [call for call in purchase.shop.rpc_log(service) if call["method"].endswith(f"/{method}")]
        assert calls, f"no log line of {method}"
        for call in calls:
            assert call.get("trace_id") == purchase.trace_id, f"{method}'s log line: {call}"
            assert call.get("span_id") in span_ids, (
                f"{method}'s log line names a span the trace lacks: {call}"
            )
    creates = [
        call for call in purchase.shop.rpc_log("fulfillment") if call["method"].endswith("/CreateFulfillment")
    ]
    assert creates, "no log line of CreateFulfillment"
    for create in creates:
        assert create.get("trace_id") == purchase.trace_id, f"CreateFulfillment's log line: {create}"


def test_every_service_serves_its_metrics_and_the_event_lag_returns_to_zero(purchase: Purchase) -> None:
    stack = purchase.shop.stack

    def metrics(name: str) -> Scrape:
        return scrape(stack.metrics_url(name))

    handled = {
        "product": ("pasar.product.v1.ProductService", "ReserveStock"),
        "payment": ("pasar.payment.v1.PaymentService", "CreatePayment"),
        "order": ("pasar.order.v1.OrderService", "CreateOrder"),
        "fulfillment": ("pasar.fulfillment.v1.FulfillmentService", "CreateFulfillment"),
    }
    for name, (service, method) in handled.items():
        scraped = metrics(name)
        labels = {"grpc_service": service, "grpc_method": method, "grpc_type": "unary"}
        assert (scraped.value("grpc_server_handled_total", grpc_code="OK", **labels) or 0) >= 1, (
            f"{name}: {labels}"
        )
        assert (scraped.value("grpc_server_started_total", **labels) or 0) >= 1, f"{name}: {labels}"
        assert (scraped.value("grpc_server_handling_seconds_count", **labels) or 0) >= 1, f"{name}: {labels}"
        assert (scraped.value("pasar_db_connections_max") or 0) >= 1, name
        assert {sample.labels.get("state") for sample in scraped.find("pasar_db_connections")} == {
            "in_use",
            "idle",
        }, name

    product = metrics("product")
    assert product.value("pasar_reservations_held") is not None
    assert product.value("pasar_reserved_units") is not None

    def outboxes_empty() -> Scrape | None:
        order = metrics("order")
        rows = order.find("pasar_outbox_rows")
        ages = order.find("pasar_outbox_oldest_age_seconds")
        empty = rows and all(sample.value == 0 for sample in rows + ages)
        return order if empty else None

    order = wait_for(outboxes_empty, 20, "svc-order's outboxes empty (rows and oldest age 0)")
    assert {sample.labels["outbox"] for sample in order.find("pasar_outbox_rows")} >= {
        MAIL_OUTBOX,
        FULFILLMENT_REQUESTS,
    }

    def lag() -> dict[str, float]:
        order = metrics("order")
        newest = {
            PAYMENT_EVENTS: metrics("payment").value(
                "pasar_event_stream_newest_sequence", stream=PAYMENT_EVENTS
            ),
            FULFILLMENT_EVENTS: metrics("fulfillment").value(
                "pasar_event_stream_newest_sequence", stream=FULFILLMENT_EVENTS
            ),
        }
        return {
            stream: (sequence or 0) - (order.value("pasar_event_consumer_cursor", stream=stream) or 0)
            for stream, sequence in newest.items()
            if sequence
        }

    def caught_up() -> dict[str, float] | None:
        found = lag()
        return found if len(found) == 2 and not any(found.values()) else None

    settled = wait_for(caught_up, 20, "svc-order's cursors at the newest event of both streams")
    assert settled == {PAYMENT_EVENTS: 0, FULFILLMENT_EVENTS: 0}


def test_a_settlement_after_svc_order_was_killed_joins_the_checkouts_trace(
    jaeger: JaegerServer, tmp_path: Path, failure_logs: FailureLogs
) -> None:
    with traced_shop(tmp_path / "traced", jaeger, failure_logs) as shop:
        bought = place(shop, shop.add_package(price=11_500, stock=5))
        # svc-order's spans of the checkout reach Jaeger before it dies (a SIGKILL loses the queued ones).
        wait_for_checks(jaeger, bought.trace_id, checkout_checks(bought.gateway_parent))

        shop.stack["order"].kill()
        simulate(bought)
        wait_for(
            lambda: shop.payment(bought.payment_id).state == payment_pb2.PAYMENT_STATE_PAID,
            what="the payment PAID",
        )
        restarted = time.time_ns()
        shop.stack.start("order")
        shop.wait_until_paid(bought.order_id, bought.token)

        trace = wait_for_checks(
            jaeger, bought.trace_id, settlement_checks(bought.order_id, bought.simulate_trace_id)
        )
        settled = settlement(trace, bought.order_id, bought.simulate_trace_id)
        assert settled is not None
        assert settled.start_unix_nano > restarted  # the restarted svc-order settled it
