"""A server listens on its address alone, and says so in one line when it cannot.

grpcio sets SO_REUSEPORT unless told otherwise: a second server on a taken port then
shared the first one's connections (13 of 30, in the probe that found it).
"""

# The fake servicers implement only the RPCs under test; mypy-protobuf marks the others
# abstract, which is what keeps real servicers complete.
# mypy: disable-error-code="abstract"

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from concurrent import futures
from pathlib import Path

import grpc
import pytest
from conftest import FakeCatalog, registration

from pasar.product.v1 import product_service_pb2, product_service_pb2_grpc
from pasar_kit.config import ConfigError, Env
from pasar_kit.listen import ListenError
from pasar_kit.server import GrpcServer, ServerSettings
from pasar_testkit.ports import free_port


def answered_by(port: int, calls: int = 30) -> list[str]:
    """Who answers each of calls new connections: the display name each server gives."""
    names = []
    for _ in range(calls):
        with grpc.insecure_channel(f"127.0.0.1:{port}") as channel:
            stub = product_service_pb2_grpc.ProductServiceStub(channel)
            response = stub.GetProduct(product_service_pb2.GetProductRequest(id="pulsa"), timeout=5)
            names.append(response.product.display_name)
    return names


@pytest.fixture
def stopped_at_end() -> Iterator[list[GrpcServer]]:
    servers: list[GrpcServer] = []
    yield servers
    for server in servers:
        server.stop(grace=0)


def test_a_second_server_on_a_taken_address_refuses_and_the_first_keeps_serving(
    start_server: Callable[..., GrpcServer], stopped_at_end: list[GrpcServer]
) -> None:
    first = start_server(FakeCatalog())
    second = GrpcServer(ServerSettings(f"127.0.0.1:{first.port}"), [registration(FakeCatalog())], None)
    stopped_at_end.append(second)
    with pytest.raises(ListenError) as refused:
        second.start()
    assert str(refused.value) == f"cannot listen on 127.0.0.1:{first.port}: the address is already in use"
    assert answered_by(first.port) == ["Pulsa"] * 30


def test_a_grpc_server_that_shares_its_port_does_not_make_ours_share(
    stopped_at_end: list[GrpcServer],
) -> None:
    # grpcio's default (SO_REUSEPORT on), as the services had it before: ours must not join it.
    port = free_port()
    holder = grpc.server(futures.ThreadPoolExecutor(max_workers=1))
    holder.add_insecure_port(f"127.0.0.1:{port}")
    holder.start()
    try:
        ours = GrpcServer(ServerSettings(f"127.0.0.1:{port}"), [registration(FakeCatalog())], None)
        stopped_at_end.append(ours)
        with pytest.raises(ListenError, match="already in use"):
            ours.start()
    finally:
        holder.stop(0).wait()


@pytest.mark.parametrize("host", ["127.0.0.1", "0.0.0.0", "[::]"])
def test_a_port_held_by_a_plain_socket_is_refused(host: str, stopped_at_end: list[GrpcServer]) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        port = holder.getsockname()[1]
        server = GrpcServer(ServerSettings(f"{host}:{port}"), [], None)
        stopped_at_end.append(server)
        with pytest.raises(ListenError) as refused:
            server.start()
        assert str(refused.value) == f"cannot listen on {host}:{port}: the address is already in use"


def test_an_address_not_of_this_machine_is_refused_with_the_reason(stopped_at_end: list[GrpcServer]) -> None:
    server = GrpcServer(ServerSettings("192.0.2.1:50051"), [], None)  # TEST-NET-1: never local
    stopped_at_end.append(server)
    with pytest.raises(ListenError) as refused:
        server.start()
    assert str(refused.value) == "cannot listen on 192.0.2.1:50051: cannot assign requested address"


def test_siblings_that_share_the_port_on_purpose_can_bind_it(stopped_at_end: list[GrpcServer]) -> None:
    port = free_port()
    siblings = [
        GrpcServer(ServerSettings(f"127.0.0.1:{port}", share_port_with_siblings=True), [], None)
        for _ in range(2)
    ]
    stopped_at_end.extend(siblings)
    assert [sibling.start() for sibling in siblings] == [port, port]


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("127.0.0.1:99999", "must end with a port from 1 to 65535"),
        ("127.0.0.1:-1", "must end with a port from 1 to 65535"),
        ("127.0.0.1:http", "must end with a port from 1 to 65535"),
        ("127.0.0.1", "must be host:port"),
        (":50051", "must be host:port"),
        ("::1:50051", "must write an IPv6 host in brackets"),
    ],
)
def test_a_malformed_listen_address_is_refused_as_it_is_read(value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=f"^PASAR_LISTEN_ADDRESS {message}"):
        ServerSettings.from_env(Env({"PASAR_LISTEN_ADDRESS": value}), "127.0.0.1:50051")


@pytest.mark.parametrize("value", ["127.0.0.1:50051", "0.0.0.0:1", "[::]:65535", "localhost:8080"])
def test_well_formed_listen_addresses_are_taken(value: str) -> None:
    for environment in ("development", "production"):
        env = Env({"PASAR_ENV": environment, "PASAR_LISTEN_ADDRESS": value})
        assert ServerSettings.from_env(env, "127.0.0.1:1").listen_address == value


def test_port_zero_is_for_tests_and_refused_in_production() -> None:
    development = Env({"PASAR_ENV": "development", "PASAR_LISTEN_ADDRESS": "127.0.0.1:0"})
    assert ServerSettings.from_env(development, "127.0.0.1:50051").listen_address == "127.0.0.1:0"
    production = Env({"PASAR_ENV": "production", "PASAR_LISTEN_ADDRESS": "127.0.0.1:0"})
    with pytest.raises(
        ConfigError, match="PASAR_LISTEN_ADDRESS must name a port from 1 to 65535 in production"
    ):
        ServerSettings.from_env(production, "127.0.0.1:50051")


def test_a_tls_file_that_is_not_pem_is_refused_as_it_is_read(tmp_path: Path) -> None:
    not_pem = tmp_path / "server.crt"
    not_pem.write_text("this is not a certificate\n")
    key = tmp_path / "server.key"
    key.write_text("-----BEGIN PRIVATE KEY-----\n")
    env = Env({"PASAR_TLS_CERT": str(not_pem), "PASAR_TLS_KEY": str(key)})
    with pytest.raises(ConfigError, match="PASAR_TLS_CERT must name a PEM file"):
        ServerSettings.from_env(env, "127.0.0.1:50051")
