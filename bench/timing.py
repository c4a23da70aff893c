"""Timing helpers: run a callable many times and summarise the durations."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Timing:
    samples: int
    median_ms: float
    p95_ms: float

    def cell(self) -> str:
        return f"{self.median_ms:,.3f} / {self.p95_ms:,.3f}"


def summarise(seconds: Sequence[float]) -> Timing:
    ordered = sorted(seconds)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    return Timing(len(ordered), statistics.median(ordered) * 1000, p95 * 1000)


def timed(action: Callable[[], object]) -> float:
    started = time.perf_counter()
    action()
    return time.perf_counter() - started
