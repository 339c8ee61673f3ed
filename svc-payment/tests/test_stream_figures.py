"""The payment event stream's newest sequence, as a scrape of the service's metrics listener
shows it: 0 before any event, then the sequence of each event as it is recorded."""

from __future__ import annotations

from conftest import RunningService, create_payment, paid_payment, stored_events

from pasar_testkit.scrape import scrape


def newest_sequence(service: RunningService) -> float | None:
    assert service.server.metrics_address is not None
    page = scrape(f"http://{service.server.metrics_address}/metrics")
    return page.value("pasar_event_stream_newest_sequence", stream="payment-events")


def test_the_newest_sequence_follows_the_event_log(service: RunningService) -> None:
    assert newest_sequence(service) == 0
    create_payment(service.stub)
    assert newest_sequence(service) == 1
    paid_payment(service.stub)
    assert newest_sequence(service) == 3
    assert [sequence for sequence, _type, _payment in stored_events(service.database)][-1] == 3
