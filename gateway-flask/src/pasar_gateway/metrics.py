"""Prometheus metrics: requests, latency, backend errors, breaker states.

Each application has its own registry (tests make many applications in one process).
Under gunicorn with several workers, ``pasar-gateway`` points prometheus-client's
multiprocess mode at a private folder, and its master serves every worker's figures,
added up, on the metrics listener (``PASAR_METRICS_ADDRESS``), never on the public origin.
"""

from __future__ import annotations

import os

import grpc
from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from pasar_gateway.breaker import BreakerState

CACHE_RESULTS = ("hit", "miss", "not_modified")
LATENCY_BUCKETS = (0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class GatewayMetrics:
    """The gateway's metrics, registered in a registry of their own."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.requests = Counter(
            "pasar_gateway_http_requests",
            "HTTP requests answered, by route template, method and status.",
            ["route", "method", "status"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "pasar_gateway_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and method.",
            ["route", "method"],
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.backend_errors = Counter(
            "pasar_gateway_backend_errors",
            "Failed gRPC calls to a backend service, by service and status code.",
            ["service", "code"],
            registry=self.registry,
        )
        self.breaker_state = Gauge(
            "pasar_gateway_circuit_breaker_state",
            "Each backend's circuit breaker: 0 closed, 1 half-open, 2 open.",
            ["service"],
            registry=self.registry,
            multiprocess_mode="livemax",
        )
        self.cache = Counter(
            "pasar_gateway_catalog_cache",
            "Catalog reads, by how the cache answered them: hit, miss or not_modified (304).",
            ["result"],
            registry=self.registry,
        )
        self._request_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        # The cache's three results, looked up once (labels() at every read was about 4 µs).
        self._cache_results = {result: self.cache.labels(result) for result in CACHE_RESULTS}

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        # Each label set's children are looked up once (labels() checks and locks at every
        # call: about 18 -> 2 µs a request); as many entries as the metrics have children.
        children = self._request_children.get((route, method, status))
        if children is None:
            children = (self.requests.labels(route, method, str(status)), self.latency.labels(route, method))
            self._request_children[(route, method, status)] = children
        count, latency = children
        count.inc()
        latency.observe(seconds)

    def catalog_read(self, result: str) -> None:
        """Counts a catalog read by how the cache answered it: one of CACHE_RESULTS."""
        self._cache_results[result].inc()

    def backend_failed(self, service: str, code: grpc.StatusCode) -> None:
        self.backend_errors.labels(service, code.name).inc()

    def breaker_changed(self, service: str, state: BreakerState) -> None:
        self.breaker_state.labels(service).set(int(state))

    def exposition(self) -> bytes:
        """The text exposition format: this process's figures, or every worker's."""
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            registry = CollectorRegistry()
            MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
            return generate_latest(registry)
        return generate_latest(self.registry)
