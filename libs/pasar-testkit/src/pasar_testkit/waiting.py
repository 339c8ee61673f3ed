"""The one way tests wait for something that happens elsewhere (another process, a
background loop): poll, and fail the test with what was awaited once time is up."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def wait_for(
    check: Callable[[], T | None], timeout: float = 20.0, what: str = "", interval: float = 0.05
) -> T:
    """Calls check every interval seconds until it returns something true, and returns that;
    raises AssertionError naming what (or check) after timeout seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached within {timeout}s: {what or check}")
        time.sleep(interval)
