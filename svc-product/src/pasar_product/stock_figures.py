"""The stock held for orders, as Prometheus figures read from the database at each scrape.

``pasar_reservations_held`` counts the reservations still holding units (RESERVED: neither
committed, nor released by the order service or the expiry sweep) and ``pasar_reserved_units``
the units they hold, taken out of ``stock_available`` until then. A figure that only grows
means orders are not settling or the sweep is not returning units. One query per scrape (by
the (state, expire_time) index), on the one pooled connection main.CONNECTIONS_BESIDE_WORKERS
counts (pasar_kit.metrics.DatabaseFigures); when the database does not answer, the kit's
metrics leave these figures out of that scrape. Imports prometheus-client: main imports this
module only when metrics are on.
"""

from __future__ import annotations

from collections.abc import Iterator

import peewee
from prometheus_client.core import GaugeMetricFamily, Metric

from pasar_kit.metrics import DatabaseFigures
from pasar_product.models import Reservation, ReservationLine, ReservationState


class ReservationFigures(DatabaseFigures):
    """A Prometheus collector of the reservations held and the units they hold."""

    def read(self) -> Iterator[Metric]:
        held, units = self._held()
        yield GaugeMetricFamily(
            "pasar_reservations_held",
            "Reservations holding units for an order: neither committed nor released nor expired.",
            value=held,
        )
        yield GaugeMetricFamily(
            "pasar_reserved_units", "Units of stock those reservations hold.", value=units
        )

    def _held(self) -> tuple[int, int]:
        """(reservations held, units held), in one statement so that the two agree."""
        held, units = (
            Reservation.select(
                peewee.fn.COUNT(Reservation.order_id.distinct()),
                peewee.fn.COALESCE(peewee.fn.SUM(ReservationLine.quantity), 0),
            )
            .join(ReservationLine, peewee.JOIN.LEFT_OUTER)
            .where(Reservation.state == ReservationState.RESERVED)
            .scalar(as_tuple=True)
        )
        return int(held), int(units)
