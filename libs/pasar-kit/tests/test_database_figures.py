"""A service's database figures at scrape time: overlapping scrapes read one at a time on one
pooled connection (the one a service counts for its scrape), and a scrape that cannot have
its turn goes without those figures instead of failing or taking another connection."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import peewee
import pytest
from prometheus_client import generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric

from pasar_kit import database as db
from pasar_kit import metrics
from pasar_kit.metrics import DatabaseFigures, ServiceMetrics
from pasar_testkit.waiting import wait_for


class SlowFigures(DatabaseFigures):
    """One figure whose read waits until the test lets it go, noting the pool's use meanwhile."""

    def __init__(self, database: peewee.Database) -> None:
        super().__init__(database)
        self.reading = threading.Semaphore(0)
        self.go_on = threading.Event()
        self.in_use: list[int] = []

    def read(self) -> Iterator[Metric]:
        self.reading.release()
        self.go_on.wait(10)
        self.in_use.append(in_use(self.database))
        yield GaugeMetricFamily(
            "pasar_test_figure", "A figure.", value=self.database.execute_sql("SELECT 7").fetchone()[0]
        )


def in_use(database: peewee.Database) -> int:
    """The pool's connections held now."""
    pool: object = database
    assert isinstance(pool, db.CountedPool)
    return pool.pool_figures().in_use


@pytest.fixture
def database(tmp_path: Path) -> Iterator[peewee.Database]:
    database = db.connect(f"sqlite:///{tmp_path / 'figures.db'}", max_connections=4)
    try:
        yield database
    finally:
        db.close_pool(database)


def test_overlapping_scrapes_read_one_at_a_time_on_one_connection(database: peewee.Database) -> None:
    figures = SlowFigures(database)
    service_metrics = ServiceMetrics(database)
    service_metrics.register(figures)
    with ThreadPoolExecutor(3) as scrapes:
        pages = [scrapes.submit(generate_latest, service_metrics.registry) for _ in range(3)]
        assert figures.reading.acquire(timeout=10)
        assert not figures.reading.acquire(timeout=0.3), "a second scrape read while the first did"
        assert in_use(database) == 1, "a waiting scrape holds a connection"
        figures.go_on.set()
        texts = [page.result(timeout=10).decode() for page in pages]
    assert all("pasar_test_figure 7.0" in text for text in texts)
    assert figures.in_use == [1, 1, 1]


def test_a_scrape_that_does_not_get_its_turn_goes_without_the_figures(
    database: peewee.Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(metrics, "SCRAPE_WAIT_SECONDS", 0.2)
    figures = SlowFigures(database)
    service_metrics = ServiceMetrics(database)
    service_metrics.register(figures)
    with ThreadPoolExecutor(1) as first_scrape:
        first = first_scrape.submit(generate_latest, service_metrics.registry)
        assert figures.reading.acquire(timeout=10)
        second = generate_latest(service_metrics.registry).decode()
        assert "pasar_test_figure" not in second
        assert "pasar_db_connections_max 4.0" in second, "the other figures stay"
        figures.go_on.set()
        assert "pasar_test_figure 7.0" in first.result(timeout=10).decode()
    wait_for(lambda: in_use(database) == 0, 5, "the scrape's connection back in the pool")
