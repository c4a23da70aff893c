"""Pacing sends to a rate (a token bucket) and backing off after throttling (exponential, full jitter)."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from transformer.backoff import full_jitter


class TokenBucket:
    """Admits at most `rate` acquisitions per second on average, with bursts of at most `burst`. Thread-safe.

    `clock` and `sleep` are injectable so the behaviour is testable without waiting.
    """

    def __init__(
        self,
        rate: float,
        burst: float | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not rate > 0:
            raise ValueError("the rate must be positive")
        self.rate = rate
        self.capacity = max(burst if burst is not None else rate, 1.0)
        self._clock = clock
        self._sleep = sleep
        self._tokens = 1.0
        """Start with one token: a fresh run does not burst to capacity at once."""
        self._updated = clock()
        self._lock = threading.Lock()

    def _refill(self, now: float) -> None:
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now

    def acquire(self) -> float:
        """Take one token, sleeping until one is available; returns the time slept."""
        with self._lock:
            now = self._clock()
            self._refill(now)
            self._tokens -= 1.0
            wait = 0.0 if self._tokens >= 0 else -self._tokens / self.rate
        if wait > 0:
            self._sleep(wait)
        return wait


@dataclass
class Backoff:
    """Delays before retry `attempt` (1-based): uniform in [0, min(cap, base * 2**(attempt-1))] ("full jitter")."""

    base: float = 0.2
    cap: float = 20.0
    max_attempts: int = 6
    random: Callable[[], float] = field(default=random.random)

    def delay(self, attempt: int) -> float:
        return full_jitter(max(attempt - 1, 0), base=self.base, cap=self.cap, draw=self.random)
