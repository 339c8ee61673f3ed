"""Fixtures of the order service's tests: fake peers, and the real order service on port 0.

``start_order`` runs the service exactly as ``pasar-order serve`` would (settings from an
environment, migrations, the kit's GrpcServer with its background tasks) but in this
process, on a fresh database of the kind under test (SQLite and MariaDB), with the
background intervals shortened so that retries and expiry happen within a test.
"""

# The fake servicers implement only the RPCs the order service calls.
# mypy: disable-error-code="abstract"

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import peewee
import pytest
from certificates import ServerCertificates, make_server_certificates
from fakes import FakeCatalog, FakePayments, FakeServer
from playhouse.pool import PooledDatabase

from pasar.order.v1 import order_service_pb2, order_service_pb2_grpc
from pasar_kit import database as db
from pasar_kit.config import Env
from pasar_kit.errors import error_info
from pasar_order.config import Settings
from pasar_order.main import MIGRATIONS_DIR, OrderService, assemble, open_database

pytest_plugins = ["pasar_testkit.fixtures"]

TEST_ENV = {
    "PASAR_ENV": "development",
    "PASAR_LOG_LEVEL": "warning",
    "PASAR_LISTEN_ADDRESS": "127.0.0.1:0",
    "PASAR_GRPC_WORKERS": "16",
    "PASAR_HEALTH_PROBE_SECONDS": "0.5",
    "PASAR_PEER_TIMEOUT_SECONDS": "1",
    "PASAR_CHECKOUT_LEASE_SECONDS": "3",
    "PASAR_OUTBOX_POLL_SECONDS": "0.05",
    "PASAR_OUTBOX_RETRY_SECONDS": "0.1",
    "PASAR_OUTBOX_RETRY_MAX_SECONDS": "0.4",
    "PASAR_ORDER_SWEEP_SECONDS": "0.1",
    "PASAR_STOREFRONT_URL": "http://shop.test",
}


@pytest.fixture(scope="session")
def server_certificates(tmp_path_factory: pytest.TempPathFactory) -> ServerCertificates:
    """A CA and a certificate for 127.0.0.1 signed by it (an SMTP server with STARTTLS)."""
    return make_server_certificates(tmp_path_factory.mktemp("smtp-tls"))


@pytest.fixture
def catalog() -> FakeCatalog:
    servicer = FakeCatalog()
    servicer.add_package("pulsa-10k", price=10_500, stock=10)
    servicer.add_package("pulsa-25k", price=25_250, stock=10)
    servicer.add_package("data-5gb", price=55_000, stock=3, product_id="paket-data")
    return servicer


@pytest.fixture
def payments() -> FakePayments:
    return FakePayments()


@pytest.fixture
def catalog_server(catalog: FakeCatalog) -> Iterator[FakeServer]:
    server = FakeServer(catalog)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def payments_server(payments: FakePayments) -> Iterator[FakeServer]:
    server = FakeServer(payments)
    server.start()
    yield server
    server.stop()


@dataclass
class RunningOrderService:
    service: OrderService
    database: peewee.Database
    channel: grpc.Channel
    stub: order_service_pb2_grpc.OrderServiceStub
    mail_dir: Path

    def stop(self) -> None:
        self.channel.close()
        self.service.stop(grace=0)


StartOrder = Callable[..., RunningOrderService]


@pytest.fixture
def start_order(
    database_url: str, catalog_server: FakeServer, payments_server: FakeServer, tmp_path: Path
) -> Iterator[StartOrder]:
    """Starts the order service (again, after a stop) on the test's database."""
    running: list[RunningOrderService] = []
    migrated = False

    def start(**overrides: str) -> RunningOrderService:
        nonlocal migrated
        env = Env(
            {
                **TEST_ENV,
                "DATABASE_URL": database_url,
                "PASAR_PRODUCT_ADDRESS": catalog_server.address,
                "PASAR_PAYMENT_ADDRESS": payments_server.address,
                "PASAR_MAIL_DIR": str(tmp_path / "mail"),
                **overrides,
            }
        )
        database = open_database(env)
        if not migrated:
            db.migrate(database, MIGRATIONS_DIR)
            migrated = True
        settings = Settings.from_env(env)
        service = assemble(settings, database)
        port = service.server.start()
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        handle = RunningOrderService(
            service,
            database,
            channel,
            order_service_pb2_grpc.OrderServiceStub(channel),
            settings.mail.mail_dir,
        )
        running.append(handle)
        return handle

    yield start
    for handle in running:
        handle.stop()
    for handle in running:
        if isinstance(handle.database, PooledDatabase):
            handle.database.close_all()


@pytest.fixture
def order_service(start_order: StartOrder) -> RunningOrderService:
    return start_order()


def create_request(
    *lines: tuple[str, int],
    request_id: str = "",
    email: str = "budi@example.co.id",
    channel: str = "bca_va",
    language: str = "",
) -> order_service_pb2.CreateOrderRequest:
    return order_service_pb2.CreateOrderRequest(
        request_id=request_id,
        customer_email=email,
        lines=[
            order_service_pb2.CreateOrderLine(package_id=p, quantity=q)
            for p, q in lines or [("pulsa-10k", 1)]
        ],
        payment_channel_code=channel,
        language_code=language,
    )


def refused(call: Callable[[], object]) -> grpc.RpcError:
    """The error of a call that must fail."""
    with pytest.raises(grpc.RpcError) as caught:
        call()
    return caught.value


def reason(error: grpc.RpcError) -> str:
    """The ErrorInfo reason of a failed call."""
    info = error_info(error)
    return info.reason if info else ""


def unavailable_service(error: grpc.RpcError) -> str:
    """The service an UNAVAILABLE answer of the order service names in its ErrorInfo.

    Fails the test unless the answer is UNAVAILABLE with the contract's ErrorInfo (reason
    DEPENDENCY_UNAVAILABLE): without it, callers take the order service itself for down."""
    assert error.code() == grpc.StatusCode.UNAVAILABLE, error
    info = error_info(error)
    assert info is not None, "an UNAVAILABLE the order service sends carries ErrorInfo"
    assert info.reason == "DEPENDENCY_UNAVAILABLE"
    assert info.domain == "pasar.shop"
    assert set(info.metadata) == {"service"}
    return info.metadata["service"]


def eventually(check: Callable[[], bool], timeout: float = 10.0, message: str = "") -> None:
    """Waits until check() is true (background work is asynchronous), or fails the test."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            pytest.fail(f"not true after {timeout}s: {message or check}")
        time.sleep(0.02)
