"""An order's lines priced from the catalog: never from the client, always in whole rupiah.

The catalog's answer is snapshotted into the order (names and unit prices as they were at
checkout), so that later changes to the catalog never change an order already placed.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from pasar.product.v1 import product_pb2
from pasar_order import reasons


@dataclass(frozen=True)
class PricedLine:
    package_id: str
    package_display_name: str
    product_id: str
    product_display_name: str
    unit_price: int
    quantity: int
    # The package's pasar.product.v1.DeliveryKind, and where to deliver (checked before).
    delivery_kind: int = 0
    # The catalog's English names (empty: none).
    package_display_name_en: str = ""
    product_display_name_en: str = ""
    destination: Mapping[str, str] = field(default_factory=dict)

    @property
    def line_total(self) -> int:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class PricedOrder:
    lines: tuple[PricedLine, ...]
    currency_code: str

    @property
    def subtotal(self) -> int:
        return sum(line.line_total for line in self.lines)


def price_lines(
    requested: Sequence[tuple[str, int]],
    packages: Sequence[product_pb2.Package],
    destinations: Mapping[str, Mapping[str, str]],
) -> PricedOrder:
    """Prices each requested (package id, quantity) with the catalog's packages; each line
    keeps its destination (by package id) and its package's delivery kind.

    Refuses what the catalog cannot sell now: an unknown package (NOT_FOUND) or one
    without enough stock (FAILED_PRECONDITION OUT_OF_STOCK, as ReserveStock would answer),
    so that a hopeless checkout reserves nothing."""
    by_id = {package.id: package for package in packages}
    lines: list[PricedLine] = []
    currencies: set[str] = set()
    for package_id, quantity in requested:
        package = by_id.get(package_id)
        if package is None:
            raise reasons.package_not_found(package_id)
        if package.stock_available < quantity:
            raise reasons.out_of_stock(package_id, quantity, package.stock_available)
        currencies.add(package.price.currency_code)
        lines.append(
            PricedLine(
                package_id=package.id,
                package_display_name=package.display_name,
                product_id=package.product_id,
                product_display_name=package.product_display_name,
                unit_price=package.price.amount,
                quantity=quantity,
                delivery_kind=package.delivery_kind,
                package_display_name_en=package.display_name_en,
                product_display_name_en=package.product_display_name_en,
                destination=dict(destinations.get(package_id, {})),
            )
        )
    if len(currencies) != 1:
        raise reasons.mixed_currencies()
    return PricedOrder(tuple(lines), currencies.pop())
