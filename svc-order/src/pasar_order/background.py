"""How the order service's background tasks run: a loop per task on its own thread.

Each loop does a round of work inside its own database connection, then sleeps until
its interval passes, the server stops, or another part of the service rings its
doorbell (a change committed work for it: an e-mail queued, a reservation to commit), so
that work queued by a request is picked up at once rather than at the next poll.
A failed round is logged and retried after the interval; it never ends the loop.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

import peewee

from pasar_kit.logs import request_context

log = logging.getLogger(__name__)

# How often a sleeping loop checks whether the server is stopping.
_STOP_CHECK_SECONDS = 0.25


class Doorbell:
    """Wakes a sleeping background loop."""

    def __init__(self) -> None:
        self._rung = threading.Event()

    def ring(self) -> None:
        self._rung.set()

    def clear(self) -> None:
        self._rung.clear()

    def wait(self, timeout: float, stopping: threading.Event) -> None:
        """Sleeps up to timeout, less if rung or stopping."""
        deadline = time.monotonic() + timeout
        while not stopping.is_set():
            remaining = deadline - time.monotonic()
            if remaining <= 0 or self._rung.wait(min(remaining, _STOP_CHECK_SECONDS)):
                return


def run_loop(
    name: str,
    stopping: threading.Event,
    *,
    database: peewee.Database,
    work: Callable[[], bool],
    interval: float,
    doorbell: Doorbell | None = None,
) -> None:
    """Runs work until stopping is set; work returns True when more is waiting right away."""
    doorbell = doorbell or Doorbell()
    while not stopping.is_set():
        doorbell.clear()  # a ring during the round below makes the next wait return at once
        more = False
        try:
            with request_context(name), database.connection_context():
                more = work()
        except Exception:  # a failed round is retried; the loop must outlive any one error
            log.exception("background round failed", extra={"task": name})
        if not more:
            doorbell.wait(interval, stopping)
