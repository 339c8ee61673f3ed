"""A supervisor of forked worker processes that serve one port (PASAR_GRPC_PROCESSES > 1).

grpcio's C core does not survive a fork once a gRPC object exists, so, as grpcio's own
multiprocessing example does, the process forks its workers first and each worker builds
its own server, all bound to one port with SO_REUSEPORT (the kernel spreads connections).
The supervisor forks from its main thread, so that each worker's parent-death signal
(``PR_SET_PDEATHSIG``: SIGKILL) fires when the supervisor dies however it dies: a killed
supervisor leaves nothing running, as a crash of one process would.

SIGTERM or SIGINT is passed on to every worker, and the supervisor returns once all have
exited (0 after a clean stop). A worker that exits while no stop was asked for is logged
and replaced, unless workers keep dying right after their fork (MAX_EARLY_DEATHS in a row:
the service ends with status 1); one that exits with status 2 (a start-up failure: a
setting, the database, the address) ends the service with status 2, as one process would.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import os
import signal
import sys
import threading
import time
import traceback
from collections.abc import Callable
from types import FrameType

log = logging.getLogger(__name__)

STARTUP_FAILURE = 2  # the status of every expected start-up failure (pasar_kit.cli)
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)
PR_SET_PDEATHSIG = 1  # linux/prctl.h
# A worker that dies sooner than this after its fork is replaced this much later, so that
# a worker that cannot live (a crash at start) is not forked in a tight loop.
REPLACE_PAUSE_SECONDS = 1.0
# Workers that die this many times in a row, each sooner than STABLE_SECONDS after its fork,
# cannot live here (a crash at every start): the service ends with status 1, for its own
# supervisor (systemd, Kubernetes) to report and back off, instead of forking them forever.
MAX_EARLY_DEATHS = 5
STABLE_SECONDS = 10.0


class Supervisor:
    """Forks count workers, each running work() and exiting with what it returns."""

    def __init__(
        self,
        count: int,
        work: Callable[[], int],
        *,
        fork_turn: threading.Lock,
        on_exit: Callable[[int], None] = lambda _pid: None,
    ) -> None:
        """fork_turn: held while forking (whoever opens a database connection in this process
        holds it meanwhile: a worker must not share an open socket with its supervisor).
        on_exit: called with a worker's pid once it has exited (its figures let go of)."""
        self.count = count
        self.work = work
        self.fork_turn = fork_turn
        self.on_exit = on_exit
        self.workers: dict[int, float] = {}  # pid: when it was forked (monotonic)
        self.stopping = False
        self.status = 0
        self.early_deaths = 0  # in a row

    def start(self) -> list[int]:
        """Forks the workers and passes SIGTERM and SIGINT on to them from now on."""
        for number in STOP_SIGNALS:
            signal.signal(number, self._forward)
        for _ in range(self.count):
            if not self.stopping:
                self._fork()
        return sorted(self.workers)

    def wait(self) -> int:
        """Waits until every worker has exited, replacing those that die unasked; returns the
        service's exit status."""
        while self.workers:
            try:
                pid, wait_status = os.waitpid(-1, 0)  # retried after each signal handler (PEP 475)
            except ChildProcessError:
                break
            forked = self.workers.pop(pid, None)
            if forked is None:
                continue
            self.on_exit(pid)
            self._exited(pid, os.waitstatus_to_exitcode(wait_status), forked)
        return self.status

    def _exited(self, pid: int, code: int, forked: float) -> None:
        how = {"pid": pid, **({"signal": signal.Signals(-code).name} if code < 0 else {"status": code})}
        if code == STARTUP_FAILURE:
            if not self.stopping:
                log.error("a worker could not start: stopping the others", extra=how)
                self.stop()
            self.status = STARTUP_FAILURE
            return
        if self.stopping:
            if code not in (0, *(-number for number in STOP_SIGNALS)) and self.status == 0:
                log.error("a worker failed as it stopped", extra=how)
                self.status = 1
            return
        lived = time.monotonic() - forked
        self.early_deaths = self.early_deaths + 1 if lived < STABLE_SECONDS else 0
        if self.early_deaths >= MAX_EARLY_DEATHS:
            log.error(
                "workers keep dying as they start: stopping the service",
                extra={**how, "deaths_in_a_row": self.early_deaths},
            )
            self.stop()
            self.status = 1
            return
        log.error("a worker exited unexpectedly: replacing it", extra=how)
        if lived < REPLACE_PAUSE_SECONDS:
            time.sleep(REPLACE_PAUSE_SECONDS - lived)
        if not self.stopping:
            self._fork()

    def stop(self, number: int = signal.SIGTERM) -> None:
        """Asks every worker to stop (they finish their calls, as one process does)."""
        self.stopping = True
        for pid in list(self.workers):
            with contextlib.suppress(ProcessLookupError):  # a worker is waited for before it goes
                os.kill(pid, number)

    def _forward(self, number: int, _frame: FrameType | None) -> None:
        log.info(
            "shutting down", extra={"signal": signal.Signals(number).name, "workers": sorted(self.workers)}
        )
        self.stop(number)

    def _fork(self) -> None:
        supervisor = os.getpid()
        # Blocked across the fork: a stop signal meanwhile reaches the new worker (it is
        # known by then) instead of running this process's handler in the worker.
        signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
        for stream in (sys.stdout, sys.stderr):
            stream.flush()  # or the worker would write out a copy of what is still buffered
        try:
            with self.fork_turn:
                pid = os.fork()
            if pid == 0:
                self._become_worker(supervisor)
            self.workers[pid] = time.monotonic()
            log.info("worker started", extra={"pid": pid})
        finally:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)

    def _become_worker(self, supervisor: int) -> None:
        """In the forked child: runs work and exits with its status, never returning."""
        status = 1
        try:
            for number in STOP_SIGNALS:
                signal.signal(number, signal.SIG_DFL)  # until the worker's server sets its own
            signal.pthread_sigmask(signal.SIG_UNBLOCK, STOP_SIGNALS)
            die_with_parent(supervisor)
            status = self.work()
        except BaseException:  # a bug: its traceback, and the worker is replaced
            traceback.print_exc()
        finally:
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            os._exit(status)


