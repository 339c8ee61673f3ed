"""Background sweeps: work that comes due with time (expiries), done in batches.

A sweep is a :func:`pasar_kit.background.loop_task` whose round is one batch: a full
batch means more may be due, so the next batch follows at once; otherwise the sweep
sleeps until the interval passes. It sweeps first when the server starts (a restarted
instance catches up at once), and a failure never ends it (see pasar_kit.background).
The sweep's own conditional updates make it safe beside the same sweep of other instances.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

from pasar_kit.background import loop_task


def batch_sweep_task(
    name: str, interval_seconds: float, sweep_batch: Callable[[], int], batch_size: int
) -> Callable[[threading.Event], None]:
    """A GrpcServer background task calling sweep_batch (which returns how many items it
    handled, at most batch_size) every interval_seconds until the server stops."""
    return loop_task(name, lambda: sweep_batch() == batch_size, interval_seconds)
