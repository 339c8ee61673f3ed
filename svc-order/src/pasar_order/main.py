"""The ``pasar-order`` command: ``serve`` (the default) and ``migrate``.

``assemble`` wires the service once: one channel per peer, the checkout, the settlement
of payments, and the background tasks the server runs beside the RPCs (the payment- and
fulfillment-event consumers, the e-mail, reservation, fulfillment and refund dispatchers,
the sweeper). The consumers and the sweeper are each one loop over the whole service: they
run in the one process holding their lease (pasar_kit.leases), whatever the number of
worker processes and instances. The dispatchers claim their rows one by one and run in
every process, so that a doorbell rung by a change wakes the process that queued the work.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import peewee

from pasar.order.v1 import order_service_pb2, order_service_pb2_grpc
from pasar_kit.background import Doorbell, loop_task
from pasar_kit.cli import ServiceCli, open_service_database
from pasar_kit.config import ConfigError, Env
from pasar_kit.leases import leased
from pasar_kit.server import GrpcServer, ServerSettings, ServiceRegistration
from pasar_order.checkout import Checkout
from pasar_order.config import DEFAULT_DATABASE_URL, Settings
from pasar_order.emails import Composer
from pasar_order.fulfillment_events import FulfillmentEventConsumer
from pasar_order.fulfillment_requests import FulfillmentDispatcher
from pasar_order.intents import Compensation
from pasar_order.lookups import OrderLookup
from pasar_order.mail_outbox import MailDispatcher
from pasar_order.mail_transport import transport_for
from pasar_order.models import database_proxy
from pasar_order.payment_channels import PaymentChannelDirectory
from pasar_order.payment_events import PaymentEventConsumer
from pasar_order.peers import Peers
from pasar_order.refunds import RefundDispatcher
from pasar_order.reservations import ReservationDispatcher
from pasar_order.servicer import OrderServicer
from pasar_order.settlement import Doorbells, OrderSettler
from pasar_order.sweeper import Sweeper
from pasar_order.work_queue import Backoff

if TYPE_CHECKING:
    from prometheus_client.registry import Collector

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
ORDER_SERVICE = order_service_pb2.DESCRIPTOR.services_by_name["OrderService"]
# The pool's connections beside one per RPC worker (open_service_database): one each for
# the threads that hold at most one while they work (the health probe, the payment- and
# fulfillment-event consumers, the mail, reservation, fulfillment and refund dispatchers,
# the sweeper, the three keepers of those jobs' leases, a metrics scrape), and a spare.
BACKGROUND_CONNECTIONS = 13
# On SQLite the pool opens at most this many connections, however many threads want one;
# the others wait for one handed back (pasar_kit.database.POOL_TIMEOUT). A pool opens a
# connection whenever none is idle, so it grew to the most threads ever busy at once (17-19
# under the bench's checkout load on SQLite), each connection keeping its own statements and
# page cache; yet SQLite lets one writer in at a time, and no thread holds a connection while
# it waits: writers queue for this process's write lock without one (pasar_kit.database
# .atomic_write), a checkout and the dispatchers hand theirs back while a peer answers, and a
# retried checkout while it waits for the first attempt (nothing may wait on another call
# holding one). svc-order's peak RSS after the checkout then delivery loads, fresh shops side
# by side: unbounded 79.2-81.0 MB (seven runs, mean 80.3), 8 connections 77.3-77.9, 6:
# 77.1-77.2 (three runs each). Before writers waited without a connection, 6 cost 3-7% CPU
# per checkout (they queued for connections); since, 6 costs none against 8: servers' CPU per
# checkout 0.96 and 1.00 of 8's (medians of 6 alternating pairs, two runs), and per delivered
# checkout (the bench's checkout_with_fulfillment) 0.99 (six pairs, a busy machine). At 4
# checkouts queue for connections again: 0.85 of the req/s, 1.04 the CPU.
SQLITE_CONNECTIONS = 6


@dataclass
class OrderService:
    """The assembled service: its server, and the parts tests reach into."""

    server: GrpcServer
    peers: Peers
    checkout: Checkout
    settler: OrderSettler
    consumer: PaymentEventConsumer
    mail: MailDispatcher
    reservations: ReservationDispatcher
    sweeper: Sweeper
    fulfillment_consumer: FulfillmentEventConsumer
    fulfillments: FulfillmentDispatcher
    refunds: RefundDispatcher

    def stop(self, grace: float | None = None) -> None:
        self.server.stop(grace)
        self.peers.close()


def assemble(settings: Settings, database: peewee.Database) -> OrderService:
    background = settings.background
    check_settings(settings)
    lease = timedelta(seconds=background.checkout_lease_seconds)
    peers = Peers(
        settings.product_address,
        settings.payment_address,
        settings.fulfillment_address,
        timeout=settings.peer_timeout_seconds,
        tls=settings.client_tls,
        caller_token=settings.caller_token,
    )
    doorbells = Doorbells(
        mail=Doorbell(), reservations=Doorbell(), fulfillments=Doorbell(), refunds=Doorbell()
    )
    settler = OrderSettler(database, peers, doorbells)
    compensation = Compensation(database, peers, settler)
    checkout = Checkout(
        database=database,
        peers=peers,
        channels=PaymentChannelDirectory(peers),
        compensation=compensation,
        doorbells=doorbells,
        token_secret=settings.token_secret,
        lease=lease,
    )
    backoff = Backoff(background.retry_seconds, background.retry_max_seconds)
    composer = Composer(
        sender=settings.mail.sender,
        storefront_url=settings.storefront_url,
        token_secret=settings.token_secret,
    )
    mail = MailDispatcher(composer, transport_for(settings.mail), backoff)
    reservations = ReservationDispatcher(database, peers, backoff)
    lookup = OrderLookup(database, settings.lookup, settings.token_secret)
    sweeper = Sweeper(compensation, settler, lease, lookup)
    consumer = PaymentEventConsumer(database, peers, doorbells, background.event_stream_seconds)
    fulfillment_consumer = FulfillmentEventConsumer(
        database, peers, doorbells, background.event_stream_seconds
    )
    fulfillments = FulfillmentDispatcher(database, peers, backoff, doorbells)
    refunds = RefundDispatcher(database, peers, backoff, doorbells)

    def loop(
        name: str, work: Callable[[], bool], interval: float, doorbell: Doorbell | None = None
    ) -> Callable[[threading.Event], None]:
        """A loop whose rounds each hold one connection of the pool."""

        def connected_round() -> bool:
            with database.connection_context():
                return work()

        return loop_task(name, connected_round, interval, doorbell)

    tasks: Sequence[Callable[[threading.Event], None]] = [
        leased("payment-events", consumer.run, database, background.job_lease),
        leased("fulfillment-events", fulfillment_consumer.run, database, background.job_lease),
        loop("mail-outbox", mail.run_due, background.poll_seconds, doorbells.mail),
        loop("reservation-steps", reservations.run_due, background.poll_seconds, doorbells.reservations),
        loop("fulfillment-requests", fulfillments.run_due, background.poll_seconds, doorbells.fulfillments),
        loop("refunds", refunds.run_due, background.poll_seconds, doorbells.refunds),
        leased(
            "sweeper",
            loop("sweeper", sweeper.sweep, background.sweep_seconds),
            database,
            background.job_lease,
        ),
    ]
    servicer = OrderServicer(checkout, settler, lookup)
    registration = ServiceRegistration(
        ORDER_SERVICE,
        lambda server: order_service_pb2_grpc.add_OrderServiceServicer_to_server(servicer, server),
    )
    server = GrpcServer(
        settings.server, [registration], database, background=tasks, collectors=figures(settings, database)
    )
    return OrderService(
        server,
        peers,
        checkout,
        settler,
        consumer,
        mail,
        reservations,
        sweeper,
        fulfillment_consumer,
        fulfillments,
        refunds,
    )


def figures(settings: Settings, database: peewee.Database) -> list[Collector]:
    """The order figures' scrape-time collector (pasar_order.figures), when metrics are on
    (prometheus-client is imported only then)."""
    if settings.server.metrics_address is None:
        return []
    from pasar_order.figures import OrderFigures  # noqa: PLC0415 - prometheus only when on

    return [OrderFigures(database)]


def open_database(env: Env) -> peewee.Database:
    """The service's database from DATABASE_URL alone (and the pool size), so that migrate
    works whatever else is set wrong (SMTP_URL, say)."""
    return open_service_database(
        env,
        database_proxy,
        DEFAULT_DATABASE_URL,
        connections_beside_workers=BACKGROUND_CONNECTIONS,
        sqlite_connections=SQLITE_CONNECTIONS,
    )


def build_server(env: Env, database: peewee.Database) -> GrpcServer:
    return assemble(Settings.from_env(env), database).server


def check_settings(settings: Settings) -> None:
    """What no single setting says alone; ConfigError naming the variables."""
    if settings.background.checkout_lease_seconds < 3 * settings.peer_timeout_seconds:
        raise ConfigError(
            "PASAR_CHECKOUT_LEASE_SECONDS must be at least three times PASAR_PEER_TIMEOUT_SECONDS, "
            "so that a checkout in progress is never taken for a crashed one"
        )


def read_settings(env: Env) -> Settings:
    """Every setting, checked, with nothing built (pasar_kit.cli.ServiceCli.read_settings)."""
    settings = Settings.from_env(env)
    check_settings(settings)
    return settings


def server_from(settings: Settings, database: peewee.Database, server: ServerSettings) -> GrpcServer:
    """The service's server, listening and measuring as server says (a forked worker's
    settings differ from the configured ones: pasar_kit.cli)."""
    return assemble(replace(settings, server=server), database).server


CLI = ServiceCli(
    name="order",
    description="Pasar's order service: checkout, order state, and order e-mails.",
    migrations_dir=MIGRATIONS_DIR,
    open_database=open_database,
    read_settings=read_settings,
    build_server=server_from,
    figures=figures,
)


def main(argv: Sequence[str] | None = None) -> int:
    return CLI.main(argv)
