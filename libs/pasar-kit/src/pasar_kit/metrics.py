"""A service's Prometheus metrics: RED per RPC, its database pool, and its own figures.

:class:`ServiceMetrics` holds one registry of its own (nothing global, so two servers in one
test process do not mix). GrpcServer makes it when ``PASAR_METRICS_ADDRESS`` is not ``off``
and serves it on that listener (:mod:`pasar_kit.metrics_listener`) at ``/metrics``:

- RED, named as go-grpc-middleware's Prometheus provider names them, so one dashboard serves
  the Go service too: ``grpc_server_started_total``, ``grpc_server_handled_total`` (with
  ``grpc_code`` spelled as Go spells it: ``OK``, ``NotFound``, ``Canceled``, ...) and the
  histogram ``grpc_server_handling_seconds`` (Go's default buckets), each by ``grpc_type``,
  ``grpc_service`` and ``grpc_method``. Every call counts: aborted ones, streams (when they
  end), health checks;
- ``pasar_db_connections{state="in_use"|"idle"}`` and ``pasar_db_connections_max``;
- a service's own figures, from a Collector that runs at scrape time (``collectors=`` of
  GrpcServer, which calls :meth:`ServiceMetrics.register`); figures read from the database
  subclass :class:`DatabaseFigures`, e.g.::

      class OutboxFigures(DatabaseFigures):
          def read(self) -> Iterator[Metric]:
              rows = GaugeMetricFamily("pasar_outbox_rows", "Rows waiting.", labels=["outbox"])
              rows.add_metric(["mail-outbox"], MailOutbox.select().count())
              yield rows

  A collector that raises (the database does not answer) adds nothing to that scrape and is
  logged at debug level: a scrape never fails because of it, and the other figures stay.

Imports prometheus-client: import this module only when metrics are on.
"""

from __future__ import annotations

import abc
import bisect
import logging
import math
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import peewee
from prometheus_client import CollectorRegistry, Counter, Gauge
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector
from prometheus_client.utils import floatToGoString

from pasar_kit.database import CountedPool, close_pool
from pasar_kit.wrapped_handlers import WrappedHandlers

log = logging.getLogger(__name__)

# grpc-go's codes.Code.String(), which go-grpc-middleware puts in grpc_code.
GO_CODE_NAMES = {
    grpc.StatusCode.OK: "OK",
    grpc.StatusCode.CANCELLED: "Canceled",
    grpc.StatusCode.UNKNOWN: "Unknown",
    grpc.StatusCode.INVALID_ARGUMENT: "InvalidArgument",
    grpc.StatusCode.DEADLINE_EXCEEDED: "DeadlineExceeded",
    grpc.StatusCode.NOT_FOUND: "NotFound",
    grpc.StatusCode.ALREADY_EXISTS: "AlreadyExists",
    grpc.StatusCode.PERMISSION_DENIED: "PermissionDenied",
    grpc.StatusCode.RESOURCE_EXHAUSTED: "ResourceExhausted",
    grpc.StatusCode.FAILED_PRECONDITION: "FailedPrecondition",
    grpc.StatusCode.ABORTED: "Aborted",
    grpc.StatusCode.OUT_OF_RANGE: "OutOfRange",
    grpc.StatusCode.UNIMPLEMENTED: "Unimplemented",
    grpc.StatusCode.INTERNAL: "Internal",
    grpc.StatusCode.UNAVAILABLE: "Unavailable",
    grpc.StatusCode.DATA_LOSS: "DataLoss",
    grpc.StatusCode.UNAUTHENTICATED: "Unauthenticated",
}
# How long a scrape waits for another scrape's database read before it goes without those
# figures (Prometheus's own scrape timeout is 10 s by default).
SCRAPE_WAIT_SECONDS = 5.0
# How often a forked worker adds its figures to the shared folder (a scrape sees them this late).
PUBLISH_SECONDS = 1.0
# Prometheus's Go client's DefBuckets, which go-grpc-middleware's histogram uses by default.
HANDLING_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)
# Their le labels, and +Inf's.
BUCKET_NAMES = tuple(floatToGoString(bound) for bound in (*HANDLING_BUCKETS, math.inf))  # type: ignore[no-untyped-call]


