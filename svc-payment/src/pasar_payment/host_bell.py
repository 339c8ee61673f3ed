"""Waking the event streams of the other processes of this host that share the payment database.

A service may run several worker processes (PASAR_GRPC_PROCESSES), and a shop several
instances on one host. An event recorded by one process must reach a WatchPaymentEvents
stream served by another about as fast as one of its own, not at that stream's next poll.

Each process binds a datagram socket in Linux's abstract Unix namespace, named after the
database and the first free slot number: ``pasar-payment-events/<database>/<slot>``. After a
transaction that recorded events commits, its process sends one byte to every other slot
of its database; each process's listener wakes its own streams (:class:`EventFeed`), which
then read the new events from the database as usual. The kernel frees a name the moment its
process exits, even at SIGKILL, so there is nothing to clean up and no lock to leave held; a
replacement process takes the lowest free slot. No process needs to exist before the others
(the workers are forked before any of this is made), and an idle listener costs nothing.

A byte is only a hint: a lost one (a full queue, a process beyond the slots) costs the
stream its poll interval, as do events recorded on other hosts. Where the abstract namespace
is missing (not Linux), the bell stays silent and streams poll.
"""

from __future__ import annotations

import errno
import hashlib
import logging
import os
import select
import socket
import threading
from collections.abc import Callable

import peewee

log = logging.getLogger(__name__)

# Processes of one database on one host that get a slot; any further ones poll.
SLOTS = 64
# The slots are taken lowest first, so above a process's own slot a run of this many empty
# ones ends the search; below it every slot is tried (processes that left the lowest slots,
# another instance of the host stopped, must not hide those above them from each other).
EMPTY_RUN = 4


def database_identity(database: peewee.Database) -> str:
    """What makes two processes' databases the same one: the SQLite file, or host, port and name."""
    if isinstance(database, peewee.SqliteDatabase):
        return "sqlite:" + os.path.realpath(str(database.database))
    params = database.connect_params
    return f"{type(database).__name__}:{params.get('host')}:{params.get('port')}/{database.database}"


class HostBell:
    """One process's place among the processes of this host that share one database."""

    def __init__(self, identity: str) -> None:
        digest = hashlib.sha256(identity.encode()).hexdigest()[:16]
        self._prefix = f"\0pasar-payment-events/{digest}/"
        self._receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._receiver.setblocking(False)
        self._sender = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self._sender.setblocking(False)
        self.slot = self._bind()

    def _bind(self) -> int | None:
        for slot in range(SLOTS):
            try:
                self._receiver.bind(self._prefix + str(slot))
            except OSError as error:
                if error.errno == errno.EADDRINUSE:
                    continue
                log.info("no wake-ups between processes here: streams poll", extra={"error": str(error)})
                return None
            return slot
        log.info("every wake-up slot is taken: this process's streams poll", extra={"slots": SLOTS})
        return None

    def ring_others(self) -> None:
        """Wakes every other process of this database on this host (a hint; never blocks)."""
        if self.slot is None:
            return
        empty = 0
        for slot in range(SLOTS):
            if slot == self.slot:
                empty = 0  # the runs that count start above it
                continue
            try:
                self._sender.sendto(b"!", self._prefix + str(slot))
                empty = 0
            except (ConnectionRefusedError, FileNotFoundError):
                empty += 1
                if empty >= EMPTY_RUN and slot > self.slot:
                    return
            except BlockingIOError:  # its queue is full: it has wake-ups waiting already
                empty = 0
            except OSError as error:  # a hint lost: the stream's poll finds the events
                log.debug("a wake-up was not sent", extra={"error": str(error)})

    def listen(self, on_ring: Callable[[], None], stopping: threading.Event) -> None:
        """Calls on_ring once per burst of wake-ups until stopping is set (a background task)."""
        if self.slot is None:
            return
        stop_signal, stop_waker = socket.socketpair()
        waker = threading.Thread(
            target=_wake_when_set, args=(stopping, stop_waker), name="host-bell-stop", daemon=True
        )
        waker.start()
        try:
            while not stopping.is_set():
                readable, _, _ = select.select([self._receiver, stop_signal], [], [])
                if self._receiver in readable and self._drain():
                    on_ring()
        finally:
            waker.join()
            for used in (stop_signal, stop_waker, self._receiver, self._sender):
                used.close()

    def _drain(self) -> bool:
        """Reads every wake-up queued (one look at the log answers them all); whether any was."""
        woken = False
        while True:
            try:
                self._receiver.recv(16)
            except (BlockingIOError, InterruptedError):
                return woken
            woken = True


def _wake_when_set(stopping: threading.Event, waker: socket.socket) -> None:
    """Wakes the listener's select the moment its server stops (a stop then waits for no
    timeout: every test's service stopped a second late when the listener looked once a second)."""
    stopping.wait()
    waker.send(b"!")
