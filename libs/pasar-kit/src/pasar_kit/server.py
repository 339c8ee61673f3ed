"""Builds and runs a service's gRPC server the same way for every service.

The server gets the call pipeline (:mod:`pasar_kit.pipeline`), the standard
``grpc.health.v1`` service (NOT_SERVING while the database does not answer: a background
probe checks it every few seconds), server reflection (so ``grpcurl`` works), optional TLS
or mutual TLS, and a SIGTERM handler that stops accepting calls and gives in-flight ones a
grace period before the process exits. When tracing is on, the OpenTelemetry interceptor
wraps everything (:mod:`pasar_kit.telemetry`); unless ``PASAR_METRICS_ADDRESS`` is ``off``,
the service's Prometheus metrics (:mod:`pasar_kit.metrics`) are served on a listener of
their own, named in the start-up log line as ``metrics_address``.

The server listens on its address alone: grpcio sets SO_REUSEPORT by default, which let a
second instance (with an empty database) take part of the first one's connections. Here a
taken address ends the start with :class:`~pasar_kit.listen.ListenError`; sibling processes
that share one port on purpose are switched on by ``ServerSettings.share_port_with_siblings``.
"""

from __future__ import annotations

import logging
import math
import os
import signal
import sys
import threading
from collections.abc import Callable, Sequence
from concurrent import futures
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import grpc
import peewee
from google.protobuf import descriptor
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from pasar_kit import database as db
from pasar_kit.callers import CallerGate, InternalCallers, internal_methods
from pasar_kit.config import ConfigError, Env
from pasar_kit.defects import defect_from_env, defect_interceptors
from pasar_kit.listen import ListenError, ensure_address_free, listen_address_from_env
from pasar_kit.metrics_listener import MetricsListener, metrics_address, serve_metrics
from pasar_kit.pipeline import CallPipeline
from pasar_kit.telemetry import server_interceptors

if TYPE_CHECKING:
    from prometheus_client.registry import Collector

    from pasar_kit.metrics import ServiceMetrics

log = logging.getLogger(__name__)

# Keep idle connections from load balancers and NATs alive, and notice dead peers.
SERVER_OPTIONS = [
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.keepalive_permit_without_calls", 1),
    ("grpc.http2.min_ping_interval_without_data_ms", 10_000),
    ("grpc.max_receive_message_length", 4 * 1024 * 1024),
]
# A port served by this server alone. grpcio's default, SO_REUSEPORT on, lets another server
# bind a port already served, and with many servers starting on port 0 at once (parallel
# test suites) the kernel can give two of them one port: clients then reach the wrong one
# (grpc/grpc#10755). Only a service's own worker processes share a port.
OWN_PORT_OPTION = ("grpc.so_reuseport", 0)
SHARED_PORT_OPTION = ("grpc.so_reuseport", 1)


@dataclass(frozen=True)
class ServerTls:
    """Server credentials from files; with client_ca set, clients must present a certificate it signed."""

    cert_file: Path
    key_file: Path
    client_ca_file: Path | None = None

    @classmethod
    def from_env(cls, env: Env) -> ServerTls | None:
        """TLS when PASAR_TLS_CERT and PASAR_TLS_KEY are set, mutual with PASAR_TLS_CLIENT_CA.

        Half a configuration (a certificate without its key, a client CA without either) is
        an error, never a silent fall back to plain text.
        """
        cert, key = env.optional("PASAR_TLS_CERT"), env.optional("PASAR_TLS_KEY")
        client_ca = env.optional("PASAR_TLS_CLIENT_CA")
        if not (cert or key or client_ca):
            return None
        if not cert or not key:
            given = "PASAR_TLS_CERT" if cert else "PASAR_TLS_KEY" if key else "PASAR_TLS_CLIENT_CA"
            missing = " and ".join(
                name for name, value in (("PASAR_TLS_CERT", cert), ("PASAR_TLS_KEY", key)) if not value
            )
            raise ConfigError(f"{missing} must be set as well when {given} is set")
        return cls(
            _readable_file("PASAR_TLS_CERT", cert),
            _readable_file("PASAR_TLS_KEY", key),
            _readable_file("PASAR_TLS_CLIENT_CA", client_ca) if client_ca else None,
        )

    def credentials(self) -> grpc.ServerCredentials:
        root = self.client_ca_file.read_bytes() if self.client_ca_file else None
        return grpc.ssl_server_credentials(
            [(self.key_file.read_bytes(), self.cert_file.read_bytes())],
            root_certificates=root,
            require_client_auth=root is not None,
        )


