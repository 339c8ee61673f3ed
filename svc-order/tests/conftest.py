"""Fixtures of the order service's tests: fake peers, and the real order service on port 0.

``start_service`` runs the service exactly as ``pasar-order serve`` would (settings from an
environment, the kit's GrpcServer with its background tasks) but in this process, on
``database``: a fresh, migrated database of the kind under test (SQLite and MariaDB), with
the background intervals shortened so that retries and expiry happen within a test.
``service`` is one started with the defaults, ``stub`` its OrderService stub;
``fake_catalog``, ``fake_payments`` and ``fake_fulfillment`` are the fake peers it calls.
"""

# The fake servicers implement only the RPCs the order service calls.
# mypy: disable-error-code="abstract"

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import grpc
import peewee
import pytest
from fakes import FakeCatalog, FakeFulfillment, FakePayments

from pasar.common.v1 import trace_context_pb2
from pasar.common.v1.error_reason_pb2 import ErrorReason as CommonErrorReason
from pasar.fulfillment.v1 import fulfillment_pb2, fulfillment_service_pb2, fulfillment_service_pb2_grpc
from pasar.order.v1 import order_service_pb2, order_service_pb2_grpc
from pasar.payment.v1 import payment_service_pb2, payment_service_pb2_grpc
from pasar.product.v1 import product_pb2, product_service_pb2, product_service_pb2_grpc
from pasar_kit.config import Env
from pasar_kit.pipeline import CallPipeline
from pasar_kit.server import ServiceRegistration
from pasar_order.config import Settings
from pasar_order.fulfillment_events import CURSOR_NAME as FULFILLMENT_EVENTS
from pasar_order.main import MIGRATIONS_DIR, OrderService, assemble, open_database
from pasar_order.models import EventCursor
from pasar_testkit.assertions import error_metadata, reason_of
from pasar_testkit.certificates import ServerCertificates, make_server_certificates
from pasar_testkit.databases import migrated
from pasar_testkit.fake_server import FakeGrpcServer
from pasar_testkit.orders import create_order_request

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
def fake_catalog() -> FakeCatalog:
    servicer = FakeCatalog()
    servicer.add_package("pulsa-10k", price=10_500, stock=10)
    servicer.add_package("pulsa-25k", price=25_250, stock=10)
    servicer.add_package("data-5gb", price=55_000, stock=3, product_id="paket-data")
    # Products that ask for a destination (a Telkomsel number; a PLN meter), and a voucher that does not.
    servicer.add_package(
        "telkomsel-20k",
        price=20_500,
        stock=10,
        product_id="pulsa-telkomsel",
        destination_fields=[PHONE_NUMBER],
    )
    servicer.add_package(
        "token-pln-50k",
        price=51_000,
        stock=10,
        product_id="token-pln",
        delivery_kind=product_pb2.DELIVERY_KIND_ELECTRICITY_TOKEN,
        destination_fields=[METER_NUMBER],
    )
    servicer.add_package(
        "voucher-game-25k",
        price=25_000,
        stock=10,
        product_id="voucher-game",
        delivery_kind=product_pb2.DELIVERY_KIND_VOUCHER_CODE,
    )
    return servicer


PHONE_NUMBER = product_pb2.DestinationField(
    name="phone_number",
    label="Nomor HP",
    label_en="Phone number",
    pattern="[0-9]+",
    min_length=10,
    max_length=13,
    prefixes=["0811", "0812", "0813", "0821", "0822", "0823", "0851", "0852", "0853"],
    example="081234567890",
)
METER_NUMBER = product_pb2.DestinationField(
    name="meter_number",
    label="Nomor meter",
    label_en="Meter number",
    pattern="[0-9]{11,12}",
    min_length=11,
    max_length=12,
    example="12345678901",
    lookup_supported=True,
)


@pytest.fixture
def fake_payments() -> FakePayments:
    return FakePayments()


@pytest.fixture
def fake_fulfillment() -> FakeFulfillment:
    return FakeFulfillment()


@pytest.fixture
def catalog_server(fake_catalog: FakeCatalog) -> Iterator[FakeGrpcServer]:
    service = ServiceRegistration(
        product_service_pb2.DESCRIPTOR.services_by_name["ProductService"],
        lambda server: product_service_pb2_grpc.add_ProductServiceServicer_to_server(fake_catalog, server),
    )
    with fake_peer(service) as server:
        yield server


@pytest.fixture
def payments_server(fake_payments: FakePayments) -> Iterator[FakeGrpcServer]:
    service = ServiceRegistration(
        payment_service_pb2.DESCRIPTOR.services_by_name["PaymentService"],
        lambda server: payment_service_pb2_grpc.add_PaymentServiceServicer_to_server(fake_payments, server),
    )
    with fake_peer(service) as server:
        yield server


@pytest.fixture
def fulfillment_server(fake_fulfillment: FakeFulfillment) -> Iterator[FakeGrpcServer]:
    service = ServiceRegistration(
        fulfillment_service_pb2.DESCRIPTOR.services_by_name["FulfillmentService"],
        lambda server: fulfillment_service_pb2_grpc.add_FulfillmentServiceServicer_to_server(
            fake_fulfillment, server
        ),
    )
    with fake_peer(service) as server:
        yield server


