"""The fake gRPC server and the mail catcher, against real clients."""

# The fake servicer implements only the RPC under test.
# mypy: disable-error-code="abstract"

from __future__ import annotations

import smtplib
from concurrent import futures
from email.message import EmailMessage
from pathlib import Path

import grpc
import pytest
from grpc_health.v1 import health_pb2

from pasar.product.v1 import product_pb2, product_service_pb2, product_service_pb2_grpc
from pasar_kit.readiness import grpc_health
from pasar_kit.server import ServiceRegistration
from pasar_testkit.fake_server import FakeGrpcServer
from pasar_testkit.mail import MailCatcher, mails_in

PRODUCT_SERVICE = product_service_pb2.DESCRIPTOR.services_by_name["ProductService"]


class OneProduct(product_service_pb2_grpc.ProductServiceServicer):
    def GetProduct(
        self, request: product_service_pb2.GetProductRequest, context: grpc.ServicerContext
    ) -> product_service_pb2.GetProductResponse:
        return product_service_pb2.GetProductResponse(product=product_pb2.Product(id=request.id))


def test_a_fake_server_answers_reports_serving_and_comes_back_on_its_port() -> None:
    servicer = OneProduct()
    service = ServiceRegistration(
        PRODUCT_SERVICE,
        lambda server: product_service_pb2_grpc.add_ProductServiceServicer_to_server(servicer, server),
    )
    with FakeGrpcServer([service]) as fake:
        address = fake.address
        serving = health_pb2.HealthCheckResponse.SERVING
        assert grpc_health(address, service=PRODUCT_SERVICE.full_name) == serving
        with grpc.insecure_channel(address) as channel:
            stub = product_service_pb2_grpc.ProductServiceStub(channel)
            assert (
                stub.GetProduct(product_service_pb2.GetProductRequest(id="pulsa"), timeout=5).product.id
                == "pulsa"
            )
            fake.stop()
            with pytest.raises(grpc.RpcError) as outage:
                stub.GetProduct(product_service_pb2.GetProductRequest(id="pulsa"), timeout=5)
            assert outage.value.code() == grpc.StatusCode.UNAVAILABLE
            fake.start()
            assert fake.address == address
            assert (
                stub.GetProduct(
                    product_service_pb2.GetProductRequest(id="again"), timeout=10, wait_for_ready=True
                ).product.id
                == "again"
            )


def order_mail(kind: str, order_id: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Pasar <no-reply@pasar.test>"
    message["To"] = "budi@example.co.id"
    message["X-Pasar-Email-Kind"] = kind
    message["X-Pasar-Order-Id"] = order_id
    message.set_content("halo")
    return message


def test_the_mail_catcher_keeps_what_it_receives_by_kind_and_order() -> None:
    catcher = MailCatcher()
    catcher.start()
    try:
        with smtplib.SMTP("127.0.0.1", catcher.port, timeout=10) as client:
            client.send_message(order_mail("order_created", "ord-1"))
            client.send_message(order_mail("payment_received", "ord-1"))
            client.send_message(order_mail("order_created", "ord-2"))
    finally:
        catcher.stop()

    assert len(catcher.received()) == 3
    assert [m["X-Pasar-Order-Id"] for m in catcher.received("order_created")] == ["ord-1", "ord-2"]
    assert [m["X-Pasar-Email-Kind"] for m in catcher.received(order_id="ord-1")] == [
        "order_created",
        "payment_received",
    ]


def test_mails_in_a_folder_are_read_oldest_first(tmp_path: Path) -> None:
    for number, kind in enumerate(["order_created", "payment_received"], start=1):
        (tmp_path / f"email-{number:08d}-{kind}.eml").write_bytes(order_mail(kind, "ord-1").as_bytes())

    assert [m["X-Pasar-Email-Kind"] for m in mails_in(tmp_path)] == ["order_created", "payment_received"]
    assert len(mails_in(tmp_path, "payment_received", "ord-1")) == 1
    assert mails_in(tmp_path / "missing") == []


def test_a_fake_never_joins_a_port_another_server_holds() -> None:
    """grpcio's default SO_REUSEPORT let a second server bind a port already served; with
    many suites starting servers on port 0 at once, a client reached another test's server
    (grpc/grpc#10755): a gateway test got UNAVAILABLE where its fake answered ABORTED."""
    holder = grpc.server(futures.ThreadPoolExecutor(max_workers=1))  # grpcio's default options
    port = holder.add_insecure_port("127.0.0.1:0")
    holder.start()
    try:
        fake = FakeGrpcServer([ServiceRegistration(PRODUCT_SERVICE, lambda s: None)])
        fake.port = port
        with pytest.raises(RuntimeError):
            fake.start()
    finally:
        holder.stop(grace=None).wait()