def run_forked(work: Callable[[], str]) -> tuple[int, str]:
    """Runs work in a forked child process and waits for it; returns the child's exit status
    and what work returned: "" (status 0), or a failure's one line (status 2). A bug in work
    shows its traceback (status 1). The child dies with this process.

    For a step whose memory the process should not keep (the migrations before serving,
    pasar_kit.cli); it must run before any gRPC object exists and with no database
    connection open, as the workers' forks do."""
    parent = os.getpid()
    reading, writing = os.pipe()
    for stream in (sys.stdout, sys.stderr):
        stream.flush()  # or the child would write out a copy of what is still buffered
    pid = os.fork()
    if pid == 0:
        status = 1
        try:
            os.close(reading)
            die_with_parent(parent)
            failure = work()
            os.write(writing, failure.encode())
            status = STARTUP_FAILURE if failure else 0
        except BaseException:
            traceback.print_exc()
        finally:
            for stream in (sys.stdout, sys.stderr):
                stream.flush()
            os._exit(status)
    os.close(writing)
    with os.fdopen(reading, "rb") as answer:
        failure = answer.read().decode()
    _, wait_status = os.waitpid(pid, 0)
    return os.waitstatus_to_exitcode(wait_status), failure


def die_with_parent(parent: int) -> None:
    """Has the kernel SIGKILL this process when its parent dies; exits at once if it already
    has (it died between the fork and the call, and this process was handed to another)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) != 0:
        error = ctypes.get_errno()
        raise OSError(error, f"prctl(PR_SET_PDEATHSIG): {os.strerror(error)}")
    if os.getppid() != parent:
        os._exit(1)
