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

Three statements per scrape, each read by an index: the outboxes' counts in one (the
``(state, next_attempt_time)`` index of each table: the done rows are never read), the
orders' in one range of the ``(state, expire_time)`` index, and the cursors; on the one
connection main.BACKGROUND_CONNECTIONS counts for the scrape
(pasar_kit.metrics.DatabaseFigures). A database that does not answer yields no figures
(pasar_kit.metrics logs it at debug): a scrape never fails the service. Imports
prometheus-client: main imports this module only when metrics are on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime
from typing import Any, cast

from peewee import Case, Value, fn
from prometheus_client.core import GaugeMetricFamily, Metric

from pasar_kit.metrics import DatabaseFigures
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


class OrderFigures(DatabaseFigures):
    """The scrape-time collector of the figures above (registered on the service's metrics)."""

    def read(self) -> Iterator[Metric]:
        families = _families()
        now = utc_now()
        waiting = _outbox_rows()
        for name, _model in OUTBOXES:
            count, oldest = waiting.get((name, OutboxState.QUEUED), (0, None))
            families["rows"].add_metric([name], count)
            families["age"].add_metric([name], max((now - oldest).total_seconds(), 0.0) if oldest else 0.0)
            families["failed"].add_metric([name], waiting.get((name, OutboxState.FAILED), (0, None))[0])
        cursors = dict(
            cast(
                Iterable[tuple[str, int]], EventCursor.select(EventCursor.name, EventCursor.sequence).tuples()
            )
        )
        for stream in STREAMS:
            families["cursor"].add_metric([stream], cursors.get(stream, 0))
        pending, past_expiry, stale = _order_counts(now)
        families["pending"].add_metric([], pending)
        families["past_expiry"].add_metric([], past_expiry)
        families["stale"].add_metric([], stale)
        yield from families.values()


def _outbox_rows() -> dict[tuple[str, str], tuple[int, datetime | None]]:
    """(outbox, state) -> (rows, the oldest's create_time) of the queued and failed rows of
    every outbox, in one statement."""
    selects = [
        model.select(Value(name), model.state, fn.COUNT(model.id), fn.MIN(model.create_time))
        .where(model.state.in_([OutboxState.QUEUED, OutboxState.FAILED]))
        .group_by(model.state)
        for name, model in OUTBOXES
    ]
    union: Any = selects[0]
    for select in selects[1:]:
        union = union + select  # UNION ALL
    rows = cast(Iterable[tuple[str, str, int, datetime | None]], union.tuples())
    return {(name, state): (int(count), oldest) for name, state, count, oldest in rows}


def _order_counts(now: datetime) -> tuple[int, int, int]:
    """(pending payment, of those past their expiry, stale checkouts), in one statement over
    the orders in those states (an index range: the settled orders are never read)."""
    pending = Order.state == OrderState.PENDING_PAYMENT
    abandoned = Order.state.in_(CHECKOUT_STATES) & (Order.lease_until.is_null() | (Order.lease_until < now))

    def count(condition: object) -> object:
        return fn.COALESCE(fn.SUM(Case(None, [(condition, 1)], 0)), 0)

    row = cast(
        tuple[int, int, int],
        Order.select(count(pending), count(pending & (Order.expire_time <= now)), count(abandoned))
        .where(Order.state.in_([OrderState.PENDING_PAYMENT, *CHECKOUT_STATES]))
        .tuples()
        .get(),
    )
    return int(row[0]), int(row[1]), int(row[2])
