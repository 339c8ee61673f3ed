"""The payment event log and WatchPaymentEvents: backlog, then live, in order, without gaps."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator

import grpc
import pytest
from conftest import (
    EVENT_TYPE,
    PAYMENT_STATE,
    RunningService,
    StartService,
    create_payment,
    run_concurrently,
    stored_events,
)

from pasar.payment.v1 import payment_pb2, payment_service_pb2, payment_service_pb2_grpc
from pasar_kit import database as db
from pasar_payment import event_stream
from pasar_payment.events import record_event
from pasar_payment.models import EventType, Payment, PaymentState
from pasar_testkit.assertions import refused, violated_fields

PaymentStub = payment_service_pb2_grpc.PaymentServiceStub


class Watcher:
    """A WatchPaymentEvents call read on its own thread into a queue."""

    def __init__(
        self,
        stub: PaymentStub,
        after_sequence: int = 0,
        types: tuple[payment_pb2.PaymentEventType.ValueType, ...] = (),
    ) -> None:
        self.call = stub.WatchPaymentEvents(
            payment_service_pb2.WatchPaymentEventsRequest(after_sequence=after_sequence, types=types),
            timeout=120,
        )
        self.events: queue.Queue[payment_pb2.PaymentEvent] = queue.Queue()
        self.passed: queue.Queue[int] = queue.Queue()  # each message's passed_sequence
        self.error: grpc.RpcError | None = None
        self.finished = threading.Event()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        try:
            for response in self.call:
                if response.HasField("event"):
                    self.events.put(response.event)
                else:
                    self.passed.put(response.passed_sequence)
        except grpc.RpcError as error:
            self.error = error
        finally:
            self.finished.set()

    def take(self, count: int, timeout: float = 30) -> list[payment_pb2.PaymentEvent]:
        deadline = time.monotonic() + timeout
        return [self.events.get(timeout=max(0.01, deadline - time.monotonic())) for _ in range(count)]

    def nothing_more(self, wait: float = 0.5) -> bool:
        try:
            self.events.get(timeout=wait)
        except queue.Empty:
            return True
        return False

    def cancel(self) -> None:
        self.call.cancel()
        self.finished.wait(10)


@pytest.fixture
def watchers() -> Iterator[list[Watcher]]:
    opened: list[Watcher] = []
    yield opened
    for watcher in opened:
        watcher.cancel()


def simulate(stub: PaymentStub, payment_id: str) -> None:
    stub.SimulatePayment(payment_service_pb2.SimulatePaymentRequest(id=payment_id), timeout=10)


def cancel(stub: PaymentStub, payment_id: str) -> None:
    stub.CancelPayment(payment_service_pb2.CancelPaymentRequest(id=payment_id), timeout=10)


def test_backlog_then_live_events_in_order(service: RunningService, watchers: list[Watcher]) -> None:
    created = [create_payment(service.stub, channel_code="qris", amount=10_000 + i) for i in range(3)]
    watcher = Watcher(service.stub)
    watchers.append(watcher)
    backlog = watcher.take(3)
    assert [event.sequence for event in backlog] == [1, 2, 3]
    assert [event.type for event in backlog] == [EVENT_TYPE.PAYMENT_EVENT_TYPE_CREATED] * 3
    assert [event.payment for event in backlog] == created
    assert watcher.nothing_more()
    simulate(service.stub, created[1].id)
    live = create_payment(service.stub, channel_code="gopay", amount=70_000)
    paid, new = watcher.take(2)
    assert (paid.sequence, paid.type, paid.payment.id) == (
        4,
        EVENT_TYPE.PAYMENT_EVENT_TYPE_PAID,
        created[1].id,
    )
    assert paid.payment.state == PAYMENT_STATE.PAYMENT_STATE_PAID
    assert paid.create_time == paid.payment.update_time
    assert (new.sequence, new.type, new.payment) == (5, EVENT_TYPE.PAYMENT_EVENT_TYPE_CREATED, live)
    # An event keeps the payment as it was then, whatever happened since.
    replay = Watcher(service.stub)
    watchers.append(replay)
    assert replay.take(5)[1].payment.state == PAYMENT_STATE.PAYMENT_STATE_PENDING


def test_a_stream_resumes_after_its_cursor(service: RunningService, watchers: list[Watcher]) -> None:
    payments = [create_payment(service.stub) for _ in range(4)]
    watcher = Watcher(service.stub, after_sequence=2)
    watchers.append(watcher)
    assert [event.payment.id for event in watcher.take(2)] == [payments[2].id, payments[3].id]
    assert watcher.nothing_more()
    beyond = Watcher(service.stub, after_sequence=10)
    watchers.append(beyond)
    assert beyond.nothing_more()
    cancel(service.stub, payments[0].id)
    assert [event.sequence for event in watcher.take(1)] == [5]
    assert beyond.nothing_more(), "events up to the cursor are not sent again"


def test_a_stream_of_some_types_sends_only_those(service: RunningService, watchers: list[Watcher]) -> None:
    payments = [create_payment(service.stub, amount=10_000 + i) for i in range(3)]
    simulate(service.stub, payments[1].id)  # sequence 4
    settled = (EVENT_TYPE.PAYMENT_EVENT_TYPE_PAID, EVENT_TYPE.PAYMENT_EVENT_TYPE_CANCELLED)
    watcher = Watcher(service.stub, types=settled)
    watchers.append(watcher)
    everything = Watcher(service.stub)
    watchers.append(everything)
    (paid,) = watcher.take(1)
    assert (paid.sequence, paid.type, paid.payment.id) == (4, settled[0], payments[1].id)
    assert watcher.nothing_more(), "the backlog's CREATED events are not sent"
    assert watcher.passed.empty(), "the PAID event went past them: nothing to report"
    assert len(everything.take(4)) == 4
    create_payment(service.stub, amount=20_000)  # 5, live: not sent, but reported
    assert watcher.passed.get(timeout=10) == 5
    cancel(service.stub, payments[2].id)  # 6
    (cancelled,) = watcher.take(1)
    assert (cancelled.sequence, cancelled.type) == (6, settled[1])
    assert watcher.nothing_more()
    assert watcher.passed.empty()
    assert [event.sequence for event in everything.take(2)] == [5, 6]
    assert everything.passed.empty(), "a stream of every type passes nothing over"
    resumed = Watcher(service.stub, after_sequence=4, types=(EVENT_TYPE.PAYMENT_EVENT_TYPE_CREATED,))
    watchers.append(resumed)
    assert [event.sequence for event in resumed.take(1)] == [5]
    assert resumed.passed.get(timeout=10) == 6
    assert resumed.nothing_more()


def test_events_passed_over_are_reported_once_as_the_newest(
    start_service: StartService, watchers: list[Watcher], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(event_stream, "PROGRESS_SECONDS", 3.0)  # the three payments well within
    service = start_service()
    watcher = Watcher(service.stub, types=(EVENT_TYPE.PAYMENT_EVENT_TYPE_PAID,))
    watchers.append(watcher)
    for amount in (10_000, 20_000, 30_000):
        create_payment(service.stub, amount=amount)  # 1, 2, 3
    assert watcher.passed.get(timeout=10) == 3
    assert watcher.nothing_more(wait=1)
    assert watcher.passed.empty()


@pytest.mark.parametrize(
    "types",
    [
        [EVENT_TYPE.PAYMENT_EVENT_TYPE_UNSPECIFIED],
        [EVENT_TYPE.PAYMENT_EVENT_TYPE_PAID, EVENT_TYPE.PAYMENT_EVENT_TYPE_PAID],
        [99],
    ],
    ids=["unspecified", "twice", "undefined"],
)
def test_a_stream_of_types_not_every_one_a_type_once_is_invalid(stub: PaymentStub, types: list[int]) -> None:
    request = payment_service_pb2.WatchPaymentEventsRequest(types=types)  # type: ignore[arg-type]
    error = refused(lambda: list(stub.WatchPaymentEvents(request, timeout=10)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert [field.split("[")[0] for field in violated_fields(error)] == ["types"]


def test_a_negative_cursor_is_invalid(stub: PaymentStub) -> None:
    request = payment_service_pb2.WatchPaymentEventsRequest(after_sequence=-1)
    error = refused(lambda: list(stub.WatchPaymentEvents(request, timeout=10)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT


def test_concurrent_writers_leave_no_gap(service: RunningService, watchers: list[Watcher]) -> None:
    watcher = Watcher(service.stub)
    watchers.append(watcher)

    def write(worker: int) -> None:
        for index in range(8):
            payment = create_payment(
                service.stub, channel_code="bca_va", amount=20_000 + worker * 100 + index
            )
            if index % 2:
                cancel(service.stub, payment.id)
            else:
                simulate(service.stub, payment.id)

    results = run_concurrently(6, write)
    assert results == [None] * 6
    expected = 6 * 8 * 2
    received = watcher.take(expected, timeout=60)
    assert [event.sequence for event in received] == list(range(1, expected + 1))
    assert [(event.sequence, event.payment.id) for event in received] == [
        (sequence, payment_id) for sequence, _, payment_id in stored_events(service.database)
    ]
    created_at: dict[str, int] = {}
    for event in received:
        if event.type == EVENT_TYPE.PAYMENT_EVENT_TYPE_CREATED:
            created_at[event.payment.id] = event.sequence
        else:
            assert created_at[event.payment.id] < event.sequence, "created before it was settled or cancelled"
    assert watcher.nothing_more()
    # A consumer resuming from any cursor gets exactly the rest.
    resumed = Watcher(service.stub, after_sequence=37)
    watchers.append(resumed)
    assert [event.sequence for event in resumed.take(expected - 37)] == list(range(38, expected + 1))


def test_an_event_cannot_become_visible_before_a_lower_one(
    service: RunningService, watchers: list[Watcher]
) -> None:
    """A transaction that took a sequence holds back every later event until it commits.

    With an autoincrement id, the second writer below would commit sequence 3 while
    sequence 2 is still uncommitted: a consumer would see 3, store it as its cursor and
    never see 2. Here the second writer waits, and the consumer gets 2 before 3.
    """
    first = create_payment(service.stub)
    watcher = Watcher(service.stub)
    watchers.append(watcher)
    assert watcher.take(1)[0].sequence == 1
    database = service.database
    holding = threading.Event()
    release = threading.Event()

    def slow_cancel() -> None:
        with database.connection_context(), db.atomic_write(database):
            Payment.update(state=PaymentState.CANCELLED.value).where(Payment.id == first.id).execute()
            record_event(EventType.CANCELLED, Payment.get_by_id(first.id))
            holding.set()
            release.wait(30)

    holder = threading.Thread(target=slow_cancel)
    holder.start()
    assert holding.wait(10)
    second: queue.Queue[object] = queue.Queue()
    writer = threading.Thread(target=lambda: second.put(create_payment(service.stub, channel_code="qris")))
    writer.start()
    try:
        assert watcher.nothing_more(wait=1.5), "nothing may be visible while sequence 2 is uncommitted"
        assert writer.is_alive(), "the later writer waits for the earlier transaction"
    finally:
        release.set()
        holder.join(30)
        writer.join(30)
    later = second.get(timeout=1)
    assert isinstance(later, payment_pb2.Payment)
    two, three = watcher.take(2)
    assert (two.sequence, two.type, two.payment.id) == (2, EVENT_TYPE.PAYMENT_EVENT_TYPE_CANCELLED, first.id)
    assert (three.sequence, three.payment.id) == (3, later.id)


def test_a_cancelled_stream_frees_its_worker_at_once(start_service: StartService) -> None:
    # Two workers and a poll interval far longer than the test: only the call's end can
    # wake the streams, and until they return no other call can be served.
    running = start_service(PASAR_GRPC_WORKERS="2", PASAR_PAYMENT_EVENT_POLL_SECONDS="600")
    streams = [Watcher(running.stub) for _ in range(2)]
    time.sleep(0.3)
    request = payment_service_pb2.GetPaymentRequest(id="pay_" + "0" * 32)
    blocked = refused(lambda: running.stub.GetPayment(request, timeout=1))
    assert blocked.code() == grpc.StatusCode.DEADLINE_EXCEEDED, "both workers are streaming"
    started = time.monotonic()
    for stream in streams:
        stream.cancel()
        assert stream.finished.is_set()
    payment = create_payment(running.stub)
    assert payment.state == PAYMENT_STATE.PAYMENT_STATE_PENDING
    assert time.monotonic() - started < 10


def test_stopping_the_server_ends_streams_promptly(start_service: StartService) -> None:
    running = start_service(PASAR_PAYMENT_EVENT_POLL_SECONDS="600")
    create_payment(running.stub)
    watcher = Watcher(running.stub)
    assert watcher.take(1)[0].sequence == 1
    started = time.monotonic()
    running.server.stop(grace=60)
    assert time.monotonic() - started < 10, "the grace period is not spent waiting for the stream"
    assert watcher.finished.wait(10)
    assert watcher.error is not None
    assert watcher.error.code() == grpc.StatusCode.UNAVAILABLE


def test_events_of_every_process_of_this_host_arrive_at_once_and_of_another_host_by_polling(
    start_service: StartService, watchers: list[Watcher]
) -> None:
    """Processes of one host on one database wake each other's streams (pasar_payment.host_bell);
    an event written elsewhere (here: straight into the database, ringing nothing) is found by
    the next poll."""
    here = start_service(PASAR_PAYMENT_EVENT_POLL_SECONDS="600")
    there = start_service(PASAR_PAYMENT_EVENT_POLL_SECONDS="600")
    watcher = Watcher(here.stub)
    watchers.append(watcher)
    time.sleep(0.3)
    local = create_payment(here.stub)
    assert watcher.take(1, timeout=5)[0].payment == local, "woken by its own process's write"
    remote = create_payment(there.stub)
    assert watcher.take(1, timeout=5)[0].payment == remote, "woken by another process's write"

    with here.database.connection_context(), db.atomic_write(here.database):
        record_event(EventType.CANCELLED, Payment.get_by_id(remote.id))  # another host's write
    assert watcher.nothing_more(wait=1), "another host's write waits for the next poll"
    polling = start_service(PASAR_PAYMENT_EVENT_POLL_SECONDS="0.1")
    follower = Watcher(polling.stub, after_sequence=2)
    watchers.append(follower)
    elsewhere = follower.take(1, timeout=5)[0]
    assert (elsewhere.sequence, elsewhere.type) == (3, EVENT_TYPE.PAYMENT_EVENT_TYPE_CANCELLED), (
        "found by polling"
    )
