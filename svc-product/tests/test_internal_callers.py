"""The stock methods are internal: only the order service may hold, sell or return stock.

Before, anyone who reached the port could reserve stock for a made-up order id, and the
units stayed held for ever. Now such a call is refused before it touches the database,
and a reservation nobody ends is released at its expiry.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta

import grpc
import peewee
import pytest
from conftest import RunningService, StartService
from support import Admin, row_counts

from pasar.common.v1.error_reason_pb2 import ErrorReason as CommonErrorReason
from pasar.product.v1 import product_pb2, product_service_pb2
from pasar.product.v1.error_reason_pb2 import ErrorReason
from pasar.product.v1.product_admin_service_pb2_grpc import ProductAdminServiceStub
from pasar.product.v1.product_service_pb2_grpc import ProductServiceStub
from pasar_kit.callers import CALLER_TOKEN_METADATA
from pasar_kit.timestamps import utc_now
from pasar_product.models import Package
from pasar_testkit.assertions import eventually, reason_of, refused, violated_fields


@pytest.fixture
def plain(service: RunningService) -> Iterator[grpc.Channel]:
    """A channel without the order service's credential, as anyone else would open."""
    with grpc.insecure_channel(service.address) as channel:
        yield channel


@pytest.fixture
def package(admin: Admin) -> str:
    admin.category("pulsa")
    (package_id,) = admin.product_with_packages("pulsa-nusantara", "pulsa", stocks=(5,))
    return package_id


def reserve_request(
    package_id: str, order_id: str = "ord-made-up"
) -> product_service_pb2.ReserveStockRequest:
    return product_service_pb2.ReserveStockRequest(
        order_id=order_id, lines=[product_pb2.StockLine(package_id=package_id, quantity=2)]
    )


def stock_of(stub: ProductServiceStub, package_id: str) -> int:
    request = product_service_pb2.BatchGetPackagesRequest(ids=[package_id])
    (found,) = stub.BatchGetPackages(request, timeout=10).packages
    return int(found.stock_available)


@pytest.mark.parametrize(
    ("metadata", "reason"),
    [
        ((), CommonErrorReason.Name(CommonErrorReason.CALLER_CREDENTIAL_MISSING)),
        (
            ((CALLER_TOKEN_METADATA, "a-guess"),),
            CommonErrorReason.Name(CommonErrorReason.CALLER_CREDENTIAL_INVALID),
        ),
        (
            (("authorization", "Bearer test-admin-token"),),
            CommonErrorReason.Name(CommonErrorReason.CALLER_CREDENTIAL_MISSING),
        ),
    ],
    ids=["none", "wrong", "admin-token"],
)
def test_a_forged_reservation_is_refused_and_holds_nothing(
    plain: grpc.Channel,
    package: str,
    database: peewee.Database,
    metadata: tuple[tuple[str, str], ...],
    reason: str,
) -> None:
    before = row_counts(database)
    forged = ProductServiceStub(plain)
    error = refused(lambda: forged.ReserveStock(reserve_request(package), timeout=10, metadata=metadata))
    assert (error.code(), reason_of(error)) == (grpc.StatusCode.UNAUTHENTICATED, reason)
    assert row_counts(database) == before
    with database.connection_context():
        assert Package.get_by_id(package).stock_available == 5


@pytest.mark.parametrize("method", ["BatchGetPackages", "CommitReservation", "ReleaseReservation"])
def test_every_other_internal_method_is_refused_to_anyone_else(plain: grpc.Channel, method: str) -> None:
    requests = {
        "BatchGetPackages": product_service_pb2.BatchGetPackagesRequest(ids=["pulsa-10k"]),
        "CommitReservation": product_service_pb2.CommitReservationRequest(order_id="ord-1"),
        "ReleaseReservation": product_service_pb2.ReleaseReservationRequest(order_id="ord-1"),
    }
    call = getattr(ProductServiceStub(plain), method)
    assert refused(lambda: call(requests[method], timeout=10)).code() == grpc.StatusCode.UNAUTHENTICATED


