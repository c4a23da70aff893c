"""Full-jitter backoff: delays within the exponential envelope, and never a sleep that reaches the deadline."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from transformer.backoff import DeadlineBackoff, full_jitter


@given(
    attempt=st.integers(min_value=0, max_value=40),
    draw=st.floats(min_value=0, max_value=1, exclude_max=True),
    base=st.floats(min_value=0.001, max_value=1),
    cap=st.floats(min_value=0.001, max_value=30),
)
def test_delay_is_a_fraction_of_the_capped_exponential(attempt, draw, base, cap):
    delay = full_jitter(attempt, base=base, cap=cap, draw=lambda: draw)
    assert 0 <= delay <= min(cap, base * 2**attempt)
    assert delay == draw * min(cap, base * 2**attempt)


def test_pause_sleeps_only_when_the_wait_ends_before_the_deadline():
    slept: list[float] = []
    now = [100.0]
    backoff = DeadlineBackoff(0.5, 4.0, slept.append, lambda: now[0], lambda: 0.5)
    assert backoff.pause(0, deadline=101.0) is True  # 0.25 s fits
    assert backoff.pause(3, deadline=101.0) is False  # 2.0 s would reach the deadline
    assert backoff.pause(10, deadline=103.0) is True  # capped at 4.0 -> 2.0 s
    assert slept == [0.25, 2.0]
