"""``pasar-gateway``: the gateway under gunicorn, the same server in development and production.

gunicorn's master process reads and checks the whole configuration first (a bad value
ends it with status 2 and a message naming the variable), then forks worker processes
with threads (``gthread``); each worker makes its own application, so gRPC channels are
never shared across a fork. SIGTERM stops accepting connections and lets requests in
flight finish within the grace period.

Each worker reads a request whole in its event loop before a thread sees it
(:mod:`pasar_gateway.buffering_worker`), within a deadline for the headers and one for the
body: slow clients cost a socket, never a thread. The master claims the listen address
before it forks (:func:`pasar_kit.listen.claim_address`): an address held by any other process
ends it with one line and status 2, while its own workers bind theirs with SO_REUSEPORT.
Metrics (every worker's, added up) are served by the master on ``PASAR_METRICS_ADDRESS``,
a listener apart from the public one (:mod:`pasar_kit.metrics_listener`). With an OTLP
endpoint set, the master checks the ``OTEL_*`` settings (status 2 for a bad one, as for
any other setting), and each worker sets up tracing after the fork and flushes it as it
exits (:mod:`pasar_kit.telemetry`, :mod:`pasar_gateway.tracing`).

Settings (environment): ``PASAR_LISTEN_ADDRESS`` (``127.0.0.1:$PASAR_PORT``, port 8080),
``PASAR_GATEWAY_WORKERS`` (2), ``PASAR_GATEWAY_THREADS`` (8), ``PASAR_GATEWAY_TIMEOUT_SECONDS``
(30: a worker silent for longer is restarted), ``PASAR_SHUTDOWN_GRACE_SECONDS`` (10),
``PASAR_GATEWAY_KEEPALIVE_SECONDS`` (5), ``PASAR_GATEWAY_HEADER_READ_SECONDS`` (10: the
request line and headers, from the connection or the request's first byte),
``PASAR_GATEWAY_BODY_READ_SECONDS`` (20: the body, from the end of the headers),
``PASAR_METRICS_ADDRESS`` (``127.0.0.1:0``: loopback, a free port named in the log; ``off``),
``PASAR_LOG_LEVEL``, ``PASAR_LOG_FORMAT``.
"""

from __future__ import annotations

import argparse
import logging
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar

from gunicorn import glogging  # type: ignore[import-untyped]
from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]

from pasar_gateway.buffering_worker import BufferingThreadWorker, ReadLimits
from pasar_kit.config import ConfigError, Env
from pasar_kit.listen import ListenAddress, ListenError, claim_address, listen_address_from_env
from pasar_kit.logs import configure_logging
from pasar_kit.metrics_listener import MetricsListener, metrics_address
from pasar_kit.telemetry import check_tracing_config, shutdown_tracing

if TYPE_CHECKING:
    from pasar_gateway.catalog_cache import Generation
    from pasar_gateway.settings import GatewaySettings

log = logging.getLogger("pasar.gateway")
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
# The longest request line and headers a worker buffers (gunicorn's own limits stay lower
# per line: 4094 bytes for the request line, 8190 per header).
MAX_HEADER_BYTES = 64 * 1024
LISTENING_AT = "Listening at: %s (%s)"  # gunicorn's arbiter, as it logs its listeners


