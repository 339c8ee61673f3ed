"""The reservations held and the units they hold, as a scrape of the service's metrics
listener shows them: up with each ReserveStock, down with a commit, a release or an expiry."""

from __future__ import annotations

from datetime import timedelta

from conftest import RunningService
from support import Admin

from pasar.product.v1 import product_pb2, product_service_pb2
from pasar_kit.timestamps import utc_now
from pasar_product.stock import Stock
from pasar_testkit.scrape import scrape


def figures(service: RunningService) -> tuple[float | None, float | None]:
    assert service.server.metrics_address is not None
    page = scrape(f"http://{service.server.metrics_address}/metrics")
    return page.value("pasar_reservations_held"), page.value("pasar_reserved_units")


def reserve(service: RunningService, order_id: str, *lines: tuple[str, int]) -> None:
    service.stub.ReserveStock(
        product_service_pb2.ReserveStockRequest(
            order_id=order_id,
            lines=[
                product_pb2.StockLine(package_id=package, quantity=quantity) for package, quantity in lines
            ],
        ),
        timeout=10,
    )


def test_the_figures_follow_reservations_until_they_end(service: RunningService, admin: Admin) -> None:
    admin.category("pulsa")
    a, b = admin.product_with_packages("pulsa-nusantara", "pulsa", stocks=(10, 10))
    assert figures(service) == (0, 0)
    reserve(service, "ord-figures-1", (a, 2), (b, 3))
    reserve(service, "ord-figures-2", (a, 1))
    reserve(service, "ord-figures-3", (b, 4))
    assert figures(service) == (3, 10)
    reserve(service, "ord-figures-1", (a, 2), (b, 3))  # a retry holds nothing more
    assert figures(service) == (3, 10)
    service.stub.CommitReservation(
        product_service_pb2.CommitReservationRequest(order_id="ord-figures-1"), timeout=10
    )
    assert figures(service) == (2, 5)
    service.stub.ReleaseReservation(
        product_service_pb2.ReleaseReservationRequest(order_id="ord-figures-2"), timeout=10
    )
    assert figures(service) == (1, 4)
    with service.database.connection_context():
        assert Stock(service.database).release_expired(utc_now() + timedelta(days=10)) == 1
    assert figures(service) == (0, 0)
