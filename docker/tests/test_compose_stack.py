"""The compose stack, run as compose runs it (compose_stack.py), on the MariaDB server the tests start.

Each service runs from its image's environment with compose's variables, reaches MySQL as
its own least-privilege user made by the compose init script, applies its migrations, and
then the shop works: the demo catalog is there, a checkout over gRPC (to the destination
each product asks for) ends with a delivered order and its e-mails, and the storefront's
nginx passes the API to the gateway. The fulfillment service is the Go binary, started as
its image's entry point with compose's variables, on its own database too. Once
in plain text, once with compose.tls.yaml (mutual TLS between gateway and services, the
health checks speaking TLS too). Every component sends its traces where compose says (to a
real Jaeger here) under the name compose gives it, and serves its metrics on its own listener.
"""

from __future__ import annotations

import secrets
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import grpc
import pymysql
import pytest
import requests
from compose_stack import ComposeStack
from deploy_tools import DeployTools
from image_build import ImageEnvironments

from pasar.fulfillment.v1 import fulfillment_pb2, fulfillment_service_pb2_grpc
from pasar.order.v1 import order_pb2, order_service_pb2, order_service_pb2_grpc
from pasar.payment.v1 import payment_service_pb2, payment_service_pb2_grpc
from pasar.product.v1 import product_service_pb2, product_service_pb2_grpc
from pasar_kit.channels import ClientTls, open_channel
from pasar_testkit.jaeger import JaegerServer
from pasar_testkit.mariadb import MariaDBServer
from pasar_testkit.waiting import wait_for

pytestmark = pytest.mark.mariadb

SERVICES = ("product", "payment", "order", "fulfillment")
# Where each service's migration tool records what it applied (peewee-migrate; Go's goose).
MIGRATION_TABLES = {
    "product": "migratehistory",
    "payment": "migratehistory",
    "order": "migratehistory",
    "fulfillment": "goose_db_version",
}
DEADLINE = 15.0
INDEX = "<!doctype html><title>Pasar</title><div id=app></div>"


@dataclass
class Shop:
    """The running stack and stubs to its services, as the gateway calls them."""

    stack: ComposeStack
    channels: dict[str, grpc.Channel]
    tls: ClientTls | None

    def stub(self, service: str) -> Any:
        stubs = {
            "product": product_service_pb2_grpc.ProductServiceStub,
            "payment": payment_service_pb2_grpc.PaymentServiceStub,
            "order": order_service_pb2_grpc.OrderServiceStub,
            "fulfillment": fulfillment_service_pb2_grpc.FulfillmentServiceStub,
        }
        return stubs[service](self.channels[service])

    def database_url(self, service: str) -> str:
        return self.stack.containers[service].env["DATABASE_URL"]


@pytest.fixture(scope="module", params=["plain", "mtls"])
def shop(
    request: pytest.FixtureRequest,
    tools: DeployTools,
    image_environments: ImageEnvironments,
    tmp_path_factory: pytest.TempPathFactory,
    jaeger: JaegerServer,
) -> Iterator[Shop]:
    mutual = request.param == "mtls"
    model: dict[str, Any] = request.getfixturevalue(
        "compose_tls_stack_model" if mutual else "compose_stack_model"
    )
    certs: Path | None = request.getfixturevalue("dev_certs") if mutual else None
    base = tmp_path_factory.mktemp(f"stack-{request.param}")
    mariadb = MariaDBServer(base / "mariadb")
    mariadb.start()
    stack = ComposeStack(
        model, image_environments, mariadb, tools=tools, base=base, jaeger=jaeger, certs=certs
    )
    static = base / "dist"
    static.mkdir()
    (static / "index.html").write_text(INDEX)
    tls = None
    if certs is not None:
        tls = ClientTls(certs / "ca.crt", certs / "gateway-client.crt", certs / "gateway-client.key")
    channels: dict[str, grpc.Channel] = {}
    try:
        stack.start(static)
        channels = {
            name: open_channel(stack.address(name), default_timeout=DEADLINE, tls=tls) for name in SERVICES
        }
        yield Shop(stack, channels, tls)
    except Exception:
        print(stack.logs())
        raise
    finally:
        for channel in channels.values():
            channel.close()
        stack.stop()
        mariadb.remove()