# Threads serving calls unless PASAR_GRPC_WORKERS or the service says otherwise.
DEFAULT_WORKERS = 16


@dataclass(frozen=True)
class ServerSettings:
    """How a service's server listens and behaves; read from the environment by from_env."""

    listen_address: str
    workers: int = DEFAULT_WORKERS
    shutdown_grace_seconds: float = 10.0
    health_probe_seconds: float = 2.0
    fault_delay_seconds: float = 0.0
    tls: ServerTls | None = None
    # The one switch for processes that share a port on purpose (the forked workers of one
    # service, pasar_kit.processes): it sets SO_REUSEPORT, and the kernel spreads connections
    # over every process bound to the port. Otherwise an address in use is a start-up error.
    share_port_with_siblings: bool = False
    # A forked worker's: its figures go to prometheus-client's multiprocess folder, and its
    # supervisor serves every worker's on one listener (metrics_address is then None here).
    metrics_for_supervisor: bool = False
    # PASAR_TEST_DEFECT: a deliberate defect for the conformance kit's mutation check
    # (pasar_kit.defects); refused in production.
    test_defect: str | None = None
    # Where the Prometheus metrics are served (PASAR_METRICS_ADDRESS, 127.0.0.1:0 by default
    # in from_env); None: no metrics, and no metrics interceptor either.
    metrics_address: str | None = None

    @classmethod
    def from_env(
        cls, env: Env, default_listen_address: str, default_workers: int = DEFAULT_WORKERS
    ) -> ServerSettings:
        """default_workers: a service whose calls only compute (no streams, no waits on other
        services) does better with few threads, as every extra thread queues for the GIL."""
        tls = ServerTls.from_env(env)
        return cls(
            listen_address=listen_address_from_env(env, default_listen_address),
            workers=worker_threads(env, default_workers),
            shutdown_grace_seconds=env.number("PASAR_SHUTDOWN_GRACE_SECONDS", 10.0, minimum=0),
            health_probe_seconds=env.number("PASAR_HEALTH_PROBE_SECONDS", 2.0, minimum=0.1),
            fault_delay_seconds=env.integer("PASAR_FAULT_DELAY_MS", 0, minimum=0) / 1000,
            tls=tls,
            test_defect=defect_from_env(env),
            metrics_address=metrics_address(env),
        )

    def grpc_options(self) -> list[tuple[str, int]]:
        return [*SERVER_OPTIONS, SHARED_PORT_OPTION if self.share_port_with_siblings else OWN_PORT_OPTION]


def worker_threads(env: Env, default: int = DEFAULT_WORKERS) -> int:
    """PASAR_GRPC_WORKERS: the threads that serve calls, each holding at most one connection."""
    return env.integer("PASAR_GRPC_WORKERS", default, minimum=1)


PROCESSES = "PASAR_GRPC_PROCESSES"
# One process, no supervisor: the behaviour before PASAR_GRPC_PROCESSES existed.
DEFAULT_PROCESSES = 1
CGROUP_ROOT = Path("/sys/fs/cgroup")


def grpc_processes(env: Env, cgroup_root: Path = CGROUP_ROOT) -> int:
    """PASAR_GRPC_PROCESSES: how many worker processes serve the port (pasar_kit.processes);
    ``auto`` is the CPUs this process may use (usable_cpus)."""
    value = env.string(PROCESSES, str(DEFAULT_PROCESSES)).strip()
    if value.lower() == "auto":
        return usable_cpus(cgroup_root) if workers_can_share_a_port() else 1
    if not (value.isascii() and value.isdigit()) or int(value) < 1:
        raise ConfigError(f"{PROCESSES} must be a positive whole number or 'auto', not {value!r}")
    if int(value) > 1 and not workers_can_share_a_port():
        raise ConfigError(
            f"{PROCESSES} above 1 needs Linux (its kernel spreads the connections of a port that"
            f" processes share, and ends workers with their supervisor), not {sys.platform}: set 1"
        )
    return int(value)


def workers_can_share_a_port() -> bool:
    """Whether forked workers work here: Linux's SO_REUSEPORT spreads connections over every
    process on the port (BSD's and macOS's hand them all to one) and PR_SET_PDEATHSIG exists."""
    return sys.platform.startswith("linux")


