"""A fake peer: servicers written for a test, served over real gRPC on a loopback port.

The port is kept across stop/start, so that stopping the server is an outage the caller's
channel sees and starting it again is the recovery. The server reports SERVING on gRPC
health for each service it hosts (a caller that probes health finds it ready), and can run
behind interceptors (the kit's CallPipeline, to validate requests as the real service does).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent import futures
from types import TracebackType

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc

from pasar_kit.server import OWN_PORT_OPTION, ServiceRegistration


class FakeGrpcServer:
    """The registered fake services on one gRPC server, restartable on the same port."""

    def __init__(
        self,
        services: Sequence[ServiceRegistration],
        *,
        interceptors: Sequence[grpc.ServerInterceptor] = (),
        max_workers: int = 16,
    ) -> None:
        self.services = list(services)
        self.interceptors = list(interceptors)
        self.max_workers = max_workers
        self.port = 0
        self.server: grpc.Server | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=self.max_workers),
            interceptors=self.interceptors,
            options=[OWN_PORT_OPTION],  # never a port another test's server holds
        )
        for service in self.services:
            service.add_to_server(server)
        health_servicer = health.HealthServicer()
        for name in ("", *(service.descriptor.full_name for service in self.services)):
            health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
        health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
        self.port = server.add_insecure_port(f"127.0.0.1:{self.port}")
        server.start()
        self.server = server

    def stop(self) -> None:
        """Stops at once (calls in flight fail, as in an outage); start() brings it back."""
        if self.server is not None:
            self.server.stop(grace=None).wait()
            self.server = None

    def __enter__(self) -> FakeGrpcServer:
        self.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.stop()