@dataclass(frozen=True)
class HttpServerSettings:
    """How gunicorn serves the application over HTTP (pasar_kit.server.ServerSettings: the services' gRPC)."""

    listen_address: str
    workers: int
    threads: int
    timeout_seconds: int
    grace_seconds: float
    keepalive_seconds: int
    header_read_seconds: float
    body_read_seconds: float
    log_level: str

    @classmethod
    def from_env(cls, env: Env) -> HttpServerSettings:
        port = env.integer("PASAR_PORT", 8080, minimum=1)
        if port > 65535:
            raise ConfigError(f"PASAR_PORT must be a TCP port (1-65535), not {port}")
        listen = listen_address_from_env(env, f"127.0.0.1:{port}")
        if ListenAddress.parse(listen).port == 0:
            # Each worker would listen on a port of its own, none of them the claimed one.
            raise ConfigError(f"PASAR_LISTEN_ADDRESS must name a port from 1 to 65535, not {listen!r}")
        log_level = env.string("PASAR_LOG_LEVEL", "info").lower()
        if log_level not in glogging.Logger.LOG_LEVELS:
            raise ConfigError(f"PASAR_LOG_LEVEL must be one of {', '.join(glogging.Logger.LOG_LEVELS)}")
        return cls(
            listen_address=listen,
            workers=env.integer("PASAR_GATEWAY_WORKERS", 2, minimum=1),
            threads=env.integer("PASAR_GATEWAY_THREADS", 8, minimum=1),
            timeout_seconds=env.integer("PASAR_GATEWAY_TIMEOUT_SECONDS", 30, minimum=1),
            grace_seconds=env.number("PASAR_SHUTDOWN_GRACE_SECONDS", 10.0, minimum=0),
            keepalive_seconds=env.integer("PASAR_GATEWAY_KEEPALIVE_SECONDS", 5, minimum=0),
            header_read_seconds=env.number("PASAR_GATEWAY_HEADER_READ_SECONDS", 10.0, minimum=0.1),
            body_read_seconds=env.number("PASAR_GATEWAY_BODY_READ_SECONDS", 20.0, minimum=0.1),
            log_level=log_level,
        )


class ProcessLogger(glogging.Logger):  # type: ignore[misc]  # gunicorn is untyped
    """gunicorn's own messages go through the process's logging set-up (JSON lines)."""

    # What the master's "Listening at" line names: see info().
    listen_url: ClassVar[str] = ""

    @classmethod
    def listening_at(cls, address: str) -> type[ProcessLogger]:
        """This logger, naming address (host:port) in gunicorn's "Listening at" line."""
        return type(cls.__name__, (cls,), {"listen_url": f"http://{address}"})

    def setup(self, cfg: Any) -> None:
        self.cfg = cfg
        self._access_log_enabled = False  # the application logs one line per request itself
        self.loglevel = self.LOG_LEVELS.get(cfg.loglevel.lower(), logging.INFO)
        self.error_log.setLevel(self.loglevel)
        self.error_log.propagate = True

    def info(self, msg: str, *args: Any, **kwargs: Any) -> None:
        # With reuse_port each worker binds its own socket and gunicorn's master binds none
        # (Arbiter.start skips create_sockets), so the master's line listed no listener:
        # "Listening at:  (pid)". The address is the one the master claimed and every
        # worker binds; a gunicorn that names its listeners itself passes through.
        if msg == LISTENING_AT and args and not args[0]:
            args = (self.listen_url, *args[1:])
        super().info(msg, *args, **kwargs)


class GatewayServer(BaseApplication):  # type: ignore[misc]  # gunicorn is untyped
    """gunicorn, configured in code rather than from a file or its command line."""

    def __init__(self, settings: HttpServerSettings, max_body_bytes: int, generation: Generation) -> None:
        self.settings = settings
        self.generation = generation  # made before the fork: every worker's cache sees one counter
        self.read_limits = ReadLimits(
            header_seconds=settings.header_read_seconds,
            body_seconds=settings.body_read_seconds,
            max_header_bytes=MAX_HEADER_BYTES,
            max_body_bytes=max_body_bytes,
        )
        super().__init__(prog="pasar-gateway")

    def load_config(self) -> None:
        settings = self.settings
        options = {
            "bind": [settings.listen_address],
            "workers": settings.workers,
            "worker_class": BufferingThreadWorker.configured(self.read_limits),
            "threads": settings.threads,
            "timeout": settings.timeout_seconds,
            "graceful_timeout": math.ceil(settings.grace_seconds),
            "keepalive": settings.keepalive_seconds,
            # Each worker listens on its own SO_REUSEPORT socket and the kernel spreads new
            # connections over them; on one shared socket, the first worker to wake accepted
            # nearly every keep-alive connection and the others idled (measured: a second
            # worker added nothing to the browse rate).
            "reuse_port": True,
            "loglevel": settings.log_level,
            "logger_class": ProcessLogger.listening_at(settings.listen_address),
            "accesslog": None,
            "errorlog": "-",
            "preload_app": False,
            "control_socket_disable": True,
            "proc_name": "pasar-gateway",
            "child_exit": _child_exit,
            "worker_exit": _worker_exit,
        }
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> Any:
        from pasar_gateway.app import create_app  # noqa: PLC0415 - in the worker, after the fork
        from pasar_gateway.tracing import start_tracing  # noqa: PLC0415 - likewise

        # Each worker its own tracer provider, set up after the fork: a batch processor's
        # export thread does not cross a fork, and the backends' channels, opened by
        # create_app, take the client interceptor only once tracing is on. The master
        # checked the OTEL_* settings (check_tracing_config) before forking.
        start_tracing(Env())
        return create_app(generation=self.generation)


