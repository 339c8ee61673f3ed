"""Prometheus metrics on a listener of their own, apart from the public origin.

``PASAR_METRICS_ADDRESS`` names it (``127.0.0.1:0`` by default: loopback only, on a port
the system picks and the start-up log names; deployments that scrape set a fixed one, and
``off`` turns it off). The gateway serves its multiprocess registry here, and every
service its :class:`pasar_kit.metrics.ServiceMetrics` (through GrpcServer). prometheus-client
is imported only when the listener starts: the gateway's multiprocess mode is decided when
prometheus-client is first imported, after the gateway has set its folder.
"""

from __future__ import annotations

import glob
import os
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING
from wsgiref.simple_server import WSGIServer

from pasar_kit.config import ConfigError, Env
from pasar_kit.listen import ListenAddress, ListenError
from pasar_kit.process_ids import is_running, start_ticks

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry
    from prometheus_client.registry import Collector

METRICS_ADDRESS = "PASAR_METRICS_ADDRESS"
DEFAULT_METRICS_ADDRESS = "127.0.0.1:0"
OFF = ("off", "none", "")
# prometheus-client's multiprocess mode: where each process writes its figures.
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"


def metrics_address(env: Env, default: str = DEFAULT_METRICS_ADDRESS) -> str | None:
    """The checked address, or None when metrics are off."""
    address = env.string(METRICS_ADDRESS, default).strip()
    if address.lower() in OFF:
        return None
    try:
        ListenAddress.parse(address)
    except ValueError:
        raise ConfigError(
            f"{METRICS_ADDRESS} must be host:port (port 0 picks a free one) or 'off', not {address!r}"
        ) from None
    return address


@dataclass
class MetricsListener:
    """A running metrics listener; ``address`` has the port it really has."""

    server: WSGIServer
    thread: threading.Thread

    @property
    def address(self) -> str:
        host, port = self.server.server_address[:2]
        text = host.decode() if isinstance(host, bytes) else str(host)
        return f"[{text}]:{port}" if ":" in text else f"{text}:{port}"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def serve_metrics(address: str, registry: CollectorRegistry) -> MetricsListener:
    """Serves registry at http://address/metrics from a daemon thread; ListenError if taken."""
    from prometheus_client import start_http_server  # noqa: PLC0415 - not before multiprocess mode is set

    listen = ListenAddress.parse(address)
    try:
        server, thread = start_http_server(listen.port, listen.bare_host, registry)
    except OSError as error:
        raise ListenError(
            f"{METRICS_ADDRESS}: cannot listen on {address}: {error.strerror or error}"
        ) from None
    return MetricsListener(server, thread)


def share_figures_folder(prefix: str) -> Path:
    """A private folder, named in the environment, where the processes forked from now on
    write their figures (prometheus-client's multiprocess mode, which it decides when it is
    first imported: so before that). remove_figures_folder removes it.

    Its name carries this process's pid and start time, and the folders of prefix whose
    process is gone are removed first: a killed supervisor (SIGKILL, the OOM killer) never
    ran its own removal."""
    if "prometheus_client" in sys.modules:
        raise RuntimeError("prometheus-client was imported before its multiprocess folder was set")
    remove_orphaned_figures_folders(prefix)
    started = start_ticks(os.getpid())
    owner = f"{os.getpid()}-{started}-" if started is not None else ""
    folder = Path(tempfile.mkdtemp(prefix=f"{prefix}{owner}"))
    os.environ[MULTIPROCESS_DIR] = str(folder)
    return folder


def remove_orphaned_figures_folders(prefix: str) -> None:
    """Removes the folders of prefix (share_figures_folder's) whose process is no longer
    running; folders that name no process are left alone."""
    for folder in Path(tempfile.gettempdir()).glob(f"{glob.escape(prefix)}*"):
        pid, _, rest = folder.name[len(prefix) :].partition("-")
        started = rest.partition("-")[0]
        if pid.isdigit() and started.isdigit() and not is_running(int(pid), int(started)):
            shutil.rmtree(folder, ignore_errors=True)


def remove_figures_folder(folder: Path) -> None:
    os.environ.pop(MULTIPROCESS_DIR, None)
    shutil.rmtree(folder, ignore_errors=True)


def serve_collectors(address: str, collectors: Iterable[Collector]) -> MetricsListener:
    """A registry of collectors alone, served at address (a supervisor's: the workers' figures,
    pasar_kit.metrics.WorkerFigures, and the service's own)."""
    from prometheus_client import CollectorRegistry  # noqa: PLC0415 - after the folder is set

    registry = CollectorRegistry()
    for collector in collectors:
        registry.register(collector)
    return serve_metrics(address, registry)


def forget_process(pid: int) -> None:
    """Drops the gauges of a process that has exited (its counts stay in the totals)."""
    from prometheus_client import multiprocess  # noqa: PLC0415 - after the folder is set

    multiprocess.mark_process_dead(pid)  # type: ignore[no-untyped-call]
