"""pasar_kit.background and pasar_kit.sweeps: loops that outlive failures, wake when rung,
and end with the server."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from pasar_kit import database as db
from pasar_kit.background import Doorbell, loop_task
from pasar_kit.logs import request_id_var
from pasar_kit.sweeps import batch_sweep_task

# Longer than any test: a round that follows another came at once, or by a ring.
NEVER = 600.0


class Rounds:
    """work() for a loop: answers in turn (then False), counts its calls, and lets a test
    wait for the n-th."""

    def __init__(self, *answers: bool, during: Callable[[int], object] | None = None) -> None:
        self.answers = list(answers)
        self.during = during
        self.calls = 0
        self.request_ids: list[str] = []
        self.called = threading.Condition()

    def __call__(self) -> bool:
        with self.called:
            self.calls += 1
            self.request_ids.append(request_id_var.get())
            self.called.notify_all()
            call = self.calls
        if self.during:
            self.during(call)
        return self.answers[call - 1] if call <= len(self.answers) else False

    def wait_for(self, calls: int) -> None:
        with self.called:
            assert self.called.wait_for(lambda: self.calls >= calls, timeout=10), f"{self.calls} rounds ran"


@contextmanager
def running(task: Callable[[threading.Event], None]) -> Iterator[threading.Event]:
    """Runs task on its own thread as GrpcServer does; stops it at the end, and checks it ended."""
    stopping = threading.Event()
    thread = threading.Thread(target=task, args=(stopping,), daemon=True)
    thread.start()
    try:
        yield stopping
    finally:
        stopping.set()
        thread.join(10)
    assert not thread.is_alive(), "the loop ended when the server stopped"


def unreachable_database(tmp_path: Path) -> Callable[[], bool]:
    """work() that opens a real database which cannot be opened (its file is a folder)."""
    (tmp_path / "service.db").mkdir()
    database = db.connect(f"sqlite:///{tmp_path / 'service.db'}")

    def work() -> bool:
        with database.connection_context():
            database.execute_sql("SELECT 1")
        return False

    return work


def test_the_first_round_runs_at_start_and_rounds_follow_at_once_while_more_is_waiting() -> None:
    work = Rounds(True, True, True)
    with running(loop_task("outbox", work, NEVER)):
        work.wait_for(4)
    assert work.calls == 4, "the loop slept after the round that found nothing more"
    assert work.request_ids == ["outbox"] * 4, "log lines of a round carry the loop's name"


def test_a_ring_wakes_a_sleeping_loop() -> None:
    doorbell = Doorbell()
    work = Rounds()
    with running(loop_task("outbox", work, NEVER, doorbell)):
        work.wait_for(1)
        doorbell.ring()
        work.wait_for(2)


def test_a_ring_during_a_round_is_not_lost() -> None:
    doorbell = Doorbell()

    def ring_in_the_first_round(call: int) -> None:
        if call == 1:
            doorbell.ring()

    work = Rounds(during=ring_in_the_first_round)
    with running(loop_task("outbox", work, NEVER, doorbell)):
        work.wait_for(2)


def test_the_loop_ends_when_the_server_stops_while_it_sleeps() -> None:
    work = Rounds()
    with running(loop_task("outbox", work, NEVER)):
        work.wait_for(1)
    assert work.calls == 1


def test_a_database_outage_is_a_warning_and_the_loop_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    outage = unreachable_database(tmp_path)
    work = Rounds(during=lambda _: outage())
    with running(loop_task("outbox", work, 0.01)):
        work.wait_for(3)
    warnings = [record for record in caplog.records if record.name == "pasar_kit.background"]
    assert len(warnings) >= 2
    assert all(record.levelno == logging.WARNING and not record.exc_info for record in warnings)


def test_a_failing_round_is_logged_with_its_traceback_and_the_loop_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    def fail_first(call: int) -> None:
        if call == 1:
            raise RuntimeError("a bug")

    doorbell = Doorbell()
    work = Rounds(during=fail_first)
    with running(loop_task("outbox", work, NEVER, doorbell)):
        work.wait_for(1)
        doorbell.ring()
        work.wait_for(2)
    [failure] = [record for record in caplog.records if record.name == "pasar_kit.background"]
    assert failure.levelno == logging.ERROR
    assert failure.exc_info
    assert isinstance(failure.exc_info[1], RuntimeError)


def test_a_sweep_takes_batches_until_one_is_not_full() -> None:
    batches = iter([2, 2, 1])
    work = Rounds()
    handled: list[int] = []

    def sweep_batch() -> int:
        work()
        handled.append(next(batches, 0))
        return handled[-1]

    with running(batch_sweep_task("expiry", NEVER, sweep_batch, batch_size=2)):
        work.wait_for(3)
    assert handled == [2, 2, 1], "the sweep slept after the batch that was not full"


def test_a_sweep_outlives_an_unreachable_database(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    outage = unreachable_database(tmp_path)
    work = Rounds()

    def sweep_batch() -> int:
        work()
        outage()
        return 0

    with running(batch_sweep_task("expiry", 0.01, sweep_batch, batch_size=10)):
        work.wait_for(3)
    assert all(record.levelno == logging.WARNING for record in caplog.records)
    assert any("expiry could not reach the database" in record.getMessage() for record in caplog.records)
