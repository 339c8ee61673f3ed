"""Fixtures of the catalog's tests: a migrated database of each kind, and the real server on it.

``database_url`` (pasar_kit's plugin) makes every test that uses these fixtures run on a
fresh SQLite file and on a fresh MariaDB database. ``server`` is the service as
``pasar-product serve`` builds it (main.build_server), started in-process on port 0;
tests call it through real channels and the generated stubs.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import peewee
import pytest
from support import ADMIN_TOKEN, Admin

from pasar.product.v1 import product_service_pb2_grpc
from pasar_kit import database as db
from pasar_kit.config import Env
from pasar_kit.server import GrpcServer
from pasar_product.main import MIGRATIONS_DIR, build_server
from pasar_product.models import database_proxy
from pasar_testkit.callers import as_order_service

pytest_plugins = ["pasar_testkit.fixtures"]

SERVER_ENV = {
    "PASAR_ENV": "development",
    "PASAR_LISTEN_ADDRESS": "127.0.0.1:0",
    "PASAR_ADMIN_TOKEN": ADMIN_TOKEN,
    "PASAR_GRPC_WORKERS": "16",
    "PASAR_SHUTDOWN_GRACE_SECONDS": "1",
    "PASAR_HEALTH_PROBE_SECONDS": "0.2",
}


@pytest.fixture
def database(database_url: str) -> Iterator[peewee.Database]:
    """A fresh, migrated database with the service's models bound to it."""
    database = db.bind(database_proxy, database_url, max_connections=24)
    db.migrate(database, MIGRATIONS_DIR)
    try:
        yield database
    finally:
        db.close_pool(database)


@pytest.fixture
def connected(database: peewee.Database) -> Iterator[peewee.Database]:
    """The database with a connection open for the test's own thread (domain tests)."""
    with database.connection_context():
        yield database


@pytest.fixture
def server(database: peewee.Database) -> Iterator[GrpcServer]:
    server = build_server(Env(SERVER_ENV), database)
    server.start()
    try:
        yield server
    finally:
        server.stop(grace=0)


@pytest.fixture
def channel(server: GrpcServer) -> Iterator[grpc.Channel]:
    """A channel of the order service, the one caller of the internal methods."""
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        yield as_order_service(channel)


@pytest.fixture
def products(channel: grpc.Channel) -> product_service_pb2_grpc.ProductServiceStub:
    return product_service_pb2_grpc.ProductServiceStub(channel)


@pytest.fixture
def admin(channel: grpc.Channel) -> Admin:
    return Admin(channel)
