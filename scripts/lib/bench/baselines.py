"""The baselines the gateway is judged against, served by one Flask app under gunicorn.

``python -m bench.baselines`` serves, with the gateway's own server settings (gunicorn
``gthread``, ``PASAR_GATEWAY_WORKERS`` workers of ``PASAR_GATEWAY_THREADS`` threads, the
same keep-alive), three routes:

- ``/hello``: a static answer, what the web server and Flask alone cost;
- ``/echo``: one gRPC call to ``grpc.health.v1.Health/Check`` of the product service over a
  long-lived channel (the kit's, as the gateway's), the ceiling of any route that makes
  one gRPC call;
- ``/api/v1/products`` and ``/api/v1/products/<id>``: the monolith, the catalog's own
  queries (:mod:`pasar_product.catalog`) run in the web process against the product
  database, and the same JSON document the gateway returns, built directly from the rows
  as a monolith would, with no protobuf in between, and encoded by the gateway's own
  encoder function (``pasar_gateway.transcoding.dumps``): the ratio measures the
  microservice hop, not a choice of JSON library. ``scripts/bench`` checks that both
  documents are equal before it measures anything.

Settings (environment): ``PASAR_LISTEN_ADDRESS``, ``DATABASE_URL`` (the product database),
``PASAR_PRODUCT_ADDRESS``, ``PASAR_GATEWAY_WORKERS``, ``PASAR_GATEWAY_THREADS``,
``PASAR_GATEWAY_KEEPALIVE_SECONDS``.
"""

from __future__ import annotations

import functools
import json
import sys
from datetime import datetime
from typing import Any

import flask
import peewee
from grpc_health.v1 import health_pb2, health_pb2_grpc
from gunicorn.app.base import BaseApplication  # type: ignore[import-untyped]

from pasar_gateway.transcoding import dumps
from pasar_kit import database as db
from pasar_kit.channels import open_channel
from pasar_kit.config import Env
from pasar_kit.errors import ServiceError
from pasar_kit.timestamps import as_utc
from pasar_product import catalog
from pasar_product.catalog import PackageView, ProductListing
from pasar_product.models import DeliveryKind, database_proxy

STATE_NAMES = {"ACTIVE": "PRODUCT_STATE_ACTIVE", "ARCHIVED": "PRODUCT_STATE_ARCHIVED"}
CURRENCY = "IDR"


def timestamp_json(value: datetime) -> str:
    """RFC 3339 in UTC with 0, 3 or 6 fractional digits, as the proto3 JSON mapping writes it."""
    value = as_utc(value)
    text = value.strftime("%Y-%m-%dT%H:%M:%S")
    if value.microsecond % 1000 == 0 and value.microsecond:
        text += f".{value.microsecond // 1000:03d}"
    elif value.microsecond:
        text += f".{value.microsecond:06d}"
    return text + "Z"


def money_json(amount: int) -> dict[str, Any]:
    return {"currencyCode": CURRENCY, "amount": str(amount)}


# A stored destination field's keys (the contract's field names), their JSON names and the
# value the JSON shows when one is absent (the gateway prints every field, defaults too).
DESTINATION_FIELD_KEYS: dict[str, tuple[str, Any]] = {
    "name": ("name", ""),
    "label": ("label", ""),
    "label_en": ("labelEn", ""),
    "hint": ("hint", ""),
    "hint_en": ("hintEn", ""),
    "pattern": ("pattern", ""),
    "min_length": ("minLength", 0),
    "max_length": ("maxLength", 0),
    "prefixes": ("prefixes", []),
    "example": ("example", ""),
    "lookup_supported": ("lookupSupported", False),
}


@functools.lru_cache(maxsize=4096)
def destination_fields_json(stored: str) -> list[dict[str, Any]]:
    """A product's stored destination fields (a JSON list) as the gateway's JSON shows them;
    read once per text, as the product service does. Callers only serialise the result."""
    return [
        {json_name: field.get(key, default) for key, (json_name, default) in DESTINATION_FIELD_KEYS.items()}
        for field in json.loads(stored)
    ]


def delivery_kind_json(kind: DeliveryKind | None) -> str:
    return f"DELIVERY_KIND_{kind.value if kind is not None else 'UNSPECIFIED'}"