@pytest.fixture
def peer_addresses(
    catalog_server: FakeGrpcServer, payments_server: FakeGrpcServer, fulfillment_server: FakeGrpcServer
) -> dict[str, str]:
    """The settings that point the order service at the fake peers."""
    return {
        "PASAR_PRODUCT_ADDRESS": catalog_server.address,
        "PASAR_PAYMENT_ADDRESS": payments_server.address,
        "PASAR_FULFILLMENT_ADDRESS": fulfillment_server.address,
    }


def fake_peer(service: ServiceRegistration) -> FakeGrpcServer:
    """A fake peer's server (started by ``with``), behind the kit's call pipeline so that the
    order service's requests are validated as the real service validates them."""
    return FakeGrpcServer([service], interceptors=[CallPipeline(None)], max_workers=64)


@pytest.fixture
def database(database_url: str) -> Iterator[peewee.Database]:
    """The service's database, bound and migrated, as `pasar-order serve` leaves it."""
    yield from migrated(open_database(Env({**TEST_ENV, "DATABASE_URL": database_url})), MIGRATIONS_DIR)


@dataclass
class RunningService:
    assembled: OrderService  # the server, and the parts tests reach into
    database: peewee.Database
    channel: grpc.Channel
    stub: order_service_pb2_grpc.OrderServiceStub
    mail_dir: Path

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.assembled.server.port}"

    def stop(self) -> None:
        self.channel.close()
        self.assembled.stop(grace=0)


StartService = Callable[..., RunningService]


@pytest.fixture
def start_service(
    database: peewee.Database,
    database_url: str,
    peer_addresses: dict[str, str],
    tmp_path: Path,
) -> Iterator[StartService]:
    """Starts the order service (again, after a stop) on the test's database, with env
    overrides; stops every one at the end."""
    running: list[RunningService] = []

    def start(**overrides: str) -> RunningService:
        env = Env(
            {
                **TEST_ENV,
                "DATABASE_URL": database_url,
                **peer_addresses,
                "PASAR_MAIL_DIR": str(tmp_path / "mail"),
                **overrides,
            }
        )
        settings = Settings.from_env(env)
        assembled = assemble(settings, database)
        port = assembled.server.start()
        channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        handle = RunningService(
            assembled,
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


@pytest.fixture
def service(start_service: StartService) -> RunningService:
    return start_service()


@pytest.fixture
def stub(service: RunningService) -> order_service_pb2_grpc.OrderServiceStub:
    return service.stub


def create_request(*lines: tuple[str, int], **fields: str) -> order_service_pb2.CreateOrderRequest:
    """pasar_testkit's CreateOrder request (request_id, email, channel, language), for one
    pulsa-10k unless lines say otherwise."""
    return create_order_request(*(lines or [("pulsa-10k", 1)]), **fields)


def with_destinations(
    request: order_service_pb2.CreateOrderRequest, **destinations: dict[str, str]
) -> order_service_pb2.CreateOrderRequest:
    """request with a destination on the lines of these packages (``token_pln_50k=`` names
    package token-pln-50k)."""
    for line in request.lines:
        line.destination.update(destinations.get(line.package_id.replace("-", "_"), {}))
    return request


def unavailable_service(error: grpc.RpcError) -> str:
    """The service an UNAVAILABLE answer of the order service names in its ErrorInfo.

    Fails the test unless the answer is UNAVAILABLE with the contract's ErrorInfo (reason
    DEPENDENCY_UNAVAILABLE): without it, callers take the order service itself for down."""
    assert error.code() == grpc.StatusCode.UNAVAILABLE, error
    assert reason_of(error) == CommonErrorReason.Name(CommonErrorReason.DEPENDENCY_UNAVAILABLE)
    metadata = error_metadata(error)
    assert set(metadata) == {"service"}
    return metadata["service"]


UNKNOWN_ORDER_ID = "ord_" + "0" * 32


def handle_event_of_unknown_order(
    service: RunningService, trace_context: trace_context_pb2.TraceContext | None = None
) -> None:
    """Hands the fulfillment consumer, as the first event it handles, a SUCCEEDED event of
    an order this service never had (another service's line); the consumer's thread may not
    have made its cursor row yet, so the row is deleted first: handle() makes it then."""
    stranger = fulfillment_pb2.FulfillmentEvent(
        sequence=1,
        type=fulfillment_pb2.FULFILLMENT_EVENT_TYPE_SUCCEEDED,
        fulfillment=fulfillment_pb2.Fulfillment(
            id="ful_" + "0" * 32,
            order_id=UNKNOWN_ORDER_ID,
            package_id="pulsa-10k",
            state=fulfillment_pb2.FULFILLMENT_STATE_SUCCEEDED,
        ),
        trace_context=trace_context,
    )
    with service.database.connection_context():
        EventCursor.delete().where(EventCursor.name == FULFILLMENT_EVENTS).execute()
        assert service.assembled.fulfillment_consumer.handle(stranger) is True
