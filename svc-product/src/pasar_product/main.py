"""The console entry point: ``pasar-product [serve|migrate|load-demo|load-synthetic]``.

``serve`` (the default) applies pending migrations and serves ProductService and
ProductAdminService with health and reflection until SIGTERM; ``load-demo`` adds the demo
catalog; ``load-synthetic --products N`` adds a large generated one for the benchmarks.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import peewee

from pasar.product.v1 import product_admin_service_pb2, product_service_pb2, product_service_pb2_grpc
from pasar_kit.cli import ExtraCommand, ServiceCli, open_service_database
from pasar_kit.config import Env
from pasar_kit.leases import leased
from pasar_kit.server import GrpcServer, ServerSettings, ServiceRegistration
from pasar_product import config
from pasar_product.admin_auth import AdminGate
from pasar_product.demo import load_demo_catalog
from pasar_product.models import database_proxy
from pasar_product.servicer import ProductAdminServicer, ProductServicer
from pasar_product.stock import Stock, expiry_task
from pasar_product.synthetic import load_synthetic_catalog

if TYPE_CHECKING:
    from prometheus_client.registry import Collector

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
PRODUCT_SERVICE = product_service_pb2.DESCRIPTOR.services_by_name["ProductService"]
ADMIN_SERVICE = product_admin_service_pb2.DESCRIPTOR.services_by_name["ProductAdminService"]
DEFAULT_SYNTHETIC_PRODUCTS = 1_000
# The pool holds one connection per worker thread and these five: the health probe, the
# reservation expiry sweep and its lease keeper, the metrics scrape (stock_figures), and a spare.
CONNECTIONS_BESIDE_WORKERS = 5


def open_database(env: Env) -> peewee.Database:
    """The service's database from DATABASE_URL alone (and the pool size), so that migrate
    works whatever else is set wrong."""
    return open_service_database(
        env,
        database_proxy,
        config.DEFAULT_DATABASE_URL,
        connections_beside_workers=CONNECTIONS_BESIDE_WORKERS,
        default_workers=config.DEFAULT_WORKERS,
    )


def registrations(database: peewee.Database, admin_token: str, stock: Stock) -> list[ServiceRegistration]:
    """The two services; the admin one behind the gate that checks the administrator's token."""
    products = ProductServicer(stock)
    admin_gate = AdminGate(ADMIN_SERVICE, ProductAdminServicer(database), admin_token)
    return [
        ServiceRegistration(
            PRODUCT_SERVICE,
            lambda server: product_service_pb2_grpc.add_ProductServiceServicer_to_server(products, server),
        ),
        ServiceRegistration(ADMIN_SERVICE, lambda server: server.add_generic_rpc_handlers([admin_gate])),
    ]


def build_server(env: Env, database: peewee.Database) -> GrpcServer:
    settings = config.Settings.from_env(env)
    return server_from(settings, database, settings.server)


def server_from(settings: config.Settings, database: peewee.Database, server: ServerSettings) -> GrpcServer:
    """The service's server, listening and measuring as server says (a forked worker's
    settings differ from the configured ones: pasar_kit.cli)."""
    stock = Stock(
        database,
        default_ttl=timedelta(seconds=settings.reservation_ttl_seconds),
        max_ttl=timedelta(seconds=settings.reservation_max_ttl_seconds),
    )
    return GrpcServer(
        server,
        registrations(database, settings.admin_token, stock),
        database,
        # One loop over every reservation: it runs in the one process holding its lease.
        background=[
            leased(
                "reservation-expiry",
                expiry_task(stock, settings.reservation_sweep_seconds),
                database,
                settings.job_lease,
            )
        ],
        callers=settings.callers,
        collectors=figures(server, database),
    )


def figures(server: ServerSettings, database: peewee.Database) -> list[Collector]:
    """The reservations' scrape-time figures (pasar_product.stock_figures), when metrics are on
    (prometheus-client is imported only then)."""
    if server.metrics_address is None:
        return []
    from pasar_product.stock_figures import ReservationFigures  # noqa: PLC0415 - prometheus only when on

    return [ReservationFigures(database)]


def _synthetic_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--products",
        type=_positive,
        default=DEFAULT_SYNTHETIC_PRODUCTS,
        metavar="N",
        help=f"how many products (default {DEFAULT_SYNTHETIC_PRODUCTS})",
    )


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def _load_demo(_env: Env, database: peewee.Database, _options: argparse.Namespace) -> None:
    load_demo_catalog(database)  # it logs what it added


def _load_synthetic(_env: Env, database: peewee.Database, options: argparse.Namespace) -> None:
    load_synthetic_catalog(database, options.products)  # it logs what it added


CLI = ServiceCli(
    name="product",
    description="Pasar's catalog and inventory service (gRPC).",
    migrations_dir=MIGRATIONS_DIR,
    open_database=open_database,
    read_settings=config.Settings.from_env,
    build_server=server_from,
    figures=lambda settings, database: figures(settings.server, database),
    extra_commands={
        "load-demo": ExtraCommand(
            help="apply pending migrations, then add the demo catalog (what exists is left as it is)",
            run=_load_demo,
            migrates_first=True,
        ),
        "load-synthetic": ExtraCommand(
            help="apply pending migrations, then add N generated products for the benchmarks",
            run=_load_synthetic,
            add_arguments=_synthetic_options,
            migrates_first=True,
        ),
    },
)


def main(argv: Sequence[str] | None = None) -> int:
    return CLI.main(argv)


if __name__ == "__main__":
    sys.exit(main())
