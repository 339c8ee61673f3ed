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

import peewee

from pasar.product.v1 import product_admin_service_pb2, product_service_pb2, product_service_pb2_grpc
from pasar_kit import database as db
from pasar_kit.cli import ExtraCommand, ServiceCli, open_service_database
from pasar_kit.config import Env
from pasar_kit.server import GrpcServer, ServiceRegistration
from pasar_product import config
from pasar_product.admin_auth import AdminGate
from pasar_product.demo import load_demo_catalog
from pasar_product.models import database_proxy
from pasar_product.servicer import ProductAdminServicer, ProductServicer
from pasar_product.stock import Stock, expiry_task
from pasar_product.synthetic import load_synthetic_catalog

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
PRODUCT_SERVICE = product_service_pb2.DESCRIPTOR.services_by_name["ProductService"]
ADMIN_SERVICE = product_admin_service_pb2.DESCRIPTOR.services_by_name["ProductAdminService"]
DEFAULT_SYNTHETIC_PRODUCTS = 1_000


def open_database(env: Env) -> peewee.Database:
    """The service's database from DATABASE_URL alone (and the pool size), so that migrate
    works whatever else is set wrong."""
    return open_service_database(
        env,
        database_proxy,
        config.DEFAULT_DATABASE_URL,
        connections_beside_workers=config.CONNECTIONS_BESIDE_WORKERS,
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
    stock = Stock(
        database,
        default_ttl=timedelta(seconds=settings.reservation_ttl_seconds),
        max_ttl=timedelta(seconds=settings.reservation_max_ttl_seconds),
    )
    return GrpcServer(
        settings.server,
        registrations(database, settings.admin_token, stock),
        database,
        background=[expiry_task(stock, settings.reservation_sweep_seconds)],
        callers=settings.callers,
    )


def service_cli(synthetic_products: int = DEFAULT_SYNTHETIC_PRODUCTS) -> ServiceCli:
    return ServiceCli(
        name="product",
        description="Pasar's catalog and inventory service (gRPC).",
        migrations_dir=MIGRATIONS_DIR,
        open_database=open_database,
        build_server=build_server,
        extra_commands={
            "load-demo": ExtraCommand(
                help="apply pending migrations, then add the demo catalog (what exists is left as it is)",
                run=lambda _env, database: _ignore(load_demo_catalog(migrated(database))),
            ),
            "load-synthetic": ExtraCommand(
                help="apply pending migrations, then add N generated products for the benchmarks "
                f"(--products N, default {DEFAULT_SYNTHETIC_PRODUCTS})",
                run=lambda _env, database: _ignore(
                    load_synthetic_catalog(migrated(database), synthetic_products)
                ),
            ),
        },
    )


def migrated(database: peewee.Database) -> peewee.Database:
    """The database with pending migrations applied, so a catalog loads into a fresh one too."""
    db.migrate(database, MIGRATIONS_DIR)
    return database


def _ignore(_summary: object) -> None:
    """The loaders log what they added; the command has nothing more to say."""


def _synthetic_options(arguments: Sequence[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="pasar-product load-synthetic", description="add N generated products for the benchmarks"
    )
    parser.add_argument("--products", type=_positive, default=DEFAULT_SYNTHETIC_PRODUCTS, metavar="N")
    return parser.parse_args(arguments)


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


def main(argv: Sequence[str] | None = None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    # The shared command line gives extra commands no options of their own, so the one
    # option of load-synthetic is read here before the rest is handed over.
    if arguments[:1] == ["load-synthetic"]:
        options = _synthetic_options(arguments[1:])
        return service_cli(options.products).main(arguments[:1])
    return service_cli().main(arguments)


if __name__ == "__main__":
    sys.exit(main())
