"""The order service's figures for Prometheus, read from its database at scrape time.

Gauges, so that every instance reports the same truth (the database is shared):

- ``pasar_outbox_rows{outbox}`` and ``pasar_outbox_oldest_age_seconds{outbox}``: the rows
  waiting in each queue (``mail-outbox``, ``reservation-steps``, ``fulfillment-requests``,
  ``refund-requests``) and how long the oldest has waited (0 when empty): a peer or the mail
  server down shows as a growing age.
- ``pasar_outbox_failed_rows{outbox}``: rows given up for good (a refund or a stock step
  refused, a line the fulfillment service holds another request for): each needs a person.
- ``pasar_event_consumer_cursor{stream}``: the last event handled of ``payment-events`` and
  ``fulfillment-events``; the lag is the producer's ``pasar_event_stream_newest_sequence``
  minus it.
- ``pasar_orders_pending_payment``: orders waiting for their money.
- ``pasar_orders_past_expiry``: unpaid orders past their expiry time that the sweeper has
  not closed (their stock stays held: the payment service refuses or is down).
- ``pasar_checkouts_stale``: checkouts whose worker vanished and that the sweeper has not
  undone yet (stock, perhaps a payment, held for nothing).

Each is one indexed query, all on one connection of the pool; a database that does not
answer yields no figures (pasar_kit.metrics logs it at debug): a scrape never fails the
service. Imports prometheus-client: main imports this module only when metrics are on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import cast

import peewee
from peewee import fn
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from pasar_kit.timestamps import utc_now
from pasar_order import fulfillment_events, payment_events
from pasar_order.mail_outbox import DESTINATION as MAIL_OUTBOX
from pasar_order.models import (
    CHECKOUT_STATES,
    Email,
    EventCursor,
    FulfillmentTask,
    Order,
    OrderState,
    OutboxRow,
    OutboxState,
    RefundTask,
    ReservationTask,
)

# Each queue's name (as its spans name it) and table.
OUTBOXES: tuple[tuple[str, type[OutboxRow]], ...] = (
    (MAIL_OUTBOX, Email),
    ("reservation-steps", ReservationTask),
    ("fulfillment-requests", FulfillmentTask),
    ("refund-requests", RefundTask),
)
STREAMS = (payment_events.CURSOR_NAME, fulfillment_events.CURSOR_NAME)


def _families() -> dict[str, GaugeMetricFamily]:
    return {
        "rows": GaugeMetricFamily(
            "pasar_outbox_rows", "Rows waiting in an outbox (queued work not yet done).", labels=["outbox"]
        ),
        "age": GaugeMetricFamily(
            "pasar_outbox_oldest_age_seconds",
            "How long the oldest row waiting in an outbox has waited (0 when none waits).",
            labels=["outbox"],
        ),
        "failed": GaugeMetricFamily(
            "pasar_outbox_failed_rows",
            "Outbox rows given up for good (the peer refuses for ever): each needs a person.",
            labels=["outbox"],
        ),
        "cursor": GaugeMetricFamily(
            "pasar_event_consumer_cursor",
            "The sequence of the last event handled of another service's event stream.",
            labels=["stream"],
        ),
        "pending": GaugeMetricFamily("pasar_orders_pending_payment", "Orders waiting for their payment."),
        "past_expiry": GaugeMetricFamily(
            "pasar_orders_past_expiry",
            "Unpaid orders past their expiry time not closed yet (their stock stays held).",
        ),
        "stale": GaugeMetricFamily(
            "pasar_checkouts_stale",
            "Checkouts whose worker vanished (lease expired), not undone yet.",
        ),
    }


class OrderFigures(Collector):
    """The scrape-time collector of the figures above (registered on the service's metrics)."""

    def __init__(self, database: peewee.Database) -> None:
        self.database = database

    def collect(self) -> Iterator[Metric]:
        """The figures (ServiceMetrics.register guards it: a database that does not answer
        costs this scrape these figures, nothing else)."""
        with self.database.connection_context():
            families = self._read()
        yield from families.values()

    def _read(self) -> dict[str, GaugeMetricFamily]:
        families = _families()
        now = utc_now()
        for name, model in OUTBOXES:
            query = (
                model.select(model.state, fn.COUNT(model.id), fn.MIN(model.create_time))
                .where(model.state.in_([OutboxState.QUEUED, OutboxState.FAILED]))
                .group_by(model.state)
                .tuples()
            )
            waiting: dict[str, tuple[int, datetime | None]] = dict.fromkeys(OutboxState, (0, None))
            for state, count, oldest in cast(Iterable[tuple[str, int, datetime | None]], query):
                waiting[state] = (count, oldest)
            count, oldest = waiting[OutboxState.QUEUED]
            families["rows"].add_metric([name], count)
            families["age"].add_metric([name], max((now - oldest).total_seconds(), 0.0) if oldest else 0.0)
            families["failed"].add_metric([name], waiting[OutboxState.FAILED][0])
        cursors = dict(
            cast(
                Iterable[tuple[str, int]], EventCursor.select(EventCursor.name, EventCursor.sequence).tuples()
            )
        )
        for stream in STREAMS:
            families["cursor"].add_metric([stream], cursors.get(stream, 0))
        pending = Order.state == OrderState.PENDING_PAYMENT
        families["pending"].add_metric([], Order.select().where(pending).count())
        families["past_expiry"].add_metric(
            [], Order.select().where(pending & (Order.expire_time <= now)).count()
        )
        abandoned = Order.state.in_(CHECKOUT_STATES) & (
            Order.lease_until.is_null() | (Order.lease_until < now)
        )
        families["stale"].add_metric([], Order.select().where(abandoned).count())
        return families
