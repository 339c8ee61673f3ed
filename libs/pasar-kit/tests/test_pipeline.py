"""What every RPC goes through: validation, errors as statuses, request ids, a database connection."""

# The fake servicers implement only the RPCs under test; mypy-protobuf marks the others
# abstract, which is what keeps real servicers complete.
# mypy: disable-error-code="abstract"

from __future__ import annotations

import json
import logging
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

import grpc
import pytest
from conftest import FakeCatalog
from google.protobuf import field_mask_pb2
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from pasar.common.v1 import money_pb2
from pasar.common.v1.error_reason_pb2 import ErrorReason
from pasar.product.v1 import product_admin_service_pb2 as admin_pb2
from pasar.product.v1 import product_pb2, product_service_pb2, product_service_pb2_grpc
from pasar.product.v1.error_reason_pb2 import ErrorReason as ProductErrorReason
from pasar_kit import database as db
from pasar_kit.channels import open_channel
from pasar_kit.errors import InvalidArgument, error_info
from pasar_kit.logs import configure_logging, request_context
from pasar_kit.partial_updates import partial_update_resource
from pasar_kit.pipeline import validate
from pasar_kit.server import GrpcServer


def stub_for(server: GrpcServer) -> product_service_pb2_grpc.ProductServiceStub:
    channel = open_channel(f"127.0.0.1:{server.port}", default_timeout=5)
    return product_service_pb2_grpc.ProductServiceStub(channel)


def call_error(stub: product_service_pb2_grpc.ProductServiceStub, product_id: str) -> grpc.RpcError:
    with pytest.raises(grpc.RpcError) as failure:
        stub.GetProduct(product_service_pb2.GetProductRequest(id=product_id))
    return failure.value


def test_invalid_request_is_rejected_naming_the_field(start_server: Callable[..., GrpcServer]) -> None:
    catalog = FakeCatalog()
    error = call_error(stub_for(start_server(catalog)), "Not An Id!")
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert "id: " in (error.details() or "")
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None
    bad_request = error_details_pb2.BadRequest()
    assert status.details[0].Unpack(bad_request)
    assert [violation.field for violation in bad_request.field_violations] == ["id"]
    assert catalog.calls == 0, "the handler must not run for an invalid request"


def test_service_error_becomes_its_status_with_error_info(start_server: Callable[..., GrpcServer]) -> None:
    error = call_error(stub_for(start_server(FakeCatalog())), "missing")
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert error.details() == "product 'missing' not found"
    info = error_info(error)
    assert info is not None
    assert (info.reason, info.domain, dict(info.metadata)) == (
        ProductErrorReason.Name(ProductErrorReason.PRODUCT_NOT_FOUND),
        "pasar.shop",
        {"product_id": "missing"},
    )


def test_unexpected_exception_is_internal_without_details(
    start_server: Callable[..., GrpcServer], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR):
        error = call_error(stub_for(start_server(FakeCatalog())), "crash")
    assert error.code() == grpc.StatusCode.INTERNAL
    assert error.details() == "internal error"
    assert any("a secret internal detail" in str(record.exc_info) for record in caplog.records)


def test_peer_outage_becomes_unavailable(start_server: Callable[..., GrpcServer], tmp_path: Path) -> None:
    """A handler whose call to another service fails answers UNAVAILABLE, not INTERNAL."""
    dead_peer = open_channel("127.0.0.1:1", default_timeout=0.5)
    catalog = FakeCatalog()

    def call_dead_peer(_product_id: str) -> None:
        product_service_pb2_grpc.ProductServiceStub(dead_peer).GetProduct(
            product_service_pb2.GetProductRequest(id="x")
        )

    catalog.on_get = call_dead_peer
    error = call_error(stub_for(start_server(catalog)), "anything")
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    assert error.details() == "a service this call needs is unavailable", "no peer address leaks out"
    info = error_info(error)
    assert info is not None
    assert info.reason == ErrorReason.Name(ErrorReason.DEPENDENCY_UNAVAILABLE)


def test_request_id_travels_across_services(start_server: Callable[..., GrpcServer]) -> None:
    downstream = FakeCatalog()
    downstream_server = start_server(downstream)
    downstream_stub = stub_for(downstream_server)
    upstream = FakeCatalog()
    upstream.on_get = lambda _id: downstream_stub.GetProduct(
        product_service_pb2.GetProductRequest(id="pulsa")
    )
    upstream_stub = stub_for(start_server(upstream))
    with request_context("purchase-42"):
        upstream_stub.GetProduct(product_service_pb2.GetProductRequest(id="pulsa"))
    assert upstream.seen_request_ids == ["purchase-42"]
    assert downstream.seen_request_ids == ["purchase-42"]
    # Without an incoming id, the server makes one.
    upstream_stub.GetProduct(product_service_pb2.GetProductRequest(id="pulsa"))
    assert len(upstream.seen_request_ids[-1]) == 32


def test_unary_calls_run_with_a_database_connection(
    start_server: Callable[..., GrpcServer], tmp_path: Path
) -> None:
    database = db.connect(f"sqlite:///{tmp_path / 'kit.db'}")
    catalog = FakeCatalog(database)
    response = stub_for(start_server(catalog, database)).GetProduct(
        product_service_pb2.GetProductRequest(id="needs-db")
    )
    assert response.product.id == "needs-db"
    assert database.is_closed(), "the connection goes back to the pool after the call"


