"""Is a component up? gRPC health for the services, an HTTP 200 for the gateway.

Used by ``scripts/run`` and the tests to wait for what they start, and as the container
health check: ``python -m pasar_kit.readiness grpc 127.0.0.1:50051`` or
``python -m pasar_kit.readiness http http://127.0.0.1:8080/healthz`` exits 0 when ready.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Sequence
from typing import Any

import grpc
from grpc_health.v1 import health_pb2, health_pb2_grpc


def grpc_health(address: str, timeout: float = 1.0, service: str = "") -> int:
    """The health status of the server at address (SERVING is 1); raises grpc.RpcError if unreachable."""
    with grpc.insecure_channel(address) as channel:
        stub: Any = health_pb2_grpc.HealthStub(channel)  # its stubs lack the Check attribute
        response = stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=timeout)
        return int(response.status)


def http_ok(url: str, timeout: float = 1.0) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - an address we were given
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def wait_until_serving(
    address: str, timeout: float = 30.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    """Waits until the gRPC server at address reports SERVING (or process exits)."""
    deadline = time.monotonic() + timeout
    while True:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the process serving {address} exited with {process.returncode}")
        try:
            if grpc_health(address) == health_pb2.HealthCheckResponse.SERVING:
                return
        except grpc.RpcError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError(f"{address} did not report SERVING within {timeout}s")
        time.sleep(0.1)


def wait_until_http_ok(
    url: str, timeout: float = 30.0, process: subprocess.Popen[bytes] | None = None
) -> None:
    """Waits until url answers 200 (or process exits)."""
    deadline = time.monotonic() + timeout
    while not http_ok(url):
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"the process serving {url} exited with {process.returncode}")
        if time.monotonic() > deadline:
            raise TimeoutError(f"{url} did not answer 200 within {timeout}s")
        time.sleep(0.1)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pasar_kit.readiness", description=__doc__)
    parser.add_argument("kind", choices=["grpc", "http"])
    parser.add_argument("target", help="host:port for grpc, a URL for http")
    parser.add_argument("--timeout", type=float, default=2.0)
    args = parser.parse_args(argv)
    if args.kind == "http":
        return 0 if http_ok(args.target, args.timeout) else 1
    try:
        return 0 if grpc_health(args.target, args.timeout) == health_pb2.HealthCheckResponse.SERVING else 1
    except grpc.RpcError:
        return 1


if __name__ == "__main__":
    sys.exit(main())
