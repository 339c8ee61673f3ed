"""Internal methods answer only the callers a service accepts; public ones answer anyone.

A real GrpcServer hosts ProductService, whose internal methods (ReserveStock and the
others without an HTTP route) are found from the contract's annotations.
"""

# The fake servicer implements only the RPCs under test; mypy-protobuf marks the others abstract.
# mypy: disable-error-code="abstract"

from __future__ import annotations

import logging
from collections.abc import Callable

import grpc
import pytest
from conftest import PRODUCT_SERVICE, FakeCatalog

from pasar.common.v1.error_reason_pb2 import ErrorReason
from pasar.product.v1 import (
    product_admin_service_pb2,
    product_pb2,
    product_service_pb2,
    product_service_pb2_grpc,
)
from pasar_kit.callers import (
    InternalCallers,
    caller_token_from_env,
    certificate_names,
    internal_methods,
)
from pasar_kit.channels import open_channel
from pasar_kit.config import ConfigError, Env
from pasar_kit.errors import error_info
from pasar_kit.server import GrpcServer
from pasar_testkit.callers import ORDER_SERVICE_METADATA, as_order_service

ORDER_TOKEN = "order-caller-token-for-these-tests"
GATEWAY_TOKEN = "gateway-caller-token-for-these-tests"


class Stockroom(FakeCatalog):
    """GetProduct (public) from FakeCatalog, and ReserveStock (internal), which counts its calls."""

    def __init__(self) -> None:
        super().__init__()
        self.reservations = 0

    def ReserveStock(
        self, request: product_service_pb2.ReserveStockRequest, context: grpc.ServicerContext
    ) -> product_service_pb2.ReserveStockResponse:
        self.reservations += 1
        return product_service_pb2.ReserveStockResponse(
            reservation=product_pb2.Reservation(order_id=request.order_id)
        )


RESERVE = product_service_pb2.ReserveStockRequest(
    order_id="ord-made-up", lines=[product_pb2.StockLine(package_id="pulsa-10k", quantity=1)]
)


@pytest.fixture
def serve(
    start_server: Callable[..., GrpcServer],
) -> Callable[[Stockroom, InternalCallers | None], GrpcServer]:
    """A server of servicer whose internal methods accept callers (none: every call refused)."""
    return lambda servicer, callers: start_server(servicer, callers=callers)


def accepting_order(**tokens: str) -> InternalCallers:
    return InternalCallers(frozenset({"order"}), {"order": ORDER_TOKEN, **tokens})


def reserve(server: GrpcServer, caller_token: str | None = None) -> product_service_pb2.ReserveStockResponse:
    channel = open_channel(f"127.0.0.1:{server.port}", default_timeout=5, caller_token=caller_token)
    try:
        response: product_service_pb2.ReserveStockResponse = product_service_pb2_grpc.ProductServiceStub(
            channel
        ).ReserveStock(RESERVE)
        return response
    finally:
        channel.close()


def refusal(call: Callable[[], object]) -> tuple[grpc.StatusCode, str]:
    with pytest.raises(grpc.RpcError) as failure:
        call()
    info = error_info(failure.value)
    code: grpc.StatusCode = failure.value.code()
    return code, info.reason if info else ""


def test_the_internal_methods_are_the_contract_methods_without_an_http_route() -> None:
    admin = product_admin_service_pb2.DESCRIPTOR.services_by_name["ProductAdminService"]
    assert internal_methods([PRODUCT_SERVICE, admin]) == {
        "/pasar.product.v1.ProductService/BatchGetPackages",
        "/pasar.product.v1.ProductService/ReserveStock",
        "/pasar.product.v1.ProductService/CommitReservation",
        "/pasar.product.v1.ProductService/ReleaseReservation",
    }


def test_a_call_without_a_credential_is_refused_before_the_handler_runs(
    serve: Callable[[Stockroom, InternalCallers | None], GrpcServer], caplog: pytest.LogCaptureFixture
) -> None:
    stockroom = Stockroom()
    server = serve(stockroom, accepting_order())
    with caplog.at_level(logging.WARNING, logger="pasar.callers"):
        assert refusal(lambda: reserve(server)) == (
            grpc.StatusCode.UNAUTHENTICATED,
            ErrorReason.Name(ErrorReason.CALLER_CREDENTIAL_MISSING),
        )
    assert stockroom.reservations == 0
    (record,) = [r for r in caplog.records if r.getMessage() == "internal call refused"]
    assert record.__dict__["method"] == "/pasar.product.v1.ProductService/ReserveStock"
    assert "127.0.0.1" in record.__dict__["peer"]


