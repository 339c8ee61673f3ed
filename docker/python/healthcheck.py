#!/usr/bin/env python3
"""The health check of Pasar's Python images: exits 0 when the component in the container is healthy.

A service is healthy when its own ``grpc.health.v1`` answer is SERVING (the kit's server
says NOT_SERVING while the database does not answer). When the server speaks TLS
(``PASAR_TLS_CERT`` is set) the check does too, as the service's callers do: it trusts
``PASAR_TLS_CA`` and, for mutual TLS, presents ``PASAR_TLS_CLIENT_CERT``/``_KEY``; it
asks for the service by its own name (product, payment, order), which its certificate
names. The gateway is healthy when ``/healthz`` answers 200.

The component comes from ``PASAR_COMPONENT`` (the image sets it) and the port from
``PASAR_LISTEN_ADDRESS``. Docker runs it as the image's HEALTHCHECK; Kubernetes probes the
services natively over gRPC, and runs this script as an exec probe when they speak TLS
(its native probe cannot). ``pasar_kit.readiness`` does the same in plain text only.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc

from pasar_kit.channels import ClientTls
from pasar_kit.config import ConfigError, Env

SERVICE_PORTS = {"product": 50051, "payment": 50052, "order": 50053}
GATEWAY_PORT = 8080
TIMEOUT_SECONDS = 3.0


def local_port(env: Env, default: int) -> int:
    """The port of PASAR_LISTEN_ADDRESS (host:port, [::]:port), or the component's default."""
    address = env.optional("PASAR_LISTEN_ADDRESS")
    if not address:
        return default
    port = address.rpartition(":")[2]
    if not port.isdigit():
        raise ConfigError(f"PASAR_LISTEN_ADDRESS must end with :port, not {address!r}")
    return int(port)


def service_is_serving(component: str, env: Env) -> bool:
    target = f"127.0.0.1:{local_port(env, SERVICE_PORTS[component])}"
    if env.optional("PASAR_TLS_CERT"):
        tls = ClientTls.from_env(env)
        if tls is None:
            raise ConfigError("PASAR_TLS_CA is required for the health check of a TLS server")
        channel = grpc.secure_channel(
            target, tls.credentials(), options=[("grpc.ssl_target_name_override", component)]
        )
    else:
        channel = grpc.insecure_channel(target)
    with channel:
        stub: Any = health_pb2_grpc.HealthStub(channel)  # its stubs lack the Check attribute
        try:
            response = stub.Check(health_pb2.HealthCheckRequest(service=""), timeout=TIMEOUT_SECONDS)
        except grpc.RpcError as error:
            print(f"{component}: {error.code().name} {error.details()}", file=sys.stderr)
            return False
    if response.status != health_pb2.HealthCheckResponse.SERVING:
        print(
            f"{component}: {health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)}",
            file=sys.stderr,
        )
        return False
    return True


def gateway_is_up(env: Env) -> bool:
    default = env.integer("PASAR_PORT", GATEWAY_PORT, minimum=1)
    url = f"http://127.0.0.1:{local_port(env, default)}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError) as error:
        print(f"gateway: {url}: {error}", file=sys.stderr)
        return False


def main(argv: list[str]) -> int:
    env = Env()
    component = argv[0] if argv else env.string("PASAR_COMPONENT", "")
    try:
        if component == "gateway":
            return 0 if gateway_is_up(env) else 1
        if component in SERVICE_PORTS:
            return 0 if service_is_serving(component, env) else 1
        print(f"pasar-healthcheck: unknown component {component!r} (PASAR_COMPONENT)", file=sys.stderr)
        return 2
    except ConfigError as error:
        print(f"pasar-healthcheck: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