def package_json(package: PackageView) -> dict[str, Any]:
    return {
        "id": package.id,
        "productId": package.product_id,
        "displayName": package.display_name,
        "description": package.description,
        "price": money_json(package.price),
        "stockAvailable": package.stock_available,
        "sortOrder": package.sort_order,
        "productDisplayName": package.product_display_name,
        "displayNameEn": package.display_name_en,
        "descriptionEn": package.description_en,
        "productDisplayNameEn": package.product_display_name_en,
        "destinationFields": destination_fields_json(package.destination_fields),
        "deliveryKind": delivery_kind_json(package.delivery_kind),
    }


def product_json(listing: ProductListing) -> dict[str, Any]:
    product = listing.product
    document: dict[str, Any] = {
        "id": product.id,
        "displayName": product.display_name,
        "description": product.description,
        "categoryId": product.category_id,
        "imageUrl": product.image_url,
        "state": STATE_NAMES[product.state],
        "packages": [package_json(package) for package in listing.packages],
    }
    if listing.min_price is not None:
        document["minPrice"] = money_json(listing.min_price)
    if listing.max_price is not None:
        document["maxPrice"] = money_json(listing.max_price)
    document["createTime"] = timestamp_json(product.create_time)
    document["updateTime"] = timestamp_json(product.update_time)
    document["destinationFields"] = destination_fields_json(product.destination_fields)
    document["deliveryKind"] = delivery_kind_json(product.delivery_kind)
    document["displayNameEn"] = product.display_name_en
    document["descriptionEn"] = product.description_en
    document["searchKeywords"] = list(product.search_keywords)
    return document


def json_response(document: Any, status: int = 200) -> flask.Response:
    """The document encoded as the gateway encodes its answers, by the same function."""
    return flask.Response(dumps(document), status=status, mimetype="application/json")


def create_app(env: Env) -> flask.Flask:
    """The baselines' application; one database pool and one channel per worker process."""
    app = flask.Flask("pasar_bench_baselines", static_folder=None)
    threads = env.integer("PASAR_GATEWAY_THREADS", 8, minimum=1)
    database: peewee.Database = db.bind(database_proxy, env.string("DATABASE_URL"), threads + 2)
    channel = open_channel(env.string("PASAR_PRODUCT_ADDRESS"), default_timeout=5.0)
    health: Any = health_pb2_grpc.HealthStub(channel)  # its stubs lack the Check attribute

    @app.get("/hello")
    def hello() -> flask.Response:
        return flask.Response(b"hello", mimetype="text/plain")

    @app.get("/echo")
    def echo() -> flask.Response:
        answer = health.Check(health_pb2.HealthCheckRequest(service=""), timeout=5.0)
        return json_response({"status": health_pb2.HealthCheckResponse.ServingStatus.Name(answer.status)})

    @app.get("/api/v1/products")
    def list_products() -> flask.Response:
        page_size = flask.request.args.get("pageSize", type=int, default=0)
        with database.connection_context():
            page = catalog.list_products(page_size, flask.request.args.get("pageToken", ""))
            document = {
                "products": [product_json(listing) for listing in page.products],
                "nextPageToken": page.next_page_token,
            }
        return json_response(document)

    @app.get("/api/v1/products/<product_id>")
    def get_product(product_id: str) -> flask.Response:
        try:
            with database.connection_context():
                document = product_json(catalog.get_product(product_id))
        except ServiceError as error:
            return json_response({"error": {"code": "NOT_FOUND", "message": str(error)}}, status=404)
        return json_response(document)

    return app


class BaselineServer(BaseApplication):  # type: ignore[misc]  # gunicorn is untyped
    """gunicorn with the gateway's settings (see pasar_gateway.main), without access logs."""

    def __init__(self, env: Env) -> None:
        self.env = env
        super().__init__(prog="pasar-bench-baselines")

    def load_config(self) -> None:
        env = self.env
        options = {
            "bind": [env.string("PASAR_LISTEN_ADDRESS")],
            "workers": env.integer("PASAR_GATEWAY_WORKERS", 2, minimum=1),
            "worker_class": "gthread",
            "threads": env.integer("PASAR_GATEWAY_THREADS", 8, minimum=1),
            "keepalive": env.integer("PASAR_GATEWAY_KEEPALIVE_SECONDS", 5, minimum=0),
            "reuse_port": True,
            "timeout": 30,
            "graceful_timeout": 3,
            "accesslog": None,
            "errorlog": "-",
            "loglevel": "warning",
            "preload_app": False,
            "control_socket_disable": True,
            "proc_name": "pasar-bench-baselines",
        }
        for key, value in options.items():
            self.cfg.set(key, value)

    def load(self) -> flask.Flask:
        return create_app(self.env)


def main() -> int:
    BaselineServer(Env()).run()
    return 0


if __name__ == "__main__":
    sys.exit(main())