class ServiceMetrics:
    """One service's registry: RED of its server, its pool (if given), its own collectors.

    for_supervisor (a forked worker's, pasar_kit.processes): RED and the pool's figures go to
    prometheus-client's multiprocess folder (_SharedFigures), for the supervisor to serve
    every worker's added up (WorkerFigures); nothing is served from here, and the service's
    own collectors are the supervisor's (collected once, not once per worker)."""

    def __init__(self, database: peewee.Database | None = None, *, for_supervisor: bool = False) -> None:
        self.registry = CollectorRegistry()
        pool: object = database  # peewee is untyped: mypy would find no overlap with CountedPool
        counted = pool if isinstance(pool, CountedPool) else None
        self.shared = _SharedFigures(counted) if for_supervisor else None
        self._red = self.shared.red if self.shared else _RedMetrics()
        if self.shared is None:
            self.registry.register(self._red)
            if counted is not None:
                self.registry.register(DatabasePoolCollector(counted))

    def server_interceptor(self) -> grpc.ServerInterceptor:
        """The RED interceptor; GrpcServer puts it right after the tracing one."""
        return RedInterceptor(self._red)

    def register(self, collector: Collector) -> None:
        """Adds a scrape-time collector of the service's own figures (see the module docstring);
        a worker's are collected by its supervisor instead."""
        if self.shared is None:
            self.registry.register(guarded(collector))

    def background(self) -> list[Callable[[threading.Event], None]]:
        """What runs beside the server: a worker's figures published to the shared folder."""
        return [self.shared.publish_until] if self.shared else []

    def stopped(self) -> None:
        """The server has stopped: a worker publishes the figures of its last calls."""
        if self.shared is not None:
            self.shared.publish()


def guarded(collector: Collector) -> Collector:
    """collector, whose failure costs its own figures of one scrape and nothing else."""
    return _Guarded(collector)


class _Guarded(Collector):
    """collector, whose failure costs its own figures of one scrape and nothing else."""

    def __init__(self, collector: Collector) -> None:
        self.collector = collector

    def collect(self) -> Iterable[Any]:
        try:
            return list(self.collector.collect())
        except Exception:  # any failure: the figures are missing from this scrape alone
            log.debug("a metrics collector failed", exc_info=True)
            return []

    def describe(self) -> Iterable[Any]:
        return []  # the figures are known at scrape time only; the registry checks no names


class DatabaseFigures(Collector, abc.ABC):
    """A service's figures read from its database at scrape time: one scrape reads at a time,
    on one pooled connection. The listener serves each scrape on a thread of its own, so
    without the turn, scrapes overlapping a slow database would each take a connection, where
    a service counts one for its scrape beside its workers. A scrape that does not get the turn
    within SCRAPE_WAIT_SECONDS goes without these figures (register's guard logs it)."""

    def __init__(self, database: peewee.Database) -> None:
        self.database = database
        self._turn = threading.Lock()

    def collect(self) -> Iterator[Metric]:
        if not self._turn.acquire(timeout=SCRAPE_WAIT_SECONDS):
            raise TimeoutError(f"{type(self).__name__}: another scrape is still reading the database")
        try:
            with self.database.connection_context():
                figures = list(self.read())
        finally:
            self._turn.release()
        yield from figures

    @abc.abstractmethod
    def read(self) -> Iterable[Metric]:
        """The figures, read on the connection collect holds."""

    def describe(self) -> Iterator[Metric]:
        return iter(())


class ScrapeConnection(Collector):
    """collectors (DatabaseFigures on database) read on a connection opened for one scrape and
    closed after it, holding turn all along: a supervisor, which forks its workers under the
    same turn, never forks while a connection is open (a forked copy would share its socket)."""

    def __init__(
        self, collectors: Iterable[Collector], database: peewee.Database, turn: threading.Lock
    ) -> None:
        self.collectors = [guarded(collector) for collector in collectors]
        self.database = database
        self.turn = turn

    def collect(self) -> Iterator[Any]:
        with self.turn:
            try:
                figures = [metric for collector in self.collectors for metric in collector.collect()]
            finally:
                close_pool(self.database)
        yield from figures

    def describe(self) -> Iterator[Any]:
        return iter(())


