"""The console entry point: ``pasar-payment [serve|migrate]``."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import TYPE_CHECKING

import peewee

from pasar.payment.v1 import payment_service_pb2, payment_service_pb2_grpc
from pasar_kit.cli import ServiceCli, open_service_database
from pasar_kit.config import Env
from pasar_kit.leases import leased
from pasar_kit.server import GrpcServer, ServerSettings, ServiceRegistration
from pasar_payment import config
from pasar_payment.channels import PaymentWindows
from pasar_payment.config import DEMO_FAKE_PAYMENTS, SANDBOX, Settings
from pasar_payment.event_stream import EventStreams
from pasar_payment.events import EventFeed
from pasar_payment.expiry import expiry_task
from pasar_payment.host_bell import HostBell, database_identity
from pasar_payment.models import database_proxy
from pasar_payment.payments import PaymentBook
from pasar_payment.providers.base import PaymentProvider
from pasar_payment.providers.sandbox import SandboxProvider
from pasar_payment.refunds import PaymentRefunder
from pasar_payment.servicer import PaymentServicer
from pasar_payment.settlement import PaymentSettler

if TYPE_CHECKING:
    from prometheus_client.registry import Collector

log = logging.getLogger(__name__)
MIGRATIONS_DIR = Path(__file__).parent / "migrations"
PAYMENT_SERVICE = payment_service_pb2.DESCRIPTOR.services_by_name["PaymentService"]
# The pool holds one connection per worker thread and these five: the health probe's, the
# expiry sweep's and its lease keeper's, the metrics scrape's (stream_figures), and the kit's
# one spare. The event streams need none of their own: each runs on a worker thread and
# borrows a connection only for each look at the log.
CONNECTIONS_BESIDE_WORKERS = 5


def open_database(env: Env) -> peewee.Database:
    """The service's database from DATABASE_URL alone (and the pool size), so that migrate
    works whatever else is set wrong."""
    return open_service_database(
        env,
        database_proxy,
        config.DEFAULT_DATABASE_URL,
        connections_beside_workers=CONNECTIONS_BESIDE_WORKERS,
    )


def open_provider(settings: Settings) -> PaymentProvider:
    """The provider settings name (config.PROVIDERS lists those this build knows)."""
    if settings.provider == SANDBOX:
        return SandboxProvider(settings.webhook_secret)
    raise ValueError(f"no payment provider {settings.provider!r}")


def build_server(env: Env, database: peewee.Database, provider: PaymentProvider | None = None) -> GrpcServer:
    """The payment service's server; provider replaces the configured one (tests)."""
    settings = Settings.from_env(env)
    return server_from(settings, database, settings.server, provider)


def server_from(
    settings: Settings,
    database: peewee.Database,
    server: ServerSettings,
    provider: PaymentProvider | None = None,
) -> GrpcServer:
    """The service's server, listening and measuring as server says (a forked worker's
    settings differ from the configured ones: pasar_kit.cli)."""
    provider = provider or open_provider(settings)
    if settings.demo:
        log.warning(
            f"a demo shop: the sandbox settles payments on request ({DEMO_FAKE_PAYMENTS}=true),"
            " so anyone holding a payment id can mark it paid; no real money moves"
        )
    feed = EventFeed(HostBell(database_identity(database)))
    windows = PaymentWindows(settings.payment_ttl_max_seconds)
    servicer = PaymentServicer(
        PaymentBook(database, provider, feed, windows),
        PaymentSettler(
            database, provider, settings.webhook_secret, feed, sandbox_enabled=settings.sandbox_enabled
        ),
        PaymentRefunder(database, provider, feed),
        EventStreams(database, feed, settings.event_poll_seconds),
        windows,
    )
    registration = ServiceRegistration(
        PAYMENT_SERVICE,
        lambda server: payment_service_pb2_grpc.add_PaymentServiceServicer_to_server(servicer, server),
    )
    return GrpcServer(
        server,
        [registration],
        database,
        background=[
            # One loop over every due payment: it runs in the one process holding its lease.
            leased(
                "payment-expiry",
                expiry_task(database, feed, settings.expiry_sweep_seconds),
                database,
                settings.job_lease,
            ),
            feed.close_when_set,
            feed.listen_to_host,
        ],
        callers=settings.callers,
        collectors=figures(server, database),
    )


def figures(server: ServerSettings, database: peewee.Database) -> list[Collector]:
    """The event stream's scrape-time figure (pasar_payment.stream_figures), when metrics are on
    (prometheus-client is imported only then)."""
    if server.metrics_address is None:
        return []
    from pasar_payment.stream_figures import EventStreamFigures  # noqa: PLC0415 - prometheus only when on

    return [EventStreamFigures(database)]


CLI = ServiceCli(
    name="payment",
    description=(
        "Pasar's payment service: payment channels, payments, settlement, refunds and payment events."
    ),
    migrations_dir=MIGRATIONS_DIR,
    open_database=open_database,
    read_settings=Settings.from_env,
    build_server=server_from,
    figures=lambda settings, database: figures(settings.server, database),
)


def main() -> int:
    return CLI.main()