def test_each_call_is_logged_as_one_json_line(
    start_server: Callable[..., GrpcServer], capsys: pytest.CaptureFixture[str]
) -> None:
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    configure_logging("svc-test", "info", "json")
    try:
        stub = stub_for(start_server(FakeCatalog()))
        with request_context("log-me"):
            stub.GetProduct(product_service_pb2.GetProductRequest(id="pulsa"))
    finally:
        root.handlers[:], root.level = saved_handlers, saved_level
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    [call] = [line for line in lines if line["message"] == "rpc"]
    assert call["method"] == "/pasar.product.v1.ProductService/GetProduct"
    assert call["code"] == "OK"
    assert call["request_id"] == "log-me"
    assert call["service"] == "svc-test"
    assert call["duration_ms"] >= 0


def test_a_line_that_names_its_own_request_id_keeps_it(capsys: pytest.CaptureFixture[str]) -> None:
    """A background task logs the key of the request it retries (a refund's request_id);
    the context's id (the task's name) must not replace it."""
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    configure_logging("svc-test", "info", "json")
    try:
        with request_context("refunds"):
            logging.getLogger("test").info("refund refused", extra={"request_id": "rfd-key-1"})
            logging.getLogger("test").info("sweep done")
    finally:
        root.handlers[:], root.level = saved_handlers, saved_level
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [(line["message"], line["request_id"]) for line in lines] == [
        ("refund refused", "rfd-key-1"),
        ("sweep done", "refunds"),
    ]


def package_update(package: product_pb2.Package | None, *paths: str) -> admin_pb2.UpdatePackageRequest:
    return admin_pb2.UpdatePackageRequest(package=package, update_mask=field_mask_pb2.FieldMask(paths=paths))


def refused_fields(request: admin_pb2.UpdatePackageRequest) -> list[str]:
    with pytest.raises(InvalidArgument) as caught:
        validate(request)
    return sorted({field for field, _ in caught.value.field_violations})


def test_a_partial_update_is_held_to_the_rules_of_its_masked_fields_only() -> None:
    """price is required and display_name must not be empty, but the mask names stock_available."""
    validate(package_update(product_pb2.Package(id="pulsa-10k", stock_available=3), "stock_available"))


@pytest.mark.parametrize(
    ("package", "path", "field"),
    [
        (
            product_pb2.Package(id="pulsa-10k", stock_available=-1),
            "stock_available",
            "package.stock_available",
        ),
        (product_pb2.Package(id="pulsa-10k"), "display_name", "package.display_name"),
        (product_pb2.Package(id="pulsa-10k"), "price", "package.price"),
        (
            product_pb2.Package(id="pulsa-10k", price=money_pb2.Money(currency_code="IDR", amount=-5)),
            "price",
            "package.price.amount",
        ),
        (product_pb2.Package(id="pulsa-10k"), "price.amount", "package.price"),
    ],
    ids=["out-of-range", "empty", "required", "inside-a-masked-field", "leading-to-a-masked-path"],
)
def test_a_masked_field_that_breaks_its_rule_is_refused_naming_it(
    package: product_pb2.Package, path: str, field: str
) -> None:
    assert refused_fields(package_update(package, path)) == [field]


def test_the_resource_and_its_id_are_validated_whatever_the_mask() -> None:
    bad_id = product_pb2.Package(id="Not An Id!", display_name="Pulsa")
    assert refused_fields(package_update(bad_id, "display_name")) == ["package.id"]
    assert refused_fields(package_update(None, "display_name")) == ["package"]


def test_an_empty_mask_holds_the_update_to_every_rule() -> None:
    assert refused_fields(package_update(product_pb2.Package(id="pulsa-10k", display_name="Pulsa"))) == [
        "package.price"
    ]


def test_a_mask_path_the_resource_lacks_matches_no_rule() -> None:
    """Refusing an unknown path is the service's (it knows what may change); here it selects nothing."""
    validate(package_update(product_pb2.Package(id="pulsa-10k"), "colour", ""))


def test_requests_without_an_update_mask_are_held_to_every_rule() -> None:
    with pytest.raises(InvalidArgument) as caught:
        validate(
            admin_pb2.CreatePackageRequest(product_id="pulsa", package=product_pb2.Package(id="pulsa-10k"))
        )
    assert sorted({field for field, _ in caught.value.field_violations}) == [
        "package.display_name",
        "package.price",
    ]


def test_a_partial_update_is_told_by_its_field_mask_and_its_resource_field() -> None:
    assert partial_update_resource(admin_pb2.UpdateProductRequest.DESCRIPTOR) == "product"
    assert partial_update_resource(admin_pb2.UpdatePackageRequest.DESCRIPTOR) == "package"
    assert partial_update_resource(admin_pb2.CreatePackageRequest.DESCRIPTOR) is None
    assert partial_update_resource(product_service_pb2.ListProductsRequest.DESCRIPTOR) is None


def test_validation_uses_protovalidates_own_validator_not_a_second_one() -> None:
    """Each Validator compiles and keeps every message's rules: protovalidate makes one at
    import for its module functions, and the pipeline used to make another."""
    script = """
        import protovalidate
        made = []
        real = protovalidate.Validator
        protovalidate.Validator = lambda *a, **k: made.append(1) or real(*a, **k)
        from pasar.product.v1 import product_service_pb2
        from pasar_kit.errors import InvalidArgument
        from pasar_kit.pipeline import validate
        validate(product_service_pb2.GetProductRequest(id="pulsa"))
        try:
            validate(product_service_pb2.GetProductRequest(id=""))
        except InvalidArgument as refused:
            print(refused.field_violations[0][0], len(made))
    """
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(script)],
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert (result.returncode, result.stdout.strip()) == (0, "id 0"), result.stderr