def test_the_catalog_and_the_admin_token_need_no_caller_credential(plain: grpc.Channel, package: str) -> None:
    anyone = ProductServiceStub(plain)
    product = anyone.GetProduct(product_service_pb2.GetProductRequest(id="pulsa-nusantara"), timeout=10)
    assert product.product.packages[0].id == package
    Admin(ProductAdminServiceStub(plain)).category("data")  # the administrator's token alone, as before


def test_a_configured_caller_token_replaces_the_development_one(
    start_service: StartService, package: str
) -> None:
    service = start_service(PASAR_ORDER_CALLER_TOKEN="order-secret-of-this-test")
    development = service.stub  # the order service's development token
    error = refused(lambda: development.ReserveStock(reserve_request(package), timeout=10))
    assert reason_of(error) == CommonErrorReason.Name(CommonErrorReason.CALLER_CREDENTIAL_INVALID)
    with grpc.insecure_channel(service.address) as channel:
        configured = ProductServiceStub(channel)
        held = configured.ReserveStock(
            reserve_request(package),
            timeout=10,
            metadata=((CALLER_TOKEN_METADATA, "order-secret-of-this-test"),),
        ).reservation
    assert held.state == product_pb2.RESERVATION_STATE_RESERVED


def test_a_reservation_lasts_until_the_expire_time_its_caller_gives(
    stub: ProductServiceStub, package: str
) -> None:
    wanted = (utc_now() + timedelta(minutes=75)).replace(microsecond=0)
    request = reserve_request(package)
    request.expire_time.FromDatetime(wanted)
    held = stub.ReserveStock(request, timeout=10).reservation
    assert held.expire_time.ToDatetime().replace(tzinfo=wanted.tzinfo) == wanted


def test_a_reservation_is_never_held_past_the_maximum(stub: ProductServiceStub, package: str) -> None:
    request = reserve_request(package)
    request.expire_time.FromDatetime(utc_now() + timedelta(days=365))
    held = stub.ReserveStock(request, timeout=10).reservation
    lifetime = held.expire_time.ToDatetime() - held.create_time.ToDatetime()
    assert lifetime == timedelta(hours=72)


def test_an_expire_time_in_the_past_is_invalid(stub: ProductServiceStub, package: str) -> None:
    request = reserve_request(package)
    request.expire_time.FromDatetime(utc_now() - timedelta(seconds=5))
    error = refused(lambda: stub.ReserveStock(request, timeout=10))
    assert (error.code(), violated_fields(error)) == (grpc.StatusCode.INVALID_ARGUMENT, ["expire_time"])


def test_a_reservation_nobody_ends_is_released_by_its_expiry_once(start_service: StartService) -> None:
    service = start_service(PASAR_RESERVATION_TTL_SECONDS="1", PASAR_RESERVATION_SWEEP_SECONDS="0.1")
    stub, admin = service.stub, Admin(service.admin_stub)
    admin.category("pulsa")
    (package,) = admin.product_with_packages("pulsa-nusantara", "pulsa", stocks=(5,))
    held = stub.ReserveStock(reserve_request(package), timeout=10).reservation
    assert held.expire_time.ToDatetime() - held.create_time.ToDatetime() == timedelta(seconds=1)
    assert stock_of(stub, package) == 3
    eventually(lambda: stock_of(stub, package) == 5, 15, "the expired reservation was released")
    time.sleep(0.5)  # several more sweeps: the units come back once only
    assert stock_of(stub, package) == 5
    commit = product_service_pb2.CommitReservationRequest(order_id="ord-made-up")
    error = refused(lambda: stub.CommitReservation(commit, timeout=10))
    assert (error.code(), reason_of(error)) == (
        grpc.StatusCode.FAILED_PRECONDITION,
        ErrorReason.Name(ErrorReason.RESERVATION_RELEASED),
    )
    release = product_service_pb2.ReleaseReservationRequest(order_id="ord-made-up")
    released = stub.ReleaseReservation(release, timeout=10).reservation
    assert released.state == product_pb2.RESERVATION_STATE_RELEASED
    assert stock_of(stub, package) == 5