def usable_cpus(cgroup_root: Path = CGROUP_ROOT) -> int:
    """The CPUs the scheduler lets this process run on, capped by its cgroup v2 CPU quota
    (a container's CPU limit: ``cpu.max`` holds "quota period", or "max" when none)."""
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    quota = _cgroup_cpu_quota(cgroup_root)
    return max(1, min(cpus, math.ceil(quota))) if quota is not None else cpus


def _cgroup_cpu_quota(cgroup_root: Path) -> float | None:
    """The quota of this process's own cgroup (from /proc/self/cgroup), else of the root one
    (a container sees its own cgroup as the root); None when there is none or no cgroup v2."""
    candidates = [cgroup_root / "cpu.max"]
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            if line.startswith("0::/") and line != "0::/":
                candidates.insert(0, cgroup_root / line[len("0::/") :] / "cpu.max")
    except OSError:
        pass
    for path in candidates:
        try:
            quota, _, period = path.read_text().partition(" ")
        except OSError:
            continue
        try:
            return int(quota) / int(period)
        except ValueError:  # "max": no quota
            return None
    return None


def _readable_file(name: str, value: str) -> Path:
    """value, if it names a readable PEM file (gRPC would only say "Failed to bind" later)."""
    path = Path(value)
    try:
        text = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{name} must name a readable file, not {value!r} ({error.strerror})") from None
    if b"-----BEGIN " not in text:
        raise ConfigError(f"{name} must name a PEM file, and {value!r} has no -----BEGIN line")
    return path


@dataclass(frozen=True)
class ServiceRegistration:
    """One gRPC service the server hosts: its descriptor and how to add its servicer."""

    descriptor: descriptor.ServiceDescriptor
    add_to_server: Callable[[grpc.Server], None]


