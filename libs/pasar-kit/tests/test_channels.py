"""Channels to other services: round robin over instances, retries only where safe."""

# The fake servicers implement only the RPCs under test; mypy-protobuf marks the others
# abstract, which is what keeps real servicers complete.
# mypy: disable-error-code="abstract"

from __future__ import annotations

import time
from collections.abc import Callable

import grpc
import pytest
from conftest import PRODUCT_SERVICE, FakeCatalog

from pasar.common.v1.error_reason_pb2 import ErrorReason
from pasar.product.v1 import product_service_pb2, product_service_pb2_grpc
from pasar_kit import errors
from pasar_kit.channels import open_channel, service_config
from pasar_kit.server import GrpcServer
from pasar_testkit.ports import free_port


def test_calls_are_balanced_across_instances_and_skip_a_dead_one(
    start_server: Callable[..., GrpcServer],
) -> None:
    first, second = FakeCatalog(), FakeCatalog()
    ports = [start_server(first).port, start_server(second).port, free_port()]  # the third is down
    channel = open_channel("ipv4:" + ",".join(f"127.0.0.1:{port}" for port in ports), default_timeout=5)
    stub = product_service_pb2_grpc.ProductServiceStub(channel)
    for _ in range(40):
        stub.GetProduct(product_service_pb2.GetProductRequest(id="pulsa"), wait_for_ready=True)
    assert first.calls + second.calls == 40
    assert first.calls >= 10
    assert second.calls >= 10
    channel.close()


class FlakyCatalog(FakeCatalog):
    """Fails the first call with the given error (a service still warming up by default), then succeeds."""

    def __init__(
        self, first_error: Callable[[], errors.ServiceError] = lambda: errors.Unavailable("warming up")
    ) -> None:
        super().__init__()
        self.first_error = first_error

    def GetProduct(
        self, request: product_service_pb2.GetProductRequest, context: grpc.ServicerContext
    ) -> product_service_pb2.GetProductResponse:
        if self.calls == 0:
            self.calls += 1
            raise self.first_error()
        return super().GetProduct(request, context)


def warming_up() -> errors.ServiceError:
    return errors.Unavailable("warming up")


def contention() -> errors.ServiceError:
    """What the call pipeline answers when the database reports a lock conflict."""
    return errors.Aborted(
        "the request conflicted with another one; retry it", reason=ErrorReason.Name(ErrorReason.CONTENTION)
    )


@pytest.mark.parametrize(
    ("idempotent", "attempts", "expected_calls", "first_error"),
    [
        pytest.param(True, 3, 2, warming_up, id="unavailable-idempotent"),
        pytest.param(False, 3, 1, warming_up, id="unavailable-not-idempotent"),
        pytest.param(True, 1, 1, warming_up, id="unavailable-retries-off"),
        pytest.param(True, 3, 2, contention, id="contention-idempotent"),
        pytest.param(False, 3, 1, contention, id="contention-not-idempotent"),
    ],
)
def test_only_idempotent_methods_are_retried(
    start_server: Callable[..., GrpcServer],
    idempotent: bool,
    attempts: int,
    expected_calls: int,
    first_error: Callable[[], errors.ServiceError],
) -> None:
    catalog = FlakyCatalog(first_error)
    server = start_server(catalog)
    methods = [(PRODUCT_SERVICE.full_name, "GetProduct")] if idempotent else []
    channel = open_channel(
        f"127.0.0.1:{server.port}", default_timeout=5, idempotent_methods=methods, retry_attempts=attempts
    )
    stub = product_service_pb2_grpc.ProductServiceStub(channel)
    if expected_calls == 2:
        assert stub.GetProduct(product_service_pb2.GetProductRequest(id="pulsa")).product.id == "pulsa"
    else:
        with pytest.raises(grpc.RpcError) as failure:
            stub.GetProduct(product_service_pb2.GetProductRequest(id="pulsa"))
        assert failure.value.code() == first_error().code
    assert catalog.calls == expected_calls
    channel.close()


def test_default_deadline_applies(start_server: Callable[..., GrpcServer]) -> None:
    catalog = FakeCatalog()
    catalog.on_get = lambda _id: time.sleep(1)
    server = start_server(catalog)
    channel = open_channel(f"127.0.0.1:{server.port}", default_timeout=0.2)
    with pytest.raises(grpc.RpcError) as failure:
        product_service_pb2_grpc.ProductServiceStub(channel).GetProduct(
            product_service_pb2.GetProductRequest(id="pulsa")
        )
    assert failure.value.code() == grpc.StatusCode.DEADLINE_EXCEEDED
    channel.close()


def test_service_config_lists_round_robin_and_retry_policy() -> None:
    config = service_config([("pasar.product.v1.ProductService", "ReserveStock")])
    assert '"round_robin"' in config
    assert '"retryableStatusCodes": ["UNAVAILABLE", "ABORTED"]' in config
