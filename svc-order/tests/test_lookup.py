"""LookupOrder: an order found again by its number and its e-mail address or a destination,
answering a wrong pair exactly as an unknown number, and limiting failed look-ups per
number in the database (shared by every instance)."""

from __future__ import annotations

import contextlib
import json
import logging
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import cast

import grpc
import pytest
from conftest import RunningService, StartService, create_request, with_destinations
from grpc_status import rpc_status

from pasar.common.v1.error_reason_pb2 import ErrorReason as CommonErrorReason
from pasar.order.v1 import order_service_pb2, order_service_pb2_grpc
from pasar.order.v1.error_reason_pb2 import ErrorReason
from pasar_order.lookups import MIN_DESTINATION_CONTACT_LENGTH, contact_matches
from pasar_order.models import Order, OrderLine, OrderLookupFailures
from pasar_testkit.assertions import error_metadata, eventually, reason_of, refused
from pasar_testkit.processes import ComponentProcess, console_script

PHONE = "081234567890"
UNKNOWN_NUMBER = "PSR-2345XY"


def lookup(
    stub: order_service_pb2_grpc.OrderServiceStub, order_number: str, contact: str
) -> order_service_pb2.LookupOrderResponse:
    response: order_service_pb2.LookupOrderResponse = stub.LookupOrder(
        order_service_pb2.LookupOrderRequest(order_number=order_number, contact=contact)
    )
    return response


def refused_lookup(
    stub: order_service_pb2_grpc.OrderServiceStub, order_number: str, contact: str
) -> grpc.RpcError:
    return refused(lambda: lookup(stub, order_number, contact))


def place_phone_credit(
    stub: order_service_pb2_grpc.OrderServiceStub,
) -> order_service_pb2.CreateOrderResponse:
    """An order for Telkomsel credit to PHONE, placed by budi@example.co.id."""
    request = with_destinations(create_request(("telkomsel-20k", 1)), telkomsel_20k={"phone_number": PHONE})
    placed: order_service_pb2.CreateOrderResponse = stub.CreateOrder(request)
    return placed


def assert_not_found(error: grpc.RpcError) -> None:
    assert error.code() == grpc.StatusCode.NOT_FOUND
    assert reason_of(error) == ErrorReason.Name(ErrorReason.ORDER_NOT_FOUND)


def assert_limited(error: grpc.RpcError, window_seconds: int) -> None:
    assert error.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    assert reason_of(error) == CommonErrorReason.Name(CommonErrorReason.RATE_LIMITED)
    assert 1 <= int(error_metadata(error)["retry_after_seconds"]) <= window_seconds


def test_an_order_is_found_by_its_number_and_its_email_in_any_case(service: RunningService) -> None:
    placed = place_phone_credit(service.stub)
    found = lookup(service.stub, placed.order.order_number, "  Budi@EXAMPLE.co.id ")
    assert found.access_token == placed.access_token
    got = service.stub.GetOrder(
        order_service_pb2.GetOrderRequest(id=placed.order.id, token=found.access_token)
    )
    assert found.order == got.order
    assert found.order.order_number == placed.order.order_number


@pytest.mark.parametrize(
    "written", ["081234567890", "+62 812-3456-7890", "62812 3456 7890", "0812-3456-7890"]
)
def test_an_order_is_found_by_the_phone_number_of_a_line_however_it_is_written(
    service: RunningService, written: str
) -> None:
    placed = place_phone_credit(service.stub)
    found = lookup(service.stub, placed.order.order_number, written)
    assert found.order.id == placed.order.id
    assert found.access_token == placed.access_token


def test_a_wrong_pair_answers_exactly_as_an_unknown_number(service: RunningService) -> None:
    placed = place_phone_credit(service.stub)
    wrong_contact = refused_lookup(service.stub, placed.order.order_number, "siti@example.co.id")
    wrong_phone = refused_lookup(service.stub, placed.order.order_number, "081299999999")
    unknown = refused_lookup(service.stub, UNKNOWN_NUMBER, "budi@example.co.id")

    assert_not_found(unknown)
    for error in (wrong_contact, wrong_phone):
        # The same status, message, reason and metadata: the whole status, details and all.
        assert error.code() == unknown.code()
        assert error.details() == unknown.details()
        assert error_metadata(error) == error_metadata(unknown) == {}
        assert rpc_status.from_call(cast(grpc.Call, error)) == rpc_status.from_call(cast(grpc.Call, unknown))


