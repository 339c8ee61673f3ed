"""Fixtures of the payment service's tests: a migrated database of each kind, and the real
server on a free port with a real channel to it.

The fixture names are every service's (``database``, ``start_service``, ``service``,
``stub``); failed calls are read with pasar_testkit's assertion helpers."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import grpc
import peewee
import pytest

from pasar.payment.v1 import payment_pb2, payment_service_pb2, payment_service_pb2_grpc
from pasar_kit.config import Env
from pasar_kit.ids import new_id
from pasar_kit.money import rupiah
from pasar_kit.server import GrpcServer
from pasar_payment.main import MIGRATIONS_DIR, build_server, open_database
from pasar_payment.models import PaymentEvent
from pasar_payment.providers.base import PaymentProvider
from pasar_testkit.callers import as_order_service
from pasar_testkit.databases import migrated

pytest_plugins = ["pasar_testkit.fixtures"]

WEBHOOK_SECRET = "test-webhook-secret"
# The seeded channels that push the payment request to a wallet by phone number, and the
# number create_request gives them unless a test says otherwise.
PHONE_WALLETS = ("ovo", "dana")
PAYER_PHONE_NUMBER = "081234567890"
PAYMENT_STATE = payment_pb2.PaymentState
EVENT_TYPE = payment_pb2.PaymentEventType


def service_env(database_url: str, **overrides: str) -> Env:
    return Env(
        {
            "PASAR_ENV": "development",
            "DATABASE_URL": database_url,
            "PASAR_LISTEN_ADDRESS": "127.0.0.1:0",
            "PASAR_PAYMENT_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "PASAR_HEALTH_PROBE_SECONDS": "5",
            "PASAR_PAYMENT_EVENT_POLL_SECONDS": "0.2",
            # Tests sweep expired payments themselves unless they ask for the task.
            "PASAR_PAYMENT_EXPIRY_SWEEP_SECONDS": "3600",
            **overrides,
        }
    )


@pytest.fixture
def database(database_url: str) -> Iterator[peewee.Database]:
    """The service's database, bound and migrated, as `pasar-payment serve` leaves it."""
    yield from migrated(open_database(service_env(database_url)), MIGRATIONS_DIR)


@dataclass
class RunningService:
    server: GrpcServer
    channel: grpc.Channel  # with the order service's caller credential
    stub: payment_service_pb2_grpc.PaymentServiceStub
    database: peewee.Database

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.server.port}"


StartService = Callable[..., RunningService]


@pytest.fixture
def start_service(database_url: str, database: peewee.Database) -> Iterator[StartService]:
    """Starts payment servers (in process, on free ports) on the test's database, with env
    overrides and optionally another provider; stops every one at the end."""
    started: list[RunningService] = []

    def start(provider: PaymentProvider | None = None, **env: str) -> RunningService:
        server = build_server(service_env(database_url, **env), database, provider)
        port = server.start()
        channel = as_order_service(grpc.insecure_channel(f"127.0.0.1:{port}"))
        running = RunningService(
            server, channel, payment_service_pb2_grpc.PaymentServiceStub(channel), database
        )
        started.append(running)
        return running

    yield start
    for running in started:
        running.channel.close()
        running.server.stop(grace=0)


@pytest.fixture
def service(start_service: StartService) -> RunningService:
    return start_service()


@pytest.fixture
def stub(service: RunningService) -> payment_service_pb2_grpc.PaymentServiceStub:
    return service.stub


def create_request(
    order_id: str | None = None, channel_code: str = "bca_va", amount: int = 50_000, **fields: Any
) -> payment_service_pb2.CreatePaymentRequest:
    return payment_service_pb2.CreatePaymentRequest(
        order_id=order_id or new_id("ord"),
        channel_code=channel_code,
        amount=rupiah(amount),
        description=fields.pop("description", "Pulsa Nusantara 50.000"),
        customer_email=fields.pop("customer_email", "siti@example.co.id"),
        payer_phone_number=fields.pop(
            "payer_phone_number", PAYER_PHONE_NUMBER if channel_code in PHONE_WALLETS else ""
        ),
        **fields,
    )


def create_payment(stub: payment_service_pb2_grpc.PaymentServiceStub, **request: Any) -> payment_pb2.Payment:
    response: payment_service_pb2.CreatePaymentResponse = stub.CreatePayment(
        create_request(**request), timeout=10
    )
    return response.payment


def paid_payment(stub: payment_service_pb2_grpc.PaymentServiceStub, **request: Any) -> payment_pb2.Payment:
    """A new payment the sandbox settled (bca_va, 50.000 + the Rp 4.000 fee by default)."""
    payment = create_payment(stub, **request)
    response: payment_service_pb2.SimulatePaymentResponse = stub.SimulatePayment(
        payment_service_pb2.SimulatePaymentRequest(id=payment.id), timeout=10
    )
    return response.payment


def refund_request(
    payment_id: str, amount: int, request_id: str | None = None, reason: str = "delivery failed"
) -> payment_service_pb2.RefundPaymentRequest:
    return payment_service_pb2.RefundPaymentRequest(
        payment_id=payment_id,
        request_id=request_id or new_id("ful"),
        amount=rupiah(amount),
        reason=reason,
    )


def refund(
    stub: payment_service_pb2_grpc.PaymentServiceStub, payment_id: str, amount: int, **request: Any
) -> payment_service_pb2.RefundPaymentResponse:
    response: payment_service_pb2.RefundPaymentResponse = stub.RefundPayment(
        refund_request(payment_id, amount, **request), timeout=30
    )
    return response


def stored_events(database: peewee.Database) -> list[tuple[int, str, str]]:
    """(sequence, type, payment id) of every stored event, in sequence order."""
    with database.connection_context():
        return [
            (event.sequence, event.type, event.payment_id)
            for event in PaymentEvent.select().order_by(PaymentEvent.sequence)
        ]


def watched_events(
    stub: payment_service_pb2_grpc.PaymentServiceStub, count: int, after_sequence: int = 0
) -> list[payment_pb2.PaymentEvent]:
    """The first count events WatchPaymentEvents sends after after_sequence; then cancels."""
    call = stub.WatchPaymentEvents(
        payment_service_pb2.WatchPaymentEventsRequest(after_sequence=after_sequence), timeout=30
    )
    events: list[payment_pb2.PaymentEvent] = []
    try:
        for response in call:
            events.append(response.event)
            if len(events) == count:
                break
    finally:
        call.cancel()
    return events


def run_concurrently(count: int, work: Callable[[int], object]) -> list[object]:
    """Runs work(0..count-1) on count threads released at once; returns results or exceptions."""
    barrier = threading.Barrier(count)
    results: list[object] = [None] * count

    def run(index: int) -> None:
        barrier.wait()
        try:
            results[index] = work(index)
        except Exception as error:  # collected for the test to assert on
            results[index] = error

    threads = [threading.Thread(target=run, args=(index,)) for index in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results
