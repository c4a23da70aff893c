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


EPOCHS_PER_CAPACITY = 4
"""Recency is refreshed at most once per epoch of `max_items // EPOCHS_PER_CAPACITY` changes (see `TtlLruCache`)."""


class TtlLruCache(Generic[V]):
    """Maps keys to values for `ttl_seconds`; holds at most `max_items`, evicting the least recently used.

    Expired entries are not served as fresh, but `lookup` still reports them as stale so a caller can fall
    back to them when the source of truth fails (stale-if-error).

    Recency is approximate, by epochs: a fresh hit moves its entry to the most recent end only when the entry was
    not already moved (or inserted) in the current epoch, which lasts `max_items // EPOCHS_PER_CAPACITY` moves and
    inserts. A warm batch then reorders nothing, and an entry stays until at least `max_items - epoch length` other
    keys have been put or hit since it was (exact LRU: `max_items`), the other keys of one `lookup` call aside.
    Moving every hit cost a steady-state batch ~10% (bench/RESULTS.md).
    """

    def __init__(self, ttl_seconds: float, max_items: int, clock: Callable[[], float] = time.monotonic) -> None:
        self._ttl = ttl_seconds
        self._max_items = max_items
        self._clock = clock
        self._entries: OrderedDict[str, tuple[float, V, int]] = OrderedDict()
        """Key -> (expires at, value, the epoch in which it was last moved to the recent end)."""
        self._epoch = 0
        self._epoch_length = max(1, max_items // EPOCHS_PER_CAPACITY)
        self._changes = 0
        """Moves and inserts in the current epoch."""

    @property
    def enabled(self) -> bool:
        return self._ttl > 0 and self._max_items > 0

    def __len__(self) -> int:
        return len(self._entries)

    def lookup(self, keys: Iterable[str]) -> CacheLookup[V]:
        now = self._clock()
        epoch = self._epoch
        fresh: dict[str, V] = {}
        stale: dict[str, V] = {}
        absent: list[str] = []
        entries = self._entries
        moved = 0
        for key in keys:
            entry = entries.get(key)
            if entry is None:
                absent.append(key)
                continue
            expires_at, value, moved_in = entry
            if expires_at > now:
                fresh[key] = value
                if moved_in != epoch:
                    entries.move_to_end(key)
                    entries[key] = (expires_at, value, epoch)
                    moved += 1
            else:
                stale[key] = value
        if moved:
            self._changed(moved)
        return CacheLookup(fresh, stale, absent)

    def put_many(self, values: dict[str, V]) -> None:
        if not self.enabled:
            return
        expires_at = self._clock() + self._ttl
        epoch = self._epoch
        entries = self._entries
        for key, value in values.items():
            entries[key] = (expires_at, value, epoch)
            entries.move_to_end(key)
        while len(entries) > self._max_items:
            entries.popitem(last=False)
        self._changed(len(values))

    def _changed(self, count: int) -> None:
        self._changes += count
        if self._changes >= self._epoch_length:
            self._epoch += 1
            self._changes = 0

    def clear(self) -> None:
        self._entries.clear()
