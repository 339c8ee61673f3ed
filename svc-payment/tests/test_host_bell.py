"""The host bell's wake-ups between processes of one database (pasar_payment.host_bell), on
real abstract-namespace sockets: each bell and its listening thread stand for one process."""

from __future__ import annotations

import secrets
import threading
from collections.abc import Iterator

import pytest

from pasar_payment.host_bell import HostBell


class Process:
    """A bell listening on a thread of its own, as a server's background task does."""

    def __init__(self, identity: str) -> None:
        self.bell = HostBell(identity)
        self.rung = threading.Event()
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self.bell.listen, args=(self.rung.set, self.stopping))
        self.thread.start()

    def stop(self) -> None:
        self.stopping.set()
        self.thread.join(timeout=10)


@pytest.fixture
def processes() -> Iterator[list[Process]]:
    """Six processes of one database of their own (no other test's bell shares their names)."""
    identity = f"sqlite:/test/{secrets.token_hex(8)}.db"
    made = [Process(identity) for _ in range(6)]
    yield made
    for process in made:
        process.stopping.set()
    for process in made:
        process.stop()


def test_each_process_takes_the_lowest_free_slot_and_wakes_every_other(processes: list[Process]) -> None:
    assert [process.bell.slot for process in processes] == list(range(6))
    processes[2].bell.ring_others()
    others = processes[:2] + processes[3:]
    assert all(process.rung.wait(timeout=5) for process in others)
    assert not processes[2].rung.is_set()


def test_processes_above_a_run_of_gone_ones_still_wake_each_other(processes: list[Process]) -> None:
    """The four lowest processes are gone (another instance of the host stopped): the two left
    above them must still wake each other, not fall back to their poll for good."""
    for gone in processes[:4]:
        gone.stopping.set()
    for gone in processes[:4]:
        gone.stop()
    processes[4].bell.ring_others()
    assert processes[5].rung.wait(timeout=5)
    processes[5].bell.ring_others()
    assert processes[4].rung.wait(timeout=5)