class DatabasePoolCollector(Collector):
    """``pasar_db_connections{state}`` and ``pasar_db_connections_max``, read at scrape time."""

    def __init__(self, database: CountedPool) -> None:
        self.database = database

    def collect(self) -> Iterator[Any]:
        figures = self.database.pool_figures()
        connections = GaugeMetricFamily(
            "pasar_db_connections",
            "Connections of the database pool: in_use (held by a call or task) or idle (open, waiting).",
            labels=["state"],
        )
        connections.add_metric(["in_use"], figures.in_use)
        connections.add_metric(["idle"], figures.idle)
        yield connections
        yield GaugeMetricFamily(
            "pasar_db_connections_max", "The most connections the pool opens.", value=figures.maximum
        )

    def describe(self) -> Iterator[Any]:
        return iter(())


class _RedMetrics(Collector):
    """The three RED families, kept as plain numbers per method and turned into samples at
    scrape time: a call costs two lock acquisitions (prometheus-client's own Counter and
    Histogram took four, at about 3 us each on the machine the figures were measured on)."""

    def __init__(self) -> None:
        self._methods: dict[tuple[str, str], _MethodFigures] = {}
        self._lock = threading.Lock()

    def of(self, grpc_type: str, full_method: str) -> _MethodFigures:
        key = (grpc_type, full_method)
        figures = self._methods.get(key)
        if figures is None:
            service, _, method = full_method.lstrip("/").partition("/")
            with self._lock:
                figures = self._methods.setdefault(key, _MethodFigures((grpc_type, service, method)))
        return figures

    def collect(self) -> Iterator[Any]:
        with self._lock:
            methods = list(self._methods.values())
        return red_families((figures.labels, figures.snapshot()) for figures in methods)

    def snapshots(self) -> list[tuple[list[str], _Snapshot]]:
        with self._lock:
            methods = list(self._methods.values())
        return [(figures.labels, figures.snapshot()) for figures in methods]

    def describe(self) -> Iterator[Any]:
        return iter(())


def red_families(methods: Iterable[tuple[list[str], _Snapshot]]) -> Iterator[Metric]:
    """The three RED families of each method's (labels, figures)."""
    labels = ["grpc_type", "grpc_service", "grpc_method"]
    started = CounterMetricFamily(
        "grpc_server_started", "Total number of RPCs started on the server.", labels=labels
    )
    handled = CounterMetricFamily(
        "grpc_server_handled",
        "Total number of RPCs completed on the server, regardless of success or failure.",
        labels=[*labels, "grpc_code"],
    )
    handling = HistogramMetricFamily(
        "grpc_server_handling_seconds",
        "Histogram of response latency (seconds) of gRPC that had been application-level handled"
        " by the server.",
        labels=labels,
    )
    for method_labels, snapshot in methods:
        started.add_metric(method_labels, snapshot.started)
        for code, count in sorted(snapshot.handled.items()):
            handled.add_metric([*method_labels, code], count)
        cumulative, buckets = 0, []
        for bound, count in zip(BUCKET_NAMES, snapshot.buckets, strict=True):
            cumulative += count
            buckets.append((bound, cumulative))
        handling.add_metric(method_labels, buckets, snapshot.seconds)
    yield started
    yield handled
    yield handling


# A forked worker's figures in prometheus-client's multiprocess folder: plain counters under
# names of their own, which WorkerFigures (in the supervisor) turns back into the RED families.
_SHARED_STARTED = "pasar_worker_rpcs_started"
_SHARED_HANDLED = "pasar_worker_rpcs_handled"
_SHARED_BUCKET = "pasar_worker_rpc_seconds_bucket_calls"  # per bucket, not cumulative
_SHARED_SECONDS = "pasar_worker_rpc_seconds"
_METHOD_LABELS = ["grpc_type", "grpc_service", "grpc_method"]