def test_each_service_reaches_its_own_database_only_as_its_own_user(shop: Shop) -> None:
    for service in SERVICES:
        url = urlsplit(shop.database_url(service))
        assert url.username == f"pasar_{service}"
        connection = pymysql.connect(
            host=url.hostname, port=url.port or 3306, user=url.username, password=url.password or ""
        )
        try:
            with connection.cursor() as cursor:
                cursor.execute("SHOW GRANTS")
                grants = " ".join(row[0] for row in cursor.fetchall())
                for other in SERVICES:
                    if other != service:
                        with pytest.raises(pymysql.err.OperationalError, match="denied"):
                            cursor.execute(
                                f"SELECT 1 FROM `pasar_{other}`.`{MIGRATION_TABLES[other]}` LIMIT 1"
                            )
        finally:
            connection.close()
        assert "ON *.*" not in grants.replace("GRANT USAGE ON *.*", "")
        assert "GRANT OPTION" not in grants
        assert "ALL PRIVILEGES" not in grants


def test_each_service_applied_its_migrations_to_its_own_database(shop: Shop) -> None:
    admin = shop.stack.mariadb.admin()
    try:
        with admin.cursor() as cursor:
            for service in SERVICES:
                if MIGRATION_TABLES[service] == "goose_db_version":
                    cursor.execute(
                        f"SELECT version_id FROM `pasar_{service}`.goose_db_version WHERE version_id > 0"
                    )
                    assert [row[0] for row in cursor.fetchall()][:1] == [1], service
                    continue
                cursor.execute(f"SELECT name FROM `pasar_{service}`.migratehistory")
                applied = [row[0] for row in cursor.fetchall()]
                assert applied, service
                assert applied[0].startswith("001_"), service
    finally:
        admin.close()


def test_the_images_health_check_says_every_container_is_healthy(shop: Shop) -> None:
    for name in (*SERVICES, "gateway"):
        result = shop.stack.containers[name].health_check()
        assert result.returncode == 0, f"{name}: {result.stderr}"


def test_the_demo_catalog_was_loaded_by_the_one_shot_container(shop: Shop) -> None:
    response = shop.stub("product").ListProducts(product_service_pb2.ListProductsRequest(page_size=50))
    assert len(response.products) >= 3
    assert any(product.packages for product in response.products)
    demo = shop.stack.containers["catalog-demo"].process
    assert demo is not None
    assert demo.returncode == 0  # it ran to completion


def test_a_checkout_over_grpc_ends_with_a_delivered_order_and_its_emails(shop: Shop) -> None:
    products = (
        shop.stub("product").ListProducts(product_service_pb2.ListProductsRequest(page_size=50)).products
    )
    product, package = next(
        (product, package)
        for product in products
        for package in product.packages
        if package.stock_available > 0
    )
    # The destination the product asks for, at each field's example (the sandbox biller
    # delivers to the examples).
    destination = {field.name: field.example for field in product.destination_fields}
    channels = shop.stub("payment").ListPaymentChannels(payment_service_pb2.ListPaymentChannelsRequest())
    channel = next(
        channel
        for channel in channels.payment_channels
        if channel.min_amount.amount <= package.price.amount < channel.max_amount.amount
    )
    created = shop.stub("order").CreateOrder(
        order_service_pb2.CreateOrderRequest(
            request_id=f"compose-{uuid.uuid4().hex}",
            customer_email="siti@example.co.id",
            lines=[
                order_service_pb2.CreateOrderLine(package_id=package.id, quantity=1, destination=destination)
            ],
            payment_channel_code=channel.code,
        )
    )
    order = created.order
    assert order.state == order_pb2.ORDER_STATE_PENDING_PAYMENT
    shop.stub("payment").SimulatePayment(payment_service_pb2.SimulatePaymentRequest(id=order.payment_id))

    def delivered() -> order_pb2.Order | None:
        current = (
            shop.stub("order")
            .GetOrder(order_service_pb2.GetOrderRequest(id=order.id, token=created.access_token))
            .order
        )
        return current if current.state == order_pb2.ORDER_STATE_FULFILLED else None

    fulfilled = wait_for(delivered, what=f"order {order.id} FULFILLED through svc-fulfillment")
    (line,) = fulfilled.lines
    assert line.fulfillment.state == fulfillment_pb2.FULFILLMENT_STATE_SUCCEEDED
    assert line.fulfillment.deliveries
    mails = wait_for(
        lambda: m if len(m := shop.stack.mail.received(order_id=order.id)) >= 3 else None,
        what="the order's three e-mails over SMTP",
    )
    kinds = [str(message["X-Pasar-Email-Kind"]) for message in mails]
    assert kinds[:2] == ["order_created", "payment_received"]
    link_origin = shop.stack.containers["order"].env["PASAR_STOREFRONT_URL"]
    body = mails[0].get_body(("plain",))
    assert body is not None
    assert f"{link_origin}/" in body.get_content()


