"""Exponential backoff with full jitter: the one definition every retry loop in pinrec uses."""

from __future__ import annotations

import random
from collections.abc import Callable


def full_jitter(attempt: int, *, base: float, cap: float, draw: Callable[[], float] = random.random) -> float:
    """The delay before retry `attempt` (0 for the first): uniform in [0, min(cap, base * 2**attempt))."""
    return draw() * min(cap, base * 2.0**attempt)


class DeadlineBackoff:
    """Full-jitter backoff that never sleeps past a deadline (a `clock()` instant)."""

    def __init__(
        self,
        base: float,
        cap: float,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
        draw: Callable[[], float],
    ) -> None:
        self._base, self._cap = base, cap
        self._sleep, self._clock, self._draw = sleep, clock, draw

    def pause(self, attempt: int, deadline: float) -> bool:
        """Sleep before retry `attempt` and return True; return False, without sleeping, when the wait would
        reach the deadline (the caller then gives up with its own error)."""
        delay = full_jitter(attempt, base=self._base, cap=self._cap, draw=self._draw)
        if self._clock() + delay >= deadline:
            return False
        self._sleep(delay)
        return True
