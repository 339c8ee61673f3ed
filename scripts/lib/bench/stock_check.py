"""After the checkout load: is every unit accounted for? Read from the databases themselves.

The product database must satisfy, for every package, ``initial stock - available =
units held`` (reservations RESERVED or COMMITTED), never below zero; the order database
must hold, for every package, as many units in live orders (PENDING_PAYMENT or PAID, and
FULFILLED or REFUNDED, whose units stay sold) as the catalog holds for them. Oversold
units are units held beyond a package's initial stock: the figure the issue wants at zero.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass
from typing import Any

import peewee

from pasar_kit import database as db


def rows(url: str, sql: str) -> list[tuple[Any, ...]]:
    database: peewee.Database = db.connect(url, max_connections=1)
    try:
        with database.connection_context():
            return [tuple(row) for row in database.execute_sql(sql).fetchall()]
    finally:
        db.close_pool(database)


def package_stock(product_url: str) -> dict[str, int]:
    return {str(row[0]): int(row[1]) for row in rows(product_url, "SELECT id, stock_available FROM package")}


@dataclass(frozen=True)
class StockReport:
    packages: int
    orders_live: int
    units_held: int
    units_in_orders: int
    oversold_units: int
    negative_stock_packages: int
    stock_mismatches: int
    order_mismatches: int

    def as_json(self) -> dict[str, int]:
        return asdict(self)


def check_stock(initial: Mapping[str, int], product_url: str, order_url: str) -> StockReport:
    """Compares the stock now with `initial` and with what the orders and reservations hold."""
    now = package_stock(product_url)
    held = {
        str(package): int(units)
        for package, units in rows(
            product_url,
            "SELECT l.package_id, SUM(l.quantity) FROM reservation_line l "
            "JOIN reservation r ON r.order_id = l.order_id "
            "WHERE r.state IN ('RESERVED', 'COMMITTED') GROUP BY l.package_id",
        )
    }
    in_orders = {
        str(package): int(units)
        for package, units in rows(
            order_url,
            "SELECT l.package_id, SUM(l.quantity) FROM order_lines l JOIN orders o ON o.id = l.order_id "
            "WHERE o.state IN ('PENDING_PAYMENT', 'PAID', 'FULFILLED', 'REFUNDED') GROUP BY l.package_id",
        )
    }
    live_orders = rows(
        order_url,
        "SELECT COUNT(*) FROM orders WHERE state IN ('PENDING_PAYMENT', 'PAID', 'FULFILLED', 'REFUNDED')",
    )
    packages = set(initial) | set(now)
    return StockReport(
        packages=len(packages),
        orders_live=int(live_orders[0][0]),
        units_held=sum(held.values()),
        units_in_orders=sum(in_orders.values()),
        oversold_units=sum(max(0, held.get(p, 0) - initial.get(p, 0)) for p in packages),
        negative_stock_packages=sum(1 for value in now.values() if value < 0),
        stock_mismatches=sum(1 for p in packages if initial.get(p, 0) - now.get(p, 0) != held.get(p, 0)),
        order_mismatches=sum(1 for p in set(held) | set(in_orders) if held.get(p, 0) != in_orders.get(p, 0)),
    )
