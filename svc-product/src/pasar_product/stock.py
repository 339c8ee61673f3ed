"""Stock reservations: holding units for an order, then selling or returning them.

Why stock can never go below zero, on SQLite or MariaDB, however many calls race:

- every hold is one conditional update, ``stock_available = stock_available - n WHERE
  stock_available >= n``; the database applies it atomically and the number of rows it
  changed says whether the units were there. Nothing is read first and written later;
- all lines of a reservation are one transaction (``catalog_write``, an ``atomic_write``
  that also moves the catalog's version, recording that only these packages' stock moved, so
  the cached answers that show them show the new stock): one line short and the whole
  reservation rolls back, all or nothing;
- the reservation row (keyed by the order id) is written before the stock, so two calls
  for the same order queue on it and the second sees the first's result; lines are
  applied in package-id order, so concurrent reservations lock packages in one order and
  cannot deadlock each other;
- commit and release are conditional state changes (``WHERE state = 'RESERVED'``), so a
  reservation is released, and its units returned, exactly once;
- a reservation nobody commits or releases (its order never came to be, or the order
  service lost track of it) is released by its own expiry: the caller gives its
  ``expire_time`` (the order's expiry plus a margin), the service a default and a maximum.
  The expiry sweep is the same conditional release, so it returns the units once however
  many instances sweep, and never after a commit;
- and the schema refuses a negative stock (a CHECK constraint) should any of this break.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import peewee

from pasar_kit.database import atomic_write, is_mysql
from pasar_kit.prepared import PreparedQuery, PreparedWrite, insert_of
from pasar_kit.sweeps import batch_sweep_task
from pasar_kit.timestamps import utc_now
from pasar_product import reasons
from pasar_product.catalog_version import CatalogWrite, catalog_write
from pasar_product.models import (
    Package,
    Product,
    ProductState,
    Reservation,
    ReservationLine,
    ReservationState,
    database_proxy,
)

log = logging.getLogger(__name__)

EXPIRY_BATCH = 100
DEFAULT_TTL = timedelta(hours=2)
MAX_TTL = timedelta(hours=72)


@dataclass(frozen=True)
class StockLine:
    """A package and how many of its units."""

    package_id: str
    quantity: int


@dataclass(frozen=True)
class HeldStock:
    """An order's reservation as callers see it."""

    order_id: str
    state: ReservationState
    lines: tuple[StockLine, ...]
    create_time: datetime
    update_time: datetime
    expire_time: datetime | None = None

    def holds(self, lines: Sequence[StockLine]) -> bool:
        """Whether lines ask for exactly what this reservation holds (in any order)."""
        return sorted(self.lines, key=_package_id) == sorted(lines, key=_package_id)


def _package_id(line: StockLine) -> str:
    return line.package_id


# A checkout's statements, their SQL built once (pasar_kit.prepared): building it cost more
# than running it, about 0.7 ms of svc-product's CPU per purchase.
_RESERVATION = PreparedQuery(
    database_proxy, lambda order_id: Reservation.select().where(Reservation.order_id == order_id).limit(1)
)
_LINES = PreparedQuery(
    database_proxy,
    lambda order_id: (
        ReservationLine.select(ReservationLine.package, ReservationLine.quantity)
        .where(ReservationLine.reservation == order_id)
        .order_by(ReservationLine.position)
    ),
)
_ORDERABLE = PreparedQuery(
    database_proxy,
    lambda package_ids: (
        Package.select(Package.id)
        .join(Product)
        .where(Package.id.in_(list(package_ids)) & (Product.state == ProductState.ACTIVE))
    ),
)
_INSERT_RESERVATION = insert_of(
    database_proxy, Reservation, ("order_id", "state", "create_time", "update_time", "expire_time")
)
_INSERT_LINES = insert_of(database_proxy, ReservationLine, ("reservation", "position", "package", "quantity"))
_TAKE = PreparedWrite(
    database_proxy,
    lambda package_id, quantity: Package.update(stock_available=Package.stock_available - quantity).where(
        (Package.id == package_id) & (Package.stock_available >= quantity)
    ),
)
_COMMIT = PreparedWrite(
    database_proxy,
    lambda order_id, update_time: Reservation.update(
        state=ReservationState.COMMITTED, update_time=update_time
    ).where((Reservation.order_id == order_id) & (Reservation.state == ReservationState.RESERVED)),
)


