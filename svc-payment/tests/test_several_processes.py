"""Several `pasar-payment serve` processes on one database, as worker processes or instances of
one host run: a stream served by one sees the events another records at once (not at its
poll), the expiry sweep runs in one process at a time, and every due payment is expired
once, also when the sweeping process is killed."""

from __future__ import annotations

import statistics
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import peewee
import pytest
from conftest import EVENT_TYPE, create_payment, stored_events

from pasar.payment.v1 import payment_pb2, payment_service_pb2, payment_service_pb2_grpc
from pasar_kit.leases import JobLeaseRow
from pasar_testkit.assertions import eventually
from pasar_testkit.callers import as_order_service
from pasar_testkit.processes import ComponentProcess, console_script

PaymentStub = payment_service_pb2_grpc.PaymentServiceStub
SAMPLES = 20


def payment_process(name: str, database_url: str, log_dir: Path, **env: str) -> ComponentProcess:
    """`pasar-payment serve` whose streams poll every 10 minutes, payments due a second after
    they are created, and the sweep looking every 0.2 s."""
    return ComponentProcess(
        name,
        command=[console_script("pasar-payment"), "serve"],
        env={
            "PASAR_ENV": "development",
            "DATABASE_URL": database_url,
            "PASAR_PAYMENT_EVENT_POLL_SECONDS": "600",
            "PASAR_PAYMENT_TTL_MAX_SECONDS": "1",
            "PASAR_PAYMENT_EXPIRY_SWEEP_SECONDS": "0.2",
            "PASAR_JOB_LEASE_SECONDS": "30",
            "PASAR_LOG_FORMAT": "json",
            "PASAR_LOG_LEVEL": "info",
            **env,
        },
        log_dir=log_dir,
    )


@pytest.fixture
def processes(
    database_url: str, database: peewee.Database, tmp_path: Path
) -> Iterator[list[ComponentProcess]]:
    """Two payment processes on the test's (migrated) database."""
    started = [payment_process(f"payment-{n}", database_url, tmp_path / "logs") for n in (1, 2)]
    try:
        for process in started:
            process.start()
        yield started
    finally:
        for process in started:
            process.stop()


class Arrivals:
    """When each payment's CREATED event reached a WatchPaymentEvents stream (monotonic time)."""

    def __init__(self, stub: PaymentStub) -> None:
        self.call = stub.WatchPaymentEvents(payment_service_pb2.WatchPaymentEventsRequest(), timeout=120)
        self.created: dict[str, float] = {}
        self.opened = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for response in self.call:
                if response.event.type == EVENT_TYPE.PAYMENT_EVENT_TYPE_CREATED:
                    self.created[response.event.payment.id] = time.monotonic()
        except grpc.RpcError:
            pass

    def delay_of(self, created: payment_pb2.Payment, after: float) -> float:
        eventually(lambda: created.id in self.created, timeout=5, message="the event reached the stream")
        return self.created[created.id] - after


def delay(writer: PaymentStub, arrivals: Arrivals) -> float:
    """How long after CreatePayment was called its CREATED event reached the stream."""
    started = time.monotonic()
    return arrivals.delay_of(create_payment(writer), started)


def delays(writer: PaymentStub, arrivals: Arrivals) -> list[float]:
    return [delay(writer, arrivals) for _ in range(SAMPLES)]


def holders(database: peewee.Database) -> dict[str, str | None]:
    with database.connection_context():
        return {row.name: row.owner for row in JobLeaseRow.select().execute(database)}


def expired_by(process: ComponentProcess) -> int:
    return sum(1 for line in process.logged_lines() if line.get("message") == "payment expired")


def test_events_cross_processes_at_once_and_each_due_payment_expires_once(
    processes: list[ComponentProcess], database: peewee.Database
) -> None:
    first, second = processes
    with (
        as_order_service(grpc.insecure_channel(first.address)) as first_channel,
        as_order_service(grpc.insecure_channel(second.address)) as second_channel,
    ):
        first_stub, second_stub = PaymentStub(first_channel), PaymentStub(second_channel)
        arrivals = Arrivals(second_stub)
        own = delays(second_stub, arrivals)
        other = delays(first_stub, arrivals)  # recorded by the first process, served by the second
        print(
            f"CREATED reached a stream {statistics.median(own) * 1000:.1f} ms (max {max(own) * 1000:.1f})"
            f" after the call to its own process, {statistics.median(other) * 1000:.1f} ms"
            f" (max {max(other) * 1000:.1f}) after the call to the other process"
        )
        arrivals.call.cancel()

        # Every payment is due a second after it was created: the sweep of one process expires them.
        payment_ids = {event[2] for event in stored_events(database)}
        eventually(
            lambda: sum(1 for _, kind, _ in stored_events(database) if kind == "EXPIRED") == len(payment_ids),
            timeout=20,
            message="every payment expired",
        )
        sweeping = [process for process in processes if expired_by(process)]
        assert len(sweeping) == 1, "one process holds the sweep's lease and expires them all"
        (sweeper,) = sweeping
        assert holders(database)["payment-expiry"] is not None

        # The sweeping process killed: the other takes the sweep over at once (this host: it
        # sees the holder gone), well before the 30 s lease runs out.
        other_process = second if sweeper is first else first
        other_stub = second_stub if sweeper is first else first_stub
        sweeper.kill()
        later = {create_payment(other_stub).id for _ in range(5)}
        eventually(
            lambda: {event[2] for event in stored_events(database) if event[1] == "EXPIRED"} >= later,
            timeout=10,
            message="the other process took the sweep over",
        )
        assert expired_by(other_process) == len(later)

    expired = [payment_id for _, kind, payment_id in stored_events(database) if kind == "EXPIRED"]
    assert len(expired) == len(set(expired)) == len(payment_ids) + len(later), "each expired once"


def test_a_stream_served_by_one_worker_sees_every_worker_s_events_at_once(
    database_url: str, database: peewee.Database, tmp_path: Path
) -> None:
    """PASAR_GRPC_PROCESSES=2: the workers are forked before any HostBell is made, and each
    makes its own. Calls over eight connections reach both workers (the kernel spreads
    connections over the port's sockets): each CREATED reaches one stream well before the
    10-minute poll, and the one holder of the expiry lease expires every payment once."""
    service = payment_process("payment", database_url, tmp_path / "logs", PASAR_GRPC_PROCESSES="2")
    service.start()
    channels = [
        as_order_service(
            grpc.insecure_channel(service.address, options=[("grpc.use_local_subchannel_pool", 1)])
        )
        for _ in range(8)
    ]
    try:
        stubs = [PaymentStub(channel) for channel in channels]
        arrivals = Arrivals(stubs[0])
        measured = [delay(stub, arrivals) for stub in stubs * 3]
        median, slowest = statistics.median(measured) * 1000, max(measured) * 1000
        print(f"CREATED reached the stream {median:.1f} ms (max {slowest:.1f}) after the call")
        arrivals.call.cancel()
        eventually(
            lambda: sum(1 for _, kind, _ in stored_events(database) if kind == "EXPIRED") == len(measured),
            timeout=20,
            message="every payment expired",
        )
        holders_logged = {
            line.get("claimant") for line in service.logged_lines() if line.get("job") == "payment-expiry"
        }
        assert len(holders_logged) == 1, "one worker held the sweep's lease"
    finally:
        for channel in channels:
            channel.close()
        service.stop()
    expired = [payment_id for _, kind, payment_id in stored_events(database) if kind == "EXPIRED"]
    assert len(expired) == len(set(expired)) == len(measured), "each expired once"
