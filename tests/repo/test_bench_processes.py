"""scripts/bench counts every process a server forked: a supervisor's workers and their own
children by name for memory, and CPU time that exited workers used (their parent's
waited-for children's time) for CPU per request."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import pytest
from bench.cpu import cpu_seconds
from bench.memory import process_tree

# A parent forking two workers, the first forking a child of its own; all sleep until killed.
FORKING_PARENT = """
import os, time
for number in range(2):
    if os.fork() == 0:
        if number == 0 and os.fork() == 0:
            time.sleep(60)
        time.sleep(60)
print("forked", flush=True)
time.sleep(60)
"""

# A parent whose child burns 0.3 s of CPU and exits, then the parent waits for it.
PARENT_OF_A_BUSY_CHILD = """
import os, sys, time
sys.stdin.readline()
child = os.fork()
if child == 0:
    while time.process_time() < 0.3:
        pass
    os._exit(0)
os.waitpid(child, 0)
print("waited", flush=True)
time.sleep(60)
"""


@pytest.fixture
def started() -> Iterator[list[subprocess.Popen[str]]]:
    """The processes a test starts; each killed at the end, with what it forked, by PID."""
    processes: list[subprocess.Popen[str]] = []
    yield processes
    for process in processes:
        for pid in reversed(process_tree("started", process.pid).values()):
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        process.wait(timeout=10)


def start(started: list[subprocess.Popen[str]], code: str) -> subprocess.Popen[str]:
    process = subprocess.Popen(
        [sys.executable, "-c", code], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    started.append(process)
    return process


def test_a_supervisor_s_workers_and_their_children_are_named_in_its_tree(
    started: list[subprocess.Popen[str]],
) -> None:
    parent = start(started, FORKING_PARENT)
    assert parent.stdout is not None
    assert parent.stdout.readline().strip() == "forked"
    deadline = time.monotonic() + 10
    while len(tree := process_tree("product", parent.pid)) < 4 and time.monotonic() < deadline:
        time.sleep(0.05)

    assert sorted(tree) == ["product", "product/worker-1", "product/worker-1/child-1", "product/worker-2"]
    assert tree["product"] == parent.pid


def test_the_cpu_of_a_worker_that_exited_counts_in_its_parent(started: list[subprocess.Popen[str]]) -> None:
    parent = start(started, PARENT_OF_A_BUSY_CHILD)
    assert parent.stdin is not None
    assert parent.stdout is not None
    before = cpu_seconds({"parent": parent.pid})
    parent.stdin.write("go\n")
    parent.stdin.flush()
    assert parent.stdout.readline().strip() == "waited"

    assert cpu_seconds({"parent": parent.pid}) - before >= 0.25