class _SharedFigures:
    """A worker's RED figures, counted in process as one process counts them (two lock turns a
    call: prometheus-client's multiprocess Counter and Histogram cost about 15 us more a call,
    measured), and added to the multiprocess folder every PUBLISH_SECONDS and once more at stop;
    its pool's figures copied there as gauges of the workers alive."""

    def __init__(self, pool: CountedPool | None) -> None:
        self.red = _RedMetrics()
        self.pool = pool
        self._started = Counter(_SHARED_STARTED, "RED, a worker's", _METHOD_LABELS, registry=None)
        self._handled = Counter(
            _SHARED_HANDLED, "RED, a worker's", [*_METHOD_LABELS, "grpc_code"], registry=None
        )
        self._bucket = Counter(_SHARED_BUCKET, "RED, a worker's", [*_METHOD_LABELS, "le"], registry=None)
        self._seconds = Counter(_SHARED_SECONDS, "RED, a worker's", _METHOD_LABELS, registry=None)
        self._connections = Gauge(
            "pasar_db_connections",
            "Connections of the database pool: in_use (held by a call or task) or idle (open, waiting).",
            ["state"],
            registry=None,
            multiprocess_mode="livesum",
        )
        self._maximum = Gauge(
            "pasar_db_connections_max",
            "The most connections the pool opens.",
            registry=None,
            multiprocess_mode="livesum",
        )
        self._published: dict[tuple[str, ...], _Snapshot] = {}
        self._publishing = threading.Lock()

    def publish_until(self, stopping: threading.Event) -> None:
        while not stopping.wait(PUBLISH_SECONDS):
            self.publish()

    def publish(self) -> None:
        """Adds what was counted since the last time (and the pool's figures now)."""
        with self._publishing:
            for labels, now in self.red.snapshots():
                before = self._published.get(tuple(labels), _NOTHING)
                if now.started > before.started:
                    self._started.labels(*labels).inc(now.started - before.started)
                for code, count in now.handled.items():
                    if count > before.handled.get(code, 0):
                        self._handled.labels(*labels, code).inc(count - before.handled.get(code, 0))
                for bound, count, earlier in zip(BUCKET_NAMES, now.buckets, before.buckets, strict=True):
                    if count > earlier:
                        self._bucket.labels(*labels, bound).inc(count - earlier)
                if now.seconds > before.seconds:
                    self._seconds.labels(*labels).inc(now.seconds - before.seconds)
                self._published[tuple(labels)] = now
            if self.pool is not None:
                figures = self.pool.pool_figures()
                self._connections.labels("in_use").set(figures.in_use)
                self._connections.labels("idle").set(figures.idle)
                self._maximum.set(figures.maximum)


class WorkerFigures(Collector):
    """In the supervisor: every worker's figures in the multiprocess folder, added up, with RED
    under the names and in the form one process gives it (dashboards and alerts use them)."""

    def __init__(self) -> None:
        from prometheus_client.multiprocess import MultiProcessCollector  # noqa: PLC0415 - after the folder is set

        self._folder = MultiProcessCollector(None)  # type: ignore[no-untyped-call]

    def collect(self) -> Iterator[Metric]:
        methods: dict[tuple[str, ...], _Snapshot] = {}

        def of(labels: dict[str, str]) -> _Snapshot:
            key = tuple(labels[name] for name in _METHOD_LABELS)
            return methods.setdefault(key, _Snapshot(0, {}, [0] * len(BUCKET_NAMES), 0.0))

        for family in self._folder.collect():  # type: ignore[no-untyped-call]
            if family.name not in (_SHARED_STARTED, _SHARED_HANDLED, _SHARED_BUCKET, _SHARED_SECONDS):
                yield family
                continue
            for sample in family.samples:
                if not sample.name.endswith("_total"):
                    continue
                figures = of(sample.labels)
                if family.name == _SHARED_STARTED:
                    figures.started += int(sample.value)
                elif family.name == _SHARED_HANDLED:
                    code = sample.labels["grpc_code"]
                    figures.handled[code] = figures.handled.get(code, 0) + int(sample.value)
                elif family.name == _SHARED_BUCKET:
                    figures.buckets[BUCKET_NAMES.index(sample.labels["le"])] += int(sample.value)
                else:
                    figures.seconds += sample.value
        yield from red_families((list(key), figures) for key, figures in sorted(methods.items()))

    def describe(self) -> Iterator[Metric]:
        return iter(())


@dataclass
class _Snapshot:
    started: int
    handled: dict[str, int]
    buckets: list[int]  # per bucket of HANDLING_BUCKETS and +Inf, not cumulative
    seconds: float