def test_the_storefront_serves_the_spa_and_passes_the_api_to_the_gateway(shop: Shop) -> None:
    storefront = shop.stack.storefront
    assert storefront is not None
    page = requests.get(f"{storefront.url}/order/ord_x?token=y", timeout=10)
    assert page.text == INDEX
    products = requests.get(f"{storefront.url}/api/v1/products", timeout=10)
    assert products.status_code == 200, products.text
    assert products.json()["products"]
    channels = requests.get(f"{storefront.url}/api/v1/payment-channels", timeout=10)
    assert channels.status_code == 200, channels.text
    ready = requests.get(f"{storefront.url}/api/v1/products/no-such-product", timeout=10)
    assert ready.status_code == 404
    assert ready.json()["error"]["code"] == "NOT_FOUND"


def test_a_checkout_through_the_storefront_origin_as_a_browser_does_it(shop: Shop) -> None:
    storefront = shop.stack.storefront
    assert storefront is not None
    api = f"{storefront.url}/api/v1"
    product = requests.get(f"{api}/products", timeout=10).json()["products"][0]
    package = product["packages"][0]
    price = int(package["price"]["amount"])
    channel = next(
        channel
        for channel in requests.get(f"{api}/payment-channels", timeout=10).json()["paymentChannels"]
        if int(channel["minAmount"]["amount"]) <= price < int(channel["maxAmount"]["amount"])
    )
    placed = requests.post(
        f"{api}/orders",
        json={
            "customerEmail": "budi@example.id",
            "lines": [
                {
                    "packageId": package["id"],
                    "quantity": 1,
                    "destination": {f["name"]: f["example"] for f in product.get("destinationFields", [])},
                }
            ],
            "paymentChannelCode": channel["code"],
        },
        headers={"Idempotency-Key": uuid.uuid4().hex},
        timeout=15,
    )
    assert placed.status_code in (200, 201), placed.text
    body = placed.json()
    order, token = body["order"], body["accessToken"]
    simulated = requests.post(f"{api}/payments/{order['paymentId']}:simulate", json={}, timeout=15)
    assert simulated.status_code == 200, simulated.text

    def paid() -> dict[str, Any] | None:
        current = requests.get(f"{api}/orders/{order['id']}", params={"token": token}, timeout=10).json()
        # Paid, then delivered by the sandbox biller a moment later.
        return current if current.get("state") in ("ORDER_STATE_PAID", "ORDER_STATE_FULFILLED") else None

    wait_for(paid, what="the order PAID through the storefront's origin")


def test_every_component_serves_its_metrics_on_its_own_listener(shop: Shop) -> None:
    for name in (*SERVICES, "gateway"):
        address = shop.stack.containers[name].env["PASAR_METRICS_ADDRESS"]
        with urllib.request.urlopen(f"http://{address}/metrics", timeout=10) as response:
            assert response.status == 200, name
            text = response.read().decode()
        if name in SERVICES:  # the RED figures every service shares, by go-grpc-middleware's names
            assert "grpc_server_handled_total" in text, name


def test_a_request_through_the_storefront_is_one_trace_across_the_components_in_jaeger(
    shop: Shop, jaeger: JaegerServer
) -> None:
    """Compose's OTEL_EXPORTER_OTLP_ENDPOINT and OTEL_SERVICE_NAME, in the images' own
    environments: the browser's trace id reaches the gateway and the service it calls (an
    order look-up: the catalog's reads may come from the gateway's cache)."""
    storefront = shop.stack.storefront
    assert storefront is not None
    trace_id = secrets.token_hex(16)
    response = requests.get(
        f"{storefront.url}/api/v1/orders/ord_{uuid.uuid4().hex}",
        params={"token": secrets.token_urlsafe(32)},
        headers={"traceparent": f"00-{trace_id}-{secrets.token_hex(8)}-01"},
        timeout=10,
    )
    assert response.status_code == 404, response.text
    names = {shop.stack.containers[name].env["OTEL_SERVICE_NAME"] for name in ("gateway", "order")}
    assert names == {"gateway", "svc-order"}
    # The SDK's batches leave every 5 s by default, as they do in the containers.
    jaeger.wait_for_trace(trace_id, lambda trace: names <= trace.services, timeout=40)


def test_every_service_stops_gracefully_on_sigterm(shop: Shop) -> None:
    """Last: stops the stack's containers as `docker stop` does, and expects a clean exit."""
    for channel in shop.channels.values():
        channel.close()
    statuses = shop.stack.stop()
    assert statuses == {
        "gateway": 0,
        "order": 0,
        "fulfillment": 0,
        "payment": 0,
        "product": 0,
        "catalog-demo": 0,
    }