class GrpcServer:
    """A started-on-demand gRPC server with health, reflection and the call pipeline."""

    def __init__(
        self,
        settings: ServerSettings,
        services: Sequence[ServiceRegistration],
        database: peewee.Database | None,
        background: Sequence[Callable[[threading.Event], None]] = (),
        callers: InternalCallers | None = None,
        *,
        collectors: Sequence[Collector] = (),
    ) -> None:
        """background: functions run on their own threads until the event is set (at stop).
        callers: who may call the services' internal methods (pasar_kit.callers); nobody by default.
        collectors: the service's own figures, collected at each scrape (pasar_kit.metrics)."""
        self.settings = settings
        self.database = database
        self.metrics: ServiceMetrics | None = None
        self._metrics_listener: MetricsListener | None = None
        if settings.metrics_address is not None or settings.metrics_for_supervisor:
            from pasar_kit.metrics import ServiceMetrics  # noqa: PLC0415 - prometheus only when on

            self.metrics = ServiceMetrics(database, for_supervisor=settings.metrics_for_supervisor)
            for collector in collectors:
                self.metrics.register(collector)
        self.health = health.HealthServicer(experimental_non_blocking=True)
        gate = CallerGate(internal_methods(s.descriptor for s in services), callers or InternalCallers())
        self.server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=settings.workers, thread_name_prefix="rpc"),
            interceptors=[
                # Outermost: the pipeline below runs inside the call's span (its log lines
                # carry the ids), and the span sees the status the pipeline ends a call with.
                *server_interceptors(),
                *([self.metrics.server_interceptor()] if self.metrics else []),
                *defect_interceptors(settings.test_defect),
                CallPipeline(database, settings.fault_delay_seconds, gate),
            ],
            options=settings.grpc_options(),
            maximum_concurrent_rpcs=settings.workers * 8,
        )
        for service in services:
            service.add_to_server(self.server)
        health_pb2_grpc.add_HealthServicer_to_server(self.health, self.server)
        self.service_names = [service.descriptor.full_name for service in services]
        reflection.enable_server_reflection(
            [
                *self.service_names,
                health_pb2.DESCRIPTOR.services_by_name["Health"].full_name,
                reflection.SERVICE_NAME,
            ],
            self.server,
        )
        self._stopping = threading.Event()
        if self.metrics is not None:
            background = [*background, *self.metrics.background()]
        self._threads = [
            threading.Thread(target=self._probe_health, name="health-probe", daemon=True),
            *(threading.Thread(target=task, args=(self._stopping,), daemon=True) for task in background),
        ]
        self.port = 0
        self._serving = False  # what health says; set at start, then by the probe

    @property
    def stopping(self) -> threading.Event:
        """Set when the server begins to stop: long-lived streams end when they see it."""
        return self._stopping

    def start(self) -> int:
        """Binds the listen address, starts serving, and returns the bound port.

        Raises ListenError, naming the address, when it cannot be bound.
        """
        # The metrics listener first: unlike the gRPC server's, its address can be let go of
        # when the other one is refused (an unstarted gRPC server held its port).
        if self.metrics is not None and self.settings.metrics_address is not None:
            self._metrics_listener = serve_metrics(self.settings.metrics_address, self.metrics.registry)
        try:
            self.port = self._bind()
        except ListenError:
            self._close_metrics_listener()
            raise
        self._serving = self._database_answers()
        self._set_health(self._serving)
        self.server.start()
        for thread in self._threads:
            thread.start()
        # A worker's line names its pid, and no metrics_address: its supervisor's line does.
        where = (
            {"pid": os.getpid()}
            if self.settings.metrics_for_supervisor or self.settings.share_port_with_siblings
            else {"metrics_address": self.metrics_address or "off"}
        )
        log.info(
            "serving",
            extra={
                "address": self.settings.listen_address,
                "port": self.port,
                "services": self.service_names,
                **where,
            },
        )
        return self.port

    @property
    def metrics_address(self) -> str | None:
        """Where the metrics are served (the port the system picked), None when off or not started."""
        return self._metrics_listener.address if self._metrics_listener else None

    def _bind(self) -> int:
        address = self.settings.listen_address
        if not self.settings.share_port_with_siblings:
            ensure_address_free(address)
        tls = self.settings.tls
        try:
            if tls:
                return self.server.add_secure_port(address, tls.credentials())
            return self.server.add_insecure_port(address)
        except (RuntimeError, OSError):
            # The address was free a moment ago: taken since, or gRPC refused the TLS files.
            # gRPC's own message says only "Failed to bind"; its log line above says why.
            cause = f"the address or the TLS files {tls.cert_file}, {tls.key_file}" if tls else "the address"
            raise ListenError(
                f"cannot listen on {address}: gRPC refused {cause} (see its log line)"
            ) from None

    def stop(self, grace: float | None = None) -> None:
        """Stops accepting calls, lets in-flight calls finish within grace, stops background work."""
        self._stopping.set()
        self.health.enter_graceful_shutdown()
        self.server.stop(self.settings.shutdown_grace_seconds if grace is None else grace).wait()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout=5)
        if self.metrics is not None:
            self.metrics.stopped()
        self._close_metrics_listener()
        log.info("stopped")

    def _close_metrics_listener(self) -> None:
        if self._metrics_listener is not None:
            self._metrics_listener.close()
            self._metrics_listener = None

    def wait(self) -> None:
        self.server.wait_for_termination()

    def _database_answers(self) -> bool:
        if self.database is None:
            return True
        try:
            db.ping(self.database)
        except Exception:  # any failure means the database does not answer
            return False
        return True

    def _set_health(self, serving: bool) -> None:
        status = (
            health_pb2.HealthCheckResponse.SERVING if serving else health_pb2.HealthCheckResponse.NOT_SERVING
        )
        for name in ("", *self.service_names):
            self.health.set(name, status)

    def _probe_health(self) -> None:
        """Health changes only when the database's answer does: every set sends a message to
        each Health/Watch stream, which must hear of changes and nothing else."""
        while not self._stopping.wait(self.settings.health_probe_seconds):
            serving = self._database_answers()
            if serving != self._serving:
                log.warning("database %s", "answers again" if serving else "does not answer")
                self._serving = serving
                self._set_health(serving)


def run_until_terminated(server: GrpcServer) -> None:
    """Starts server and serves until SIGTERM or SIGINT, then stops it gracefully."""

    stopping: list[threading.Thread] = []

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        log.info("shutting down", extra={"signal": signal.Signals(signum).name})
        thread = threading.Thread(target=server.stop, name="shutdown")
        stopping.append(thread)
        thread.start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    server.start()
    server.wait()
    # The server stops accepting before its background work ends: return (and let the caller
    # flush the last spans, ServiceCli) only once the whole stop is done.
    for thread in stopping:
        thread.join()