_NOTHING = _Snapshot(0, {}, [0] * (len(HANDLING_BUCKETS) + 1), 0.0)


class _MethodFigures:
    """One method's figures."""

    def __init__(self, labels: tuple[str, str, str]) -> None:
        self.labels = list(labels)
        self._lock = threading.Lock()
        self._started = 0
        self._handled: dict[str, int] = {}
        self._buckets = [0] * (len(HANDLING_BUCKETS) + 1)
        self._seconds = 0.0

    def start(self) -> None:
        with self._lock:
            self._started += 1

    def finished(self, code: grpc.StatusCode, seconds: float) -> None:
        name = GO_CODE_NAMES.get(code, "Unknown")
        bucket = bisect.bisect_left(HANDLING_BUCKETS, seconds)  # the first bound >= seconds
        with self._lock:
            self._handled[name] = self._handled.get(name, 0) + 1
            self._buckets[bucket] += 1
            self._seconds += seconds

    def snapshot(self) -> _Snapshot:
        with self._lock:
            return _Snapshot(self._started, dict(self._handled), list(self._buckets), self._seconds)


class RedInterceptor(grpc.ServerInterceptor):
    """Counts and times every call the server handles (go-grpc-middleware's server metrics)."""

    def __init__(self, red: _RedMetrics) -> None:
        self._red = red
        self._wrapped = WrappedHandlers(self._wrap)

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], grpc.RpcMethodHandler[Any, Any] | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        handler = continuation(handler_call_details)
        if handler is None:
            return None
        return self._wrapped.of(handler_call_details.method, handler)

    def _wrap(self, method: str, handler: grpc.RpcMethodHandler[Any, Any]) -> grpc.RpcMethodHandler[Any, Any]:
        serializers = {
            "request_deserializer": handler.request_deserializer,
            "response_serializer": handler.response_serializer,
        }
        if handler.unary_unary is not None:
            figures = self._red.of("unary", method)
            return grpc.unary_unary_rpc_method_handler(_counted(handler.unary_unary, figures), **serializers)
        if handler.unary_stream is not None:
            figures = self._red.of("server_stream", method)
            return grpc.unary_stream_rpc_method_handler(
                _streamed(handler.unary_stream, figures), **serializers
            )
        if handler.stream_unary is not None:
            figures = self._red.of("client_stream", method)
            return grpc.stream_unary_rpc_method_handler(
                _counted(handler.stream_unary, figures), **serializers
            )
        if handler.stream_stream is not None:
            figures = self._red.of("bidi_stream", method)
            return grpc.stream_stream_rpc_method_handler(
                _streamed(handler.stream_stream, figures), **serializers
            )
        return handler


def _counted(
    behaviour: Callable[[Any, grpc.ServicerContext], Any], figures: _MethodFigures
) -> Callable[..., Any]:
    def handle(request: Any, context: grpc.ServicerContext) -> Any:
        figures.start()
        started = time.perf_counter()
        failed = True
        try:
            response = behaviour(request, context)
            failed = False
            return response
        finally:
            figures.finished(_final_code(context, failed), time.perf_counter() - started)

    return handle


def _streamed(
    behaviour: Callable[[Any, grpc.ServicerContext], Iterator[Any]], figures: _MethodFigures
) -> Callable[..., Iterator[Any]]:
    def handle(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        figures.start()
        started = time.perf_counter()
        failed = True
        try:
            yield from behaviour(request, context)
            failed = False
        finally:  # also when the client went away (the generator is closed)
            figures.finished(_final_code(context, failed), time.perf_counter() - started)

    return handle


def _final_code(context: grpc.ServicerContext, failed: bool) -> grpc.StatusCode:
    """The code the call ends with: the one it was aborted with or set, else UNKNOWN for an
    exception (as grpc answers), CANCELLED or DEADLINE_EXCEEDED for a call whose client is gone."""
    code: grpc.StatusCode | None = context.code()  # type: ignore[attr-defined]
    if code is not None:
        return code
    if context.is_active():
        return grpc.StatusCode.UNKNOWN if failed else grpc.StatusCode.OK
    remaining = context.time_remaining()
    if remaining is not None and remaining <= 0:
        return grpc.StatusCode.DEADLINE_EXCEEDED
    return grpc.StatusCode.CANCELLED
