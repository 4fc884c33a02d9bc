"""The circuit breaker as a pure state machine over a clock the tests move."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from haoban.exchange.sources.breaker import CircuitBreaker
from haoban.kit.clock import FrozenClock


@pytest.fixture
def breaker_clock() -> FrozenClock:
    return FrozenClock(datetime(2026, 1, 1, tzinfo=UTC))


def opened(clock: FrozenClock, failures: int = 3, reset_s: float = 30) -> CircuitBreaker:
    breaker = CircuitBreaker(failures=failures, reset_s=reset_s, clock=clock)
    for _ in range(failures):
        assert breaker.allow()
        breaker.record_failure()
    return breaker


def test_stays_closed_below_the_threshold(breaker_clock: FrozenClock) -> None:
    breaker = CircuitBreaker(failures=3, reset_s=30, clock=breaker_clock)
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state == "closed"
    assert breaker.allow()


def test_opens_after_n_consecutive_failures_and_refuses(breaker_clock: FrozenClock) -> None:
    breaker = opened(breaker_clock)
    assert breaker.state == "open"
    assert not breaker.allow()
    breaker_clock.advance(timedelta(seconds=29))
    assert not breaker.allow()


def test_a_success_resets_the_count_of_consecutive_failures(breaker_clock: FrozenClock) -> None:
    breaker = CircuitBreaker(failures=3, reset_s=30, clock=breaker_clock)
    for _ in range(5):
        breaker.record_failure()
        breaker.record_failure()
        breaker.record_success()
    assert breaker.state == "closed"
    assert breaker.allow()


def test_after_the_reset_period_exactly_one_trial_goes_out(breaker_clock: FrozenClock) -> None:
    breaker = opened(breaker_clock)
    breaker_clock.advance(timedelta(seconds=30))
    assert breaker.state == "half_open"
    assert breaker.allow()
    assert not breaker.allow()
    assert not breaker.allow()


def test_a_successful_trial_closes_the_breaker(breaker_clock: FrozenClock) -> None:
    breaker = opened(breaker_clock)
    breaker_clock.advance(timedelta(seconds=30))
    assert breaker.allow()
    breaker.record_success()
    assert breaker.state == "closed"
    assert breaker.allow()
    assert breaker.allow()
    # and it needs the full count of failures to open again
    breaker.record_failure()
    breaker.record_failure()
    assert breaker.state == "closed"


def test_a_failed_trial_reopens_for_a_full_period(breaker_clock: FrozenClock) -> None:
    breaker = opened(breaker_clock)
    breaker_clock.advance(timedelta(seconds=30))
    assert breaker.allow()
    breaker.record_failure()  # one failure is enough in half-open
    assert breaker.state == "open"
    breaker_clock.advance(timedelta(seconds=29))
    assert not breaker.allow()
    breaker_clock.advance(timedelta(seconds=1))
    assert breaker.allow()


def test_a_trial_that_never_reports_back_is_given_up_after_a_period(breaker_clock: FrozenClock) -> None:
    breaker = opened(breaker_clock)
    breaker_clock.advance(timedelta(seconds=30))
    assert breaker.allow()  # the trial's caller is cancelled and never records an outcome
    breaker_clock.advance(timedelta(seconds=29))
    assert not breaker.allow()
    breaker_clock.advance(timedelta(seconds=1))
    assert breaker.allow()


@pytest.mark.parametrize(("failures", "reset_s"), [(0, 30), (3, 0)])
def test_rejects_nonsense_settings(breaker_clock: FrozenClock, failures: int, reset_s: float) -> None:
    with pytest.raises(ValueError, match="must be"):
        CircuitBreaker(failures=failures, reset_s=reset_s, clock=breaker_clock)