def _child_exit(_server: Any, worker: Any) -> None:
    if os.environ.get(MULTIPROCESS_DIR):
        from prometheus_client import multiprocess  # noqa: PLC0415 - only after the folder is set

        multiprocess.mark_process_dead(worker.pid)  # type: ignore[no-untyped-call]


def _worker_exit(_server: Any, _worker: Any) -> None:
    """In the worker, once it has stopped serving: exports the spans its batch still holds."""
    shutdown_tracing()


def check_application_config() -> GatewaySettings:
    """Reads the application's settings as each worker will, without opening any channel."""
    import flask  # noqa: PLC0415 - imported after PROMETHEUS_MULTIPROC_DIR is set

    from pasar_gateway.app import load_config  # noqa: PLC0415 - likewise

    return load_config(flask.Flask("pasar_gateway"), None)


def start_metrics_listener(address: str | None) -> MetricsListener | None:
    """Every worker's figures, added up, on their own listener (None when turned off)."""
    if address is None:
        return None
    from prometheus_client import CollectorRegistry  # noqa: PLC0415 - after the folder is set
    from prometheus_client.multiprocess import MultiProcessCollector  # noqa: PLC0415 - likewise

    from pasar_kit.metrics_listener import serve_metrics  # noqa: PLC0415 - likewise

    registry = CollectorRegistry()
    MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    return serve_metrics(address, registry)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="pasar-gateway",
        description="Serves Pasar's API and storefront under gunicorn; configured by PASAR_* variables.",
    )
    parser.add_argument("--check-config", action="store_true", help="check the configuration and exit")
    args = parser.parse_args(argv)
    env = Env()
    own_metrics_dir = None
    try:
        configure_logging(
            "gateway", env.string("PASAR_LOG_LEVEL", "info"), env.string("PASAR_LOG_FORMAT", "json")
        )
        settings = HttpServerSettings.from_env(env)
        if not env.optional(MULTIPROCESS_DIR):
            # Before prometheus-client is imported: every worker then writes its figures there.
            own_metrics_dir = tempfile.mkdtemp(prefix="pasar-gateway-metrics-")
            os.environ[MULTIPROCESS_DIR] = own_metrics_dir
        application = check_application_config()
        metrics_at = metrics_address(env)
        # Here, not only in the workers: a refused setting there is gunicorn's "Worker failed
        # to boot" and status 3, not one line and status 2, and --check-config missed it.
        check_tracing_config(env)
    except ConfigError as error:
        print(f"pasar-gateway: {error}", file=sys.stderr)
        _remove(own_metrics_dir)
        return 2
    if args.check_config:
        _remove(own_metrics_dir)
        return 0
    from pasar_gateway.catalog_cache import SharedGeneration  # noqa: PLC0415 - likewise

    generation = SharedGeneration()
    try:
        # Held until the master exits; its workers bind beside it (pasar_kit.listen).
        claim = claim_address(settings.listen_address)
    except ListenError as error:
        print(f"pasar-gateway: PASAR_LISTEN_ADDRESS: {error}", file=sys.stderr)
        _remove(own_metrics_dir)
        return 2
    try:
        metrics = start_metrics_listener(metrics_at)
    except ListenError as error:
        print(f"pasar-gateway: {error}", file=sys.stderr)
        claim.close()
        _remove(own_metrics_dir)
        return 2
    log.info(
        "starting",
        extra={
            "address": settings.listen_address,
            "metrics_address": metrics.address if metrics else "off",
            "workers": settings.workers,
            "threads": settings.threads,
        },
    )
    master = os.getpid()
    try:
        GatewayServer(settings, application.max_body_bytes, generation).run()
    finally:
        # Workers are forked from inside run() and leave through this frame too.
        if os.getpid() == master:
            if metrics:
                metrics.close()
            claim.close()
            _remove(own_metrics_dir)
    return 0


def _remove(folder: str | None) -> None:
    if folder:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
