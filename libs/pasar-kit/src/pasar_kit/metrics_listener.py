"""Prometheus metrics on a listener of their own, apart from the public origin.

``PASAR_METRICS_ADDRESS`` names it (``127.0.0.1:0`` by default: loopback only, on a port
the system picks and the start-up log names; deployments that scrape set a fixed one, and
``off`` turns it off). The gateway serves its multiprocess registry here, and every
service its :class:`pasar_kit.metrics.ServiceMetrics` (through GrpcServer). prometheus-client
is imported only when the listener starts: the gateway's multiprocess mode is decided when
prometheus-client is first imported, after the gateway has set its folder.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING
from wsgiref.simple_server import WSGIServer

from pasar_kit.config import ConfigError, Env
from pasar_kit.listen import ListenAddress, ListenError

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

METRICS_ADDRESS = "PASAR_METRICS_ADDRESS"
DEFAULT_METRICS_ADDRESS = "127.0.0.1:0"
OFF = ("off", "none", "")


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
