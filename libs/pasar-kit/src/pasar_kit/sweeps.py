"""Background sweeps: work that comes due with time (expiries), done in batches.

A sweep runs every interval on its own thread (a GrpcServer background task) until the
server stops. A full batch means more may be due, so the next batch follows at once. The
sweep's own conditional updates make it safe beside the same sweep of other instances.
A database outage is a warning (health says so too, and the next sweep catches up); any
other failure is logged with its traceback, and never ends the sweeps for the life of
the process.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

import peewee

log = logging.getLogger(__name__)


def batch_sweep_task(
    name: str, interval_seconds: float, sweep_batch: Callable[[], int], batch_size: int
) -> Callable[[threading.Event], None]:
    """A GrpcServer background task calling sweep_batch (which returns how many items it
    handled, at most batch_size) every interval_seconds until the server stops."""

    def sweep_until_stopped(stopping: threading.Event) -> None:
        while not stopping.wait(interval_seconds):
            try:
                while sweep_batch() == batch_size and not stopping.is_set():
                    pass
            except (peewee.OperationalError, peewee.InterfaceError) as error:
                log.warning("%s could not reach the database", name, extra={"error": str(error)})
            except Exception:  # a bug must not end the sweeps for the life of the process
                log.exception("%s failed", name)

    return sweep_until_stopped
