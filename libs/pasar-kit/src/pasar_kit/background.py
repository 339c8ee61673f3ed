"""Background work beside the RPCs: a loop per task on its own thread, for the life of the server.

``loop_task`` makes a GrpcServer background task. Each round calls ``work()`` (which opens
the database connection it needs) and, unless it says more is waiting, sleeps until the
interval passes, the server stops, or another part of the service rings the loop's
:class:`Doorbell` (a change committed work for it: an e-mail queued, a reservation to
commit), so that work queued by a request is picked up at once rather than at the next
poll. The first round runs when the server starts.

A failed round never ends the loop: a database outage is a warning (health says so too,
and the next round catches up); any other failure is logged with its traceback.
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


def loop_task(
    name: str,
    work: Callable[[], bool],
    interval_seconds: float,
    doorbell: Doorbell | None = None,
) -> Callable[[threading.Event], None]:
    """A GrpcServer background task running work() until the server stops.

    work returns True when more is waiting right away (a full batch), and the next round
    follows at once; otherwise the loop sleeps interval_seconds or until doorbell rings.
    name labels the loop's log lines (as their request id).
    """
    bell = doorbell or Doorbell()

    def run_until_stopped(stopping: threading.Event) -> None:
        while not stopping.is_set():
            bell.clear()  # a ring during the round below makes the next wait return at once
            if not _round(name, work):
                bell.wait(interval_seconds, stopping)

    return run_until_stopped


def _round(name: str, work: Callable[[], bool]) -> bool:
    """One call of work; whether more is waiting (never after a failure)."""
    try:
        with request_context(name):
            return work()
    except (peewee.OperationalError, peewee.InterfaceError) as error:
        log.warning("%s could not reach the database", name, extra={"error": str(error)})
    except Exception:  # a bug must not end the loop for the life of the process
        log.exception("%s failed", name)
    return False