@pytest.mark.parametrize("known", [True, False], ids=["known-number", "unknown-number"])
def test_failed_lookups_of_a_number_are_limited_even_for_the_right_contact(
    start_service: StartService, known: bool
) -> None:
    service = start_service(PASAR_ORDER_LOOKUP_MAX_FAILURES="3", PASAR_ORDER_LOOKUP_WINDOW_SECONDS="600")
    placed = place_phone_credit(service.stub)
    other = place_phone_credit(service.stub)
    number = placed.order.order_number if known else UNKNOWN_NUMBER

    for _ in range(3):
        assert_not_found(refused_lookup(service.stub, number, "siti@example.co.id"))
    assert_limited(refused_lookup(service.stub, number, "siti@example.co.id"), 600)
    # The right contact is refused too while the number is limited ...
    assert_limited(refused_lookup(service.stub, number, "budi@example.co.id"), 600)
    # ... and only that number is.
    assert lookup(service.stub, other.order.order_number, PHONE).order.id == other.order.id


def test_lookups_that_match_are_not_failures(start_service: StartService) -> None:
    service = start_service(PASAR_ORDER_LOOKUP_MAX_FAILURES="2")
    placed = place_phone_credit(service.stub)
    for _ in range(4):
        assert lookup(service.stub, placed.order.order_number, PHONE).order.id == placed.order.id
    assert_not_found(refused_lookup(service.stub, placed.order.order_number, "081299999999"))
    assert lookup(service.stub, placed.order.order_number, PHONE).order.id == placed.order.id


def test_a_limited_number_answers_again_once_its_window_has_passed(start_service: StartService) -> None:
    service = start_service(PASAR_ORDER_LOOKUP_MAX_FAILURES="1", PASAR_ORDER_LOOKUP_WINDOW_SECONDS="1")
    placed = place_phone_credit(service.stub)
    assert_not_found(refused_lookup(service.stub, placed.order.order_number, "081299999999"))
    assert_limited(refused_lookup(service.stub, placed.order.order_number, PHONE), 1)
    time.sleep(1.1)
    assert lookup(service.stub, placed.order.order_number, PHONE).order.id == placed.order.id


def test_two_service_processes_count_the_failures_of_a_number_together(
    database_url: str, peer_addresses: dict[str, str], tmp_path: Path, service: RunningService
) -> None:
    """Two `pasar-order serve` processes on one database: the failures either answers add
    up, so that spreading guesses over instances gains nothing."""
    placed = place_phone_credit(service.stub)
    env = {
        "DATABASE_URL": database_url,
        **peer_addresses,
        "PASAR_MAIL_DIR": str(tmp_path / "mail"),
        "PASAR_LOG_LEVEL": "warning",
        "PASAR_ORDER_LOOKUP_MAX_FAILURES": "4",
    }
    processes = [
        ComponentProcess(
            "order", command=[console_script("pasar-order"), "serve"], env=env, log_dir=tmp_path / name
        )
        for name in ("a", "b")
    ]
    channels: list[grpc.Channel] = []
    try:
        for process in processes:
            process.start()
            channels.append(grpc.insecure_channel(process.address))
        stubs = [order_service_pb2_grpc.OrderServiceStub(channel) for channel in channels]
        number = placed.order.order_number
        for attempt in range(4):
            assert_not_found(refused_lookup(stubs[attempt % 2], number, "081299999999"))
        for stub in stubs:
            assert_limited(refused_lookup(stub, number, PHONE), 900)
    finally:
        for channel in channels:
            channel.close()
        for process in processes:
            process.stop()


