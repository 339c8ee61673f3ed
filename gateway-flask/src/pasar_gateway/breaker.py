"""A circuit breaker per backend, so that a service that is down costs its routes nothing.

Closed: calls go through. After ``failure_threshold`` consecutive failures (the service
could not be reached, or did not answer within its deadline) it opens: calls fail at once,
without touching the network, for ``reset_seconds``. Then it is half-open: one call goes
through as a probe while the others still fail at once; the probe's success closes the
breaker, its failure opens it for another period. gRPC keeps reconnecting underneath, so
the first probe after the service returns succeeds and the routes recover by themselves.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable


class BreakerState(enum.IntEnum):
    """The breaker's states; the values are what the metrics report."""

    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


class CircuitOpen(Exception):
    """The breaker refused a call; retry_after is how long until it lets a probe through."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"circuit open for {retry_after:.2f}s")
        self.retry_after = retry_after


class CircuitBreaker:
    """Thread-safe; one per backend and per process."""

    def __init__(
        self,
        failure_threshold: int,
        reset_seconds: float,
        *,
        clock: Callable[[], float] = time.monotonic,
        on_change: Callable[[BreakerState], None] | None = None,
    ) -> None:
        self.failure_threshold = failure_threshold
        self.reset_seconds = reset_seconds
        self._clock = clock
        self._on_change = on_change
        self._lock = threading.Lock()
        self._state = BreakerState.CLOSED
        self._failures = 0
        self._opened_at = 0.0
        self._probe_in_flight = False

    @property
    def state(self) -> BreakerState:
        with self._lock:
            if self._state == BreakerState.OPEN and self._clock() - self._opened_at >= self.reset_seconds:
                return BreakerState.HALF_OPEN
            return self._state

    def before_call(self) -> None:
        """Raises CircuitOpen unless a call may go through now."""
        with self._lock:
            if self._state == BreakerState.CLOSED:
                return
            waited = self._clock() - self._opened_at
            if self._state == BreakerState.OPEN and waited >= self.reset_seconds:
                self._set(BreakerState.HALF_OPEN)
            if self._state == BreakerState.HALF_OPEN and not self._probe_in_flight:
                self._probe_in_flight = True
                return
            raise CircuitOpen(max(self.reset_seconds - waited, 0.0))

    def record_success(self) -> None:
        with self._lock:
            self._failures = 0
            self._probe_in_flight = False
            if self._state != BreakerState.CLOSED:
                self._set(BreakerState.CLOSED)

    def record_failure(self) -> None:
        with self._lock:
            self._failures += 1
            probe_failed = self._state == BreakerState.HALF_OPEN
            self._probe_in_flight = False
            if probe_failed or self._failures >= self.failure_threshold:
                self._opened_at = self._clock()
                if self._state != BreakerState.OPEN:
                    self._set(BreakerState.OPEN)

    def release_probe(self) -> None:
        """The probe ended without telling whether the service is up (say, a bad request)."""
        with self._lock:
            self._probe_in_flight = False

    def _set(self, state: BreakerState) -> None:
        self._state = state
        if self._on_change is not None:
            self._on_change(state)
