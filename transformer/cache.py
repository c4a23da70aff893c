"""A per-container, size-bounded LRU cache whose entries expire but stay readable as stale until evicted."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Generic, TypeVar

V = TypeVar("V")


@dataclass(frozen=True, slots=True)
class CacheLookup(Generic[V]):
    fresh: dict[str, V]
    stale: dict[str, V]
    absent: list[str]


class TtlLruCache(Generic[V]):
    """Maps keys to values for `ttl_seconds`; holds at most `max_items`, evicting the least recently used.

    Expired entries are not served as fresh, but `lookup` still reports them as stale so a caller can fall
    back to them when the source of truth fails (stale-if-error).
    """

    def __init__(self, ttl_seconds: float, max_items: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._max_items = max_items
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, V]] = OrderedDict()

    @property
    def enabled(self) -> bool:
        return self._ttl > 0 and self._max_items > 0

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, keys: Iterable[str]) -> CacheLookup[V]:
        now = self._clock()
        fresh: dict[str, V] = {}
        stale: dict[str, V] = {}
        absent: list[str] = []
        entries = self._entries
        for key in keys:
            entry = entries.get(key)
            if entry is None:
                absent.append(key)
                continue
            expires_at, value = entry
            if expires_at > now:
                fresh[key] = value
                entries.move_to_end(key)
            else:
                stale[key] = value
        return CacheLookup(fresh, stale, absent)

    def put_many(self, values: dict[str, V]) -> None:
        if not self.enabled:
            return
        expires_at = self._clock() + self._ttl
        entries = self._entries
        for key, value in values.items():
            entries[key] = (expires_at, value)
            entries.move_to_end(key)
        while len(entries) > self._max_items:
            entries.popitem(last=False)

    def clear(self) -> None:
        self._entries.clear()
