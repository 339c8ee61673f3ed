"""The circuit breaker's states, on a clock the test moves."""

from __future__ import annotations

import pytest

from pasar_gateway.breaker import BreakerState, CircuitBreaker, CircuitOpen


def state(breaker: CircuitBreaker) -> BreakerState:
    """The breaker's state now (a call, so that each assertion reads it afresh)."""
    return breaker.state


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_opens_after_consecutive_failures_only() -> None:
    breaker = CircuitBreaker(3, 5.0, clock=Clock())
    for _ in range(2):
        breaker.before_call()
        breaker.record_failure()
    breaker.before_call()
    breaker.record_success()  # a success in between starts the count again
    for _ in range(2):
        breaker.before_call()
        breaker.record_failure()
    assert state(breaker) == BreakerState.CLOSED
    breaker.before_call()
    breaker.record_failure()
    assert state(breaker) == BreakerState.OPEN
    with pytest.raises(CircuitOpen) as refused:
        breaker.before_call()
    assert refused.value.retry_after == pytest.approx(5.0)


def test_half_open_lets_one_probe_through_and_closes_on_success() -> None:
    clock = Clock()
    changes: list[BreakerState] = []
    breaker = CircuitBreaker(1, 5.0, clock=clock, on_change=changes.append)
    breaker.record_failure()
    clock.now += 5.0
    assert state(breaker) == BreakerState.HALF_OPEN
    breaker.before_call()  # the probe
    with pytest.raises(CircuitOpen):
        breaker.before_call()  # others still fail fast while the probe is out
    breaker.record_success()
    assert state(breaker) == BreakerState.CLOSED
    breaker.before_call()
    assert changes == [BreakerState.OPEN, BreakerState.HALF_OPEN, BreakerState.CLOSED]


def test_a_failed_probe_opens_it_again_for_a_full_period() -> None:
    clock = Clock()
    breaker = CircuitBreaker(3, 5.0, clock=clock)
    for _ in range(3):
        breaker.record_failure()
    clock.now += 6.0
    breaker.before_call()
    breaker.record_failure()
    assert state(breaker) == BreakerState.OPEN
    clock.now += 4.9
    with pytest.raises(CircuitOpen):
        breaker.before_call()
    clock.now += 0.2
    breaker.before_call()


def test_a_probe_that_ends_without_an_answer_frees_the_next_probe() -> None:
    clock = Clock()
    breaker = CircuitBreaker(1, 1.0, clock=clock)
    breaker.record_failure()
    clock.now += 1.0
    breaker.before_call()
    breaker.release_probe()
    breaker.before_call()  # another probe may go
