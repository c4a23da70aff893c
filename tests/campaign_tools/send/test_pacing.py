"""Token-bucket pacing and full-jitter backoff, with an injected clock: nothing here waits."""

from __future__ import annotations

import pytest

from campaign_tools.send.pacing import Backoff, TokenBucket
from tests.fakes import FakeClock

START = 100.0


def test_steady_rate_is_one_token_per_interval() -> None:
    clock = FakeClock(START)
    bucket = TokenBucket(10, clock=clock, sleep=clock.sleep)
    for _ in range(101):
        bucket.acquire()
    assert clock.now - START == pytest.approx(10.0)
    assert len(clock.slept) == 100 and all(wait == pytest.approx(0.1) for wait in clock.slept)


def test_idle_time_refills_up_to_the_burst_only() -> None:
    clock = FakeClock(START)
    bucket = TokenBucket(5, burst=3, clock=clock, sleep=clock.sleep)
    bucket.acquire()
    clock.now += 60  # a long pause banks no more than the burst
    started = clock.now
    for _ in range(3):
        assert bucket.acquire() == 0
    bucket.acquire()
    assert clock.now - started == pytest.approx(0.2)


def test_a_fresh_bucket_does_not_burst() -> None:
    clock = FakeClock(START)
    bucket = TokenBucket(2, burst=50, clock=clock, sleep=clock.sleep)
    for _ in range(5):
        bucket.acquire()
    assert clock.now - START == pytest.approx(2.0)


def test_fractional_rates_and_bad_rates() -> None:
    clock = FakeClock(START)
    bucket = TokenBucket(0.5, clock=clock, sleep=clock.sleep)
    bucket.acquire()
    bucket.acquire()
    assert clock.now - START == pytest.approx(2.0)
    for rate in (0, -1):
        with pytest.raises(ValueError, match="positive"):
            TokenBucket(rate)


def test_backoff_is_exponential_capped_and_jittered() -> None:
    top = Backoff(base=0.5, cap=3.0, random=lambda: 1.0)
    assert [top.delay(attempt) for attempt in range(1, 6)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    bottom = Backoff(base=0.5, cap=3.0, random=lambda: 0.0)
    assert bottom.delay(4) == 0.0
    half = Backoff(base=1.0, cap=100.0, random=lambda: 0.5)
    assert half.delay(3) == 2.0