def test_a_wrong_credential_is_refused_and_never_logged(
    serve: Callable[[Stockroom, InternalCallers | None], GrpcServer], caplog: pytest.LogCaptureFixture
) -> None:
    stockroom = Stockroom()
    server = serve(stockroom, accepting_order())
    with caplog.at_level(logging.DEBUG):
        assert refusal(lambda: reserve(server, "a-guess")) == (
            grpc.StatusCode.UNAUTHENTICATED,
            ErrorReason.Name(ErrorReason.CALLER_CREDENTIAL_INVALID),
        )
    assert stockroom.reservations == 0
    assert all("a-guess" not in str(record.__dict__) for record in caplog.records)


def test_a_known_caller_that_is_not_accepted_is_denied(
    serve: Callable[[Stockroom, InternalCallers | None], GrpcServer],
) -> None:
    stockroom = Stockroom()
    server = serve(stockroom, accepting_order(gateway=GATEWAY_TOKEN))
    assert refusal(lambda: reserve(server, GATEWAY_TOKEN)) == (
        grpc.StatusCode.PERMISSION_DENIED,
        ErrorReason.Name(ErrorReason.CALLER_NOT_ALLOWED),
    )
    assert stockroom.reservations == 0


def test_the_accepted_caller_is_served_and_public_methods_need_no_credential(
    serve: Callable[[Stockroom, InternalCallers | None], GrpcServer],
) -> None:
    stockroom = Stockroom()
    server = serve(stockroom, accepting_order())
    assert reserve(server, ORDER_TOKEN).reservation.order_id == "ord-made-up"
    assert stockroom.reservations == 1
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = product_service_pb2_grpc.ProductServiceStub(channel)
        product = stub.GetProduct(product_service_pb2.GetProductRequest(id="pulsa-10k"), timeout=5).product
        assert product.id == "pulsa-10k"


def test_a_server_told_of_no_callers_refuses_every_internal_call(
    serve: Callable[[Stockroom, InternalCallers | None], GrpcServer],
) -> None:
    stockroom = Stockroom()
    server = serve(stockroom, None)
    assert refusal(lambda: reserve(server, ORDER_TOKEN))[0] == grpc.StatusCode.UNAUTHENTICATED
    assert stockroom.reservations == 0


def test_the_test_helper_calls_as_the_order_service_in_development(
    serve: Callable[[Stockroom, InternalCallers | None], GrpcServer],
) -> None:
    callers = InternalCallers.from_env(Env({}), ["order"], mutual_tls=False)
    server = serve(Stockroom(), callers)
    with grpc.insecure_channel(f"127.0.0.1:{server.port}") as channel:
        stub = product_service_pb2_grpc.ProductServiceStub(as_order_service(channel))
        assert stub.ReserveStock(RESERVE, timeout=5).reservation.order_id == "ord-made-up"
        plain = product_service_pb2_grpc.ProductServiceStub(channel)
        assert plain.ReserveStock(RESERVE, timeout=5, metadata=ORDER_SERVICE_METADATA).reservation.order_id


def test_callers_are_read_from_the_environment() -> None:
    env = Env({"PASAR_INTERNAL_CALLERS": "order, webhook", "PASAR_WEBHOOK_CALLER_TOKEN": GATEWAY_TOKEN})
    callers = InternalCallers.from_env(env, ["order"], mutual_tls=False)
    assert callers.accepted == {"order", "webhook"}
    assert callers.tokens == {"order": "dev-order-caller-token", "webhook": GATEWAY_TOKEN}
    with pytest.raises(ConfigError, match="PASAR_INTERNAL_CALLERS"):
        InternalCallers.from_env(
            Env({"PASAR_INTERNAL_CALLERS": "Order Service"}), ["order"], mutual_tls=False
        )


def test_production_needs_a_real_caller_token_unless_certificates_say_who_calls() -> None:
    production = Env({"PASAR_ENV": "production"})
    with pytest.raises(ConfigError, match="PASAR_ORDER_CALLER_TOKEN"):
        InternalCallers.from_env(production, ["order"], mutual_tls=False)
    with pytest.raises(ConfigError, match="PASAR_ORDER_CALLER_TOKEN"):
        caller_token_from_env(production, "order", client_certificate=False)
    assert InternalCallers.from_env(production, ["order"], mutual_tls=True).tokens == {}
    assert caller_token_from_env(production, "order", client_certificate=True) is None


def test_a_certificate_is_known_by_its_dns_names_else_its_common_name() -> None:
    assert certificate_names({"x509_subject_alternative_name": [b"order"], "x509_common_name": [b"x"]}) == [
        "order"
    ]
    assert certificate_names({"x509_common_name": [b"order"]}) == ["order"]
    assert certificate_names({"transport_security_type": [b"insecure"]}) == []