def test_lookups_at_once_never_slip_under_the_limit(start_service: StartService) -> None:
    """Each look-up counts itself before it reads the order, in one statement: twelve at
    once against a limit of three get three answers and nine refusals, never more answers."""
    service = start_service(PASAR_ORDER_LOOKUP_MAX_FAILURES="3")
    placed = place_phone_credit(service.stub)
    start = threading.Barrier(12)

    def guess() -> grpc.StatusCode:
        start.wait()
        return refused_lookup(service.stub, placed.order.order_number, "081299999999").code()

    with ThreadPoolExecutor(max_workers=12) as pool:
        codes = list(pool.map(lambda _: guess(), range(12)))
    assert sorted(code.name for code in codes) == ["NOT_FOUND"] * 3 + ["RESOURCE_EXHAUSTED"] * 9


def failure_counts(service: RunningService) -> list[str]:
    with service.database.connection_context():
        return [str(row.order_number) for row in OrderLookupFailures.select()]


def test_the_counts_of_passed_windows_are_swept(start_service: StartService) -> None:
    # Long enough for the counts to be seen before the sweeper may take them (sweeps: 0.1 s).
    service = start_service(PASAR_ORDER_LOOKUP_WINDOW_SECONDS="3")
    placed = place_phone_credit(service.stub)
    assert_not_found(refused_lookup(service.stub, UNKNOWN_NUMBER, PHONE))
    assert lookup(service.stub, placed.order.order_number, PHONE).order.id == placed.order.id
    assert sorted(failure_counts(service)) == sorted([UNKNOWN_NUMBER, placed.order.order_number])
    eventually(lambda: failure_counts(service) == [], message="the sweeper deleted the passed windows")


def test_the_contact_is_never_logged(service: RunningService, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)  # the SQL at debug level carries every value
    placed = place_phone_credit(service.stub)
    with service.database.connection_context():
        Order.update(customer_email="rahasia@example.co.id").where(Order.id == placed.order.id).execute()
    for contact in ("rahasia@example.co.id", "0812-9999-8888", PHONE):
        with contextlib.suppress(grpc.RpcError):
            lookup(service.stub, placed.order.order_number, contact)
    for _ in range(6):  # into the limit, which is logged
        with contextlib.suppress(grpc.RpcError):
            lookup(service.stub, UNKNOWN_NUMBER, "0812-9999-8888")
    logged = "\n".join(f"{record.getMessage()} {record.__dict__}" for record in caplog.records)
    assert "order look-ups limited" in logged  # the log was captured
    for secret in ("rahasia", "9999-8888", "99998888", "34567890"):
        assert secret not in logged


def test_an_unknown_number_reads_what_a_wrong_contact_reads(
    start_service: StartService, caplog: pytest.LogCaptureFixture
) -> None:
    """The two failures read the same tables the same number of times, so that neither the
    answer nor the work behind it tells a known number from an unknown one."""
    service = start_service(PASAR_ORDER_SWEEP_SECONDS="600")  # no sweeper's SQL in between
    placed = place_phone_credit(service.stub)

    def statements_of_a_failed_lookup(order_number: str) -> list[str]:
        caplog.clear()
        with caplog.at_level(logging.DEBUG, logger="peewee"):
            assert_not_found(refused_lookup(service.stub, order_number, "081299999999"))
        sql = [
            (record.thread, str(record.msg[0])) for record in caplog.records if isinstance(record.msg, tuple)
        ]
        # The look-up's own statements (its thread counted the failure), not a background worker's.
        [lookup_thread] = {
            thread for thread, statement in sql if "INTO" in statement and "order_lookup" in statement
        }
        return [
            statement
            for thread, statement in sql
            if thread == lookup_thread and "order_lookup" not in statement
        ]

    wrong_contact = statements_of_a_failed_lookup(placed.order.order_number)
    unknown_number = statements_of_a_failed_lookup(UNKNOWN_NUMBER)
    assert any("order_lines" in statement for statement in wrong_contact)
    assert unknown_number == wrong_contact


def test_a_short_destination_value_is_no_contact() -> None:
    # A game account: the user id opens the order, the four-digit zone id (guessable within
    # the failure limit's windows) does not.
    line = OrderLine(destination=json.dumps({"user_id": "123456789", "zone_id": "2001"}))
    assert contact_matches("123456789", "budi@example.co.id", [line])
    assert not contact_matches("2001", "budi@example.co.id", [line])
    assert len("2001") < MIN_DESTINATION_CONTACT_LENGTH <= len(PHONE)
