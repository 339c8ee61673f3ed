"""The payment event stream's newest sequence, as a Prometheus figure read at each scrape.

``pasar_event_stream_newest_sequence{stream="payment-events"}`` is the sequence of the last
event recorded (0 before any); svc-order exports the sequence it has handled as
``pasar_event_consumer_cursor{stream="payment-events"}``, so the difference is how far the
consumer lags. It reads the event counter's row (:mod:`pasar_payment.events`), which the
transaction recording an event updates: the newest committed event. One read by the key per
scrape, on the one pooled connection main.CONNECTIONS_BESIDE_WORKERS counts
(pasar_kit.metrics.DatabaseFigures); when the database does not answer, the kit's metrics
leave the figure out of that scrape. Imports prometheus-client: main imports this module only
when metrics are on.
"""

from __future__ import annotations

from collections.abc import Iterator

from prometheus_client.core import GaugeMetricFamily, Metric

from pasar_kit.metrics import DatabaseFigures
from pasar_payment.models import COUNTER_ID, PaymentEventCounter

STREAM = "payment-events"


class EventStreamFigures(DatabaseFigures):
    """A Prometheus collector of the payment event stream's newest sequence."""

    def read(self) -> Iterator[Metric]:
        newest = (
            PaymentEventCounter.select(PaymentEventCounter.last_sequence)
            .where(PaymentEventCounter.id == COUNTER_ID)
            .scalar()
        )
        figure = GaugeMetricFamily(
            "pasar_event_stream_newest_sequence",
            "Sequence of the newest event of the stream (0 before any).",
            labels=["stream"],
        )
        figure.add_metric([STREAM], newest or 0)
        yield figure
