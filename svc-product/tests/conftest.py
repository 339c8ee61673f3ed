"""Fixtures of the catalog's tests: a migrated database of each kind, and the real server on it.

The fixture names are every service's (``database``, ``start_service``, ``service``,
``stub``, and the catalog's ``admin_stub``); failed calls are read with pasar_testkit's
assertion helpers. ``database_url`` (pasar_testkit's plugin) makes every test that uses
these fixtures run on a fresh SQLite file and on a fresh MariaDB database. A service is
the one ``pasar-product serve`` builds (main.build_server), started in process on a free
port; tests call it through real channels and the generated stubs.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass

import grpc
import peewee
import pytest
from support import ADMIN_TOKEN, Admin

from pasar.product.v1 import product_admin_service_pb2_grpc, product_service_pb2_grpc
from pasar_kit.config import Env
from pasar_kit.server import GrpcServer
from pasar_product.main import MIGRATIONS_DIR, build_server, open_database
from pasar_testkit.callers import as_order_service
from pasar_testkit.databases import migrated

pytest_plugins = ["pasar_testkit.fixtures"]


def service_env(database_url: str, **overrides: str) -> Env:
    return Env(
        {
            "PASAR_ENV": "development",
            "DATABASE_URL": database_url,
            "PASAR_LISTEN_ADDRESS": "127.0.0.1:0",
            "PASAR_ADMIN_TOKEN": ADMIN_TOKEN,
            "PASAR_GRPC_WORKERS": "16",
            "PASAR_SHUTDOWN_GRACE_SECONDS": "1",
            "PASAR_HEALTH_PROBE_SECONDS": "0.2",
            **overrides,
        }
    )


@pytest.fixture
def database(database_url: str) -> Iterator[peewee.Database]:
    """The service's database, bound and migrated, as `pasar-product serve` leaves it."""
    yield from migrated(open_database(service_env(database_url)), MIGRATIONS_DIR)


@pytest.fixture
def connected(database: peewee.Database) -> Iterator[peewee.Database]:
    """The database with a connection open for the test's own thread (domain tests)."""
    with database.connection_context():
        yield database


@dataclass
class RunningService:
    server: GrpcServer
    channel: grpc.Channel  # with the order service's caller credential
    stub: product_service_pb2_grpc.ProductServiceStub
    admin_stub: product_admin_service_pb2_grpc.ProductAdminServiceStub  # calls carry no token
    database: peewee.Database

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.port}"


StartService = Callable[..., RunningService]


@pytest.fixture
def start_service(database_url: str, database: peewee.Database) -> Iterator[StartService]:
    """Starts catalog servers (in process, on free ports) on the test's database with env
    overrides; stops every one at the end."""
    started: list[RunningService] = []

    def start(**env: str) -> RunningService:
        server = build_server(service_env(database_url, **env), database)
        port = server.start()
        channel = as_order_service(grpc.insecure_channel(f"127.0.0.1:{port}"))
        running = RunningService(
            server,
            channel,
            product_service_pb2_grpc.ProductServiceStub(channel),
            product_admin_service_pb2_grpc.ProductAdminServiceStub(channel),
            database,
        )
        started.append(running)
        return running

    yield start
    for running in started:
        running.channel.close()
        running.server.stop(grace=0)


@pytest.fixture
def service(start_service: StartService) -> RunningService:
    return start_service()


@pytest.fixture
def stub(service: RunningService) -> product_service_pb2_grpc.ProductServiceStub:
    return service.stub


@pytest.fixture
def admin_stub(service: RunningService) -> product_admin_service_pb2_grpc.ProductAdminServiceStub:
    return service.admin_stub


@pytest.fixture
def admin(admin_stub: product_admin_service_pb2_grpc.ProductAdminServiceStub) -> Admin:
    """ProductAdminService with the administrator's token on every call, and catalog shortcuts."""
    return Admin(admin_stub)
