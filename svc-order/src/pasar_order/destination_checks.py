"""Each line's product checked to be deliverable, and its destination checked against the
product's destination fields, at checkout.

The catalog's packages carry their product's destination fields (BatchGetPackages), so
the check needs no other call and comes before anything is reserved: a phone number
with another operator's prefix is refused before stock is held or a payment opened. The
rules are the kit's (:mod:`pasar_kit.destinations`), the same the fulfillment service
and the storefront apply. A product that declares no delivery kind cannot be delivered
at all (the fulfillment service refuses its lines), so it is not sold: refused here
rather than paid for and refunded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from pasar.product.v1 import product_pb2
from pasar_kit.destinations import destination_violations
from pasar_order import reasons


def check_destinations(
    requested: Sequence[tuple[str, int]],
    destinations: Mapping[str, Mapping[str, str]],
    packages: Sequence[product_pb2.Package],
) -> None:
    """Refuses the first line (in request order) whose product declares no delivery kind or
    whose destination breaks its product's fields, naming its first broken rule; packages
    the catalog does not know are left to pricing, which refuses them."""
    by_id = {package.id: package for package in packages}
    for index, (package_id, _) in enumerate(requested):
        package = by_id.get(package_id)
        if package is None:
            continue
        if package.delivery_kind == product_pb2.DELIVERY_KIND_UNSPECIFIED:
            raise reasons.package_not_deliverable(package.id, package.product_id)
        violations = destination_violations(package.destination_fields, destinations.get(package_id, {}))
        if violations:
            raise reasons.invalid_destination(index, package.product_id, violations[0])
