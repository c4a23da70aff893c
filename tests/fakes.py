"""Fakes shared by several test modules: a clock that sleeps without waiting, and a small campaign (its catalog
items, an email segment and the recommendations for it) written to files."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any


class FakeClock:
    """A monotonic clock for code that takes `clock` and `sleep`: sleeping advances it at once and is recorded."""

    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


ITEMS = [{"id": f"P{n}", "name": f"Product {n}"} for n in range(1, 10)]
"""The campaign's catalog: P1..P9, each titled `Product N`."""


def write_segment(path: Path, count: int, **extra: dict[str, Any]) -> Path:
    """`count` email endpoints ep-0.. (userN@example.com, first name NameN); `extra[endpoint id]` overrides fields."""
    lines = []
    for n in range(count):
        record = {
            "Id": f"ep-{n}",
            "ChannelType": "EMAIL",
            "Address": f"user{n}@example.com",
            "User": {"UserId": f"u-{n}", "UserAttributes": {"FirstName": [f"Name{n}"]}},
        }
        record.update(extra.get(f"ep-{n}", {}))
        lines.append(json.dumps(record))
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def write_recommendations(path: Path, count: int, missing: tuple[int, ...] = ()) -> Path:
    """Per endpoint ep-N but those `missing`: P(N % 9 + 1), P9 and an id the catalog does not have."""
    lines = [
        json.dumps({"id": f"ep-{n}", "items": [f"P{(n % 9) + 1}", "P9", "NOPE"]})
        for n in range(count)
        if n not in missing
    ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def undated(message: bytes) -> bytes:
    """An outbox `.eml` without its Date header (when its file was first written): to compare the messages of two
    runs, which write at different moments."""
    return re.sub(rb"\r\nDate: [^\r]*", b"", message)