class Stock:
    """The stock operations of the order service's checkout, on the service's database."""

    def __init__(
        self, database: peewee.Database, default_ttl: timedelta = DEFAULT_TTL, max_ttl: timedelta = MAX_TTL
    ) -> None:
        """default_ttl: how long a reservation lasts when its caller gives no expiry;
        max_ttl: the longest it lasts whatever the caller asks."""
        self.database = database
        self.default_ttl = default_ttl
        self.max_ttl = max_ttl

    def reserve(
        self, order_id: str, lines: Sequence[StockLine], expire_time: datetime | None = None
    ) -> HeldStock:
        """Holds every line for order_id, or nothing; a retry returns the existing reservation.

        The units go back to stock at expire_time (default_ttl from now when None, never
        later than max_ttl from now) unless the reservation is committed or released first.
        """
        try:
            with catalog_write(self.database) as write:  # the packages' stock moves
                return self._reserve(write, order_id, lines, expire_time)
        except peewee.IntegrityError:
            # A concurrent call for the same order inserted its reservation first, and ours
            # rolled back whole. The order's reservation now exists: answer as a retry would.
            with atomic_write(self.database):
                existing = self._find(order_id)
                if existing is None:
                    raise
                return self._as_retry(existing, lines)

    def _reserve(
        self, write: CatalogWrite, order_id: str, lines: Sequence[StockLine], expire_time: datetime | None
    ) -> HeldStock:
        existing = self._find(order_id)
        if existing is not None:
            write.changed_nothing()
            return self._as_retry(existing, lines)
        self._require_orderable([line.package_id for line in lines])
        write.changed_stock_of(line.package_id for line in lines)
        now = utc_now()
        expires = min(expire_time or now + self.default_ttl, now + self.max_ttl)
        _INSERT_RESERVATION.execute(
            {
                "order_id": order_id,
                "state": ReservationState.RESERVED,
                "create_time": now,
                "update_time": now,
                "expire_time": expires,
            }
        )
        for line in sorted(lines, key=_package_id):
            if _TAKE.execute(line.package_id, line.quantity) != 1:
                raise reasons.out_of_stock(line.package_id, line.quantity, self._available(line.package_id))
        _INSERT_LINES.execute(
            *(
                {
                    "reservation": order_id,
                    "position": position,
                    "package": line.package_id,
                    "quantity": line.quantity,
                }
                for position, line in enumerate(lines)
            )
        )
        return HeldStock(order_id, ReservationState.RESERVED, tuple(lines), now, now, expires)

    @staticmethod
    def _as_retry(existing: HeldStock, lines: Sequence[StockLine]) -> HeldStock:
        if not existing.holds(lines):
            raise reasons.reservation_conflict(existing.order_id)
        return existing

    @staticmethod
    def _require_orderable(package_ids: Sequence[str]) -> None:
        """Every package exists and belongs to an active product, or PACKAGE_NOT_FOUND."""
        orderable = {row[0] for row in _ORDERABLE.rows(tuple(package_ids))}
        for package_id in package_ids:
            if package_id not in orderable:
                raise reasons.package_not_found(package_id)

    def _available(self, package_id: str) -> int:
        """The units available now, for the OUT_OF_STOCK details.

        On MariaDB a plain read would show the transaction's snapshot; a locking read shows
        the committed value that made the update fail (the row is locked by it anyway).
        """
        query = Package.select(Package.stock_available).where(Package.id == package_id)
        if is_mysql(self.database):
            query = query.for_update()
        available: int = query.scalar()
        return available

    def commit(self, order_id: str) -> HeldStock:
        """Marks the order's units as sold; committing twice is harmless, after a release refused.

        A plain atomic_write: the units left the stock shown when they were held, so no
        catalog answer changes (and checkout does not queue on the catalog's version)."""
        with atomic_write(self.database):
            changed = _COMMIT.execute(order_id, utc_now())
            held = self._find(order_id)
            if held is None:
                raise reasons.reservation_not_found(order_id)
            if not changed and held.state == ReservationState.RELEASED:
                raise reasons.reservation_released(order_id)
            return held

    def release(self, order_id: str) -> HeldStock:
        """Returns the order's units to stock, once; releasing twice is harmless, after a commit refused."""
        with catalog_write(self.database) as write:
            changed = (
                Reservation.update(state=ReservationState.RELEASED, update_time=utc_now())
                .where((Reservation.order_id == order_id) & (Reservation.state == ReservationState.RESERVED))
                .execute()
            )
            held = self._find(order_id)
            if held is None:
                raise reasons.reservation_not_found(order_id)
            if not changed:
                write.changed_nothing()
                if held.state == ReservationState.COMMITTED:
                    raise reasons.reservation_committed(order_id)
                return held
            self._return_units(write, held)
            return held

    def release_expired(self, now: datetime | None = None, limit: int = EXPIRY_BATCH) -> int:
        """Releases up to limit reservations past their expire_time; returns how many this call released.

        Each is the conditional update of release, with the expiry in its condition: of
        several instances sweeping at once, or a commit racing the sweep, one wins and the
        units return at most once.
        """
        due_at = now or utc_now()
        due = [
            reservation.order_id
            for reservation in Reservation.select(Reservation.order_id)
            .where((Reservation.state == ReservationState.RESERVED) & (Reservation.expire_time <= due_at))
            .order_by(Reservation.expire_time)
            .limit(limit)
        ]
        released = 0
        for order_id in due:
            with catalog_write(self.database) as write:  # the units return to the stock shown
                changed = (
                    Reservation.update(state=ReservationState.RELEASED, update_time=utc_now())
                    .where(
                        (Reservation.order_id == order_id)
                        & (Reservation.state == ReservationState.RESERVED)
                        & (Reservation.expire_time <= due_at)
                    )
                    .execute()
                )
                held = self._find(order_id) if changed else None
                if held is not None:
                    self._return_units(write, held)
                else:
                    write.changed_nothing()
            if held is not None:
                released += 1
                log.info("reservation expired and released", extra={"order_id": order_id})
        return released

    @staticmethod
    def _return_units(write: CatalogWrite, held: HeldStock) -> None:
        """Puts held's units back; call it in the catalog_write that released it."""
        write.changed_stock_of(line.package_id for line in held.lines)
        for line in sorted(held.lines, key=_package_id):
            Package.update(stock_available=Package.stock_available + line.quantity).where(
                Package.id == line.package_id
            ).execute()

    @staticmethod
    def _find(order_id: str) -> HeldStock | None:
        reservation = _RESERVATION.first(Reservation, order_id)
        if reservation is None:
            return None
        return HeldStock(
            order_id=reservation.order_id,
            state=ReservationState(reservation.state),
            lines=tuple(StockLine(package_id, quantity) for package_id, quantity in _LINES.rows(order_id)),
            create_time=reservation.create_time,
            update_time=reservation.update_time,
            expire_time=reservation.expire_time,
        )


def expiry_task(stock: Stock, interval_seconds: float) -> Callable[[threading.Event], None]:
    """A GrpcServer background task releasing expired reservations every interval until it stops."""

    def release_a_batch() -> int:
        with stock.database.connection_context():
            return stock.release_expired()

    return batch_sweep_task("reservation expiry", interval_seconds, release_a_batch, EXPIRY_BATCH)
