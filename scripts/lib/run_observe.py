"""``scripts/run --observe``: a Jaeger beside the shop, and every component exporting to it.

Jaeger v2 is built once into ``.tools/`` (``scripts/lib/jaeger.sh``, through
``pasar_testkit.jaeger``) and runs with ``scripts/lib/jaeger.yaml`` (traces in memory) on
Jaeger's usual loopback ports: OTLP 4317 (gRPC) and 4318 (HTTP), UI and query API 16686, its
query gRPC API 16685 and health check 13133. Each moves with the variable jaeger.yaml reads
(``PASAR_JAEGER_OTLP_GRPC_PORT``, ...), so that a second Jaeger (a test's) runs beside it.

Every component gets ``OTEL_EXPORTER_OTLP_ENDPOINT`` (OTLP over gRPC, the SDKs' default
protocol) and its own ``OTEL_SERVICE_NAME`` (one name inherited by all would make every span
look like one service's). Without ``--observe`` nothing here runs and no OTEL variable is set.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from pasar_testkit.jaeger import (
    CONFIG_FILE,
    HEALTH_PATH,
    HEALTH_PORT,
    HOST_SETTING,
    OTLP_GRPC_PORT,
    QUERY_HTTP_PORT,
    USUAL_PORTS,
    build_jaeger,
)

REPO = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


@dataclass(frozen=True)
class Observer:
    """Where this run's Jaeger listens, and what it tells the components."""

    ports: Mapping[str, int]  # USUAL_PORTS' variables -> the port each gets

    @classmethod
    def from_env(cls, read_port: Callable[[str, int], int]) -> Observer:
        """The ports from the environment (Jaeger's usual ones by default); read_port checks each."""
        return cls({setting: read_port(setting, default) for setting, default in USUAL_PORTS.items()})

    @property
    def ui_url(self) -> str:
        return f"http://{HOST}:{self.ports[QUERY_HTTP_PORT]}"

    @property
    def otlp_endpoint(self) -> str:
        return f"http://{HOST}:{self.ports[OTLP_GRPC_PORT]}"

    @property
    def health_url(self) -> str:
        return f"http://{HOST}:{self.ports[HEALTH_PORT]}{HEALTH_PATH}"

    def listens(self) -> list[tuple[str, str]]:
        """(address, the variable that moves it) of every listener, to check before starting."""
        return [(f"{HOST}:{port}", setting) for setting, port in self.ports.items()]

    def jaeger_env(self, base: Mapping[str, str]) -> dict[str, str]:
        """Jaeger's environment: its listeners on loopback at our ports."""
        return {**base, HOST_SETTING: HOST, **{name: str(port) for name, port in self.ports.items()}}

    def component_env(self, service_name: str) -> dict[str, str]:
        """What turns a component's tracing on and names it in Jaeger."""
        return {"OTEL_EXPORTER_OTLP_ENDPOINT": self.otlp_endpoint, "OTEL_SERVICE_NAME": service_name}


def jaeger_command() -> list[str]:
    """The Jaeger command line; builds the binary first when it is missing (minutes, once)."""
    return [str(build_jaeger()), "--config", f"file:{REPO / CONFIG_FILE}"]
