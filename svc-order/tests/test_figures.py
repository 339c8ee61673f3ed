"""The order service's Prometheus figures, scraped from its metrics listener: an outbox's
rows appear while its peer is down and drain when it returns, the event cursors advance,
and an unpaid order past its expiry shows until the sweeper can close it."""

from __future__ import annotations

from conftest import RunningService, StartService, create_request
from fakes import FakePayments, window

from pasar.order.v1 import order_service_pb2
from pasar_order.models import Order, OrderState
from pasar_testkit.assertions import eventually
from pasar_testkit.fake_server import FakeGrpcServer
from pasar_testkit.scrape import Scrape
from pasar_testkit.scrape import scrape as scrape_page


def scrape(service: RunningService) -> Scrape:
    """The service's /metrics page."""
    address = service.assembled.server.metrics_address
    assert address is not None, "metrics are on by default"
    return scrape_page(f"http://{address}/metrics")


def figure(service: RunningService, name: str, **labels: str) -> float:
    value = scrape(service).value(name, **labels)
    assert value is not None, f"no {name} {labels}"
    return value


def place(service: RunningService, *lines: tuple[str, int]) -> order_service_pb2.CreateOrderResponse:
    response: order_service_pb2.CreateOrderResponse = service.stub.CreateOrder(
        create_request(*(lines or [("pulsa-10k", 1)]))
    )
    return response


def test_outbox_rows_appear_while_a_peer_is_down_and_drain_when_it_returns(
    service: RunningService, fake_payments: FakePayments, catalog_server: FakeGrpcServer
) -> None:
    assert figure(service, "pasar_event_consumer_cursor", stream="payment-events") == 0
    placed = place(service)
    eventually(lambda: figure(service, "pasar_outbox_rows", outbox="mail-outbox") == 0)
    assert figure(service, "pasar_orders_pending_payment") == 1
    eventually(lambda: figure(service, "pasar_event_consumer_cursor", stream="payment-events") == 1)

    catalog_server.stop()  # the reservation's commit waits for the catalog
    fake_payments.pay(placed.payment.id)
    eventually(lambda: figure(service, "pasar_event_consumer_cursor", stream="payment-events") == 2)
    eventually(lambda: figure(service, "pasar_outbox_oldest_age_seconds", outbox="reservation-steps") > 0.2)
    figures = scrape(service)
    assert figures.value("pasar_outbox_rows", outbox="reservation-steps") == 1
    assert figures.value("pasar_orders_pending_payment") == 0
    assert figures.value("pasar_outbox_failed_rows", outbox="reservation-steps") == 0

    # The line's delivery was asked for: the fulfillment service's CREATED event is handled.
    eventually(lambda: figure(service, "pasar_event_consumer_cursor", stream="fulfillment-events") == 1)

    catalog_server.start()
    eventually(lambda: figure(service, "pasar_outbox_rows", outbox="reservation-steps") == 0)
    figures = scrape(service)
    assert figures.value("pasar_outbox_oldest_age_seconds", outbox="reservation-steps") == 0
    assert figures.value("pasar_outbox_rows", outbox="mail-outbox") in (0, 1)  # "payment received"


def test_an_unpaid_order_past_its_expiry_shows_until_the_sweeper_closes_it(
    start_service: StartService, fake_payments: FakePayments, payments_server: FakeGrpcServer
) -> None:
    fake_payments.channels["bca_va"].payment_ttl.CopyFrom(window(1))
    service = start_service()
    placed = place(service)
    payments_server.stop()  # the payment cannot be cancelled: the order cannot expire
    eventually(lambda: figure(service, "pasar_orders_past_expiry") == 1, message="past its expiry")

    payments_server.start()
    eventually(lambda: figure(service, "pasar_orders_past_expiry") == 0, timeout=15)
    with service.database.connection_context():
        assert Order.get_by_id(placed.order.id).state == OrderState.EXPIRED
    eventually(lambda: figure(service, "pasar_outbox_rows", outbox="reservation-steps") == 0)


def test_no_figures_are_served_with_metrics_off(start_service: StartService) -> None:
    service = start_service(PASAR_METRICS_ADDRESS="off")
    assert service.assembled.server.metrics_address is None
    assert service.assembled.server.metrics is None
