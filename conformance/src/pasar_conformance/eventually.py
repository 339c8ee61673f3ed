"""Waiting for what a service does in the background (a biller's answer, an order paid
after its payment, stock back after a cancel): one poll loop with one bound for every suite."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")

# How long a change made in the background may take before a case counts it as missing.
SETTLE_SECONDS = 15.0
POLL_PAUSE_SECONDS = 0.05


def eventually(read: Callable[[], T], done: Callable[[T], bool], what: str) -> T:
    """read() until done(answer), for at most SETTLE_SECONDS; AssertionError naming what otherwise."""
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        answer = read()
        if done(answer):
            return answer
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} within {SETTLE_SECONDS:.0f} s; last seen:\n{answer}")
        time.sleep(POLL_PAUSE_SECONDS)
