"""Resolving item ids to attribute values: the per-container cache first, then one batched store lookup."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection
from dataclasses import dataclass

from transformer.attributes import ItemProjector, ItemValues
from transformer.cache import TtlLruCache
from transformer.errors import CatalogUnavailableError
from transformer.stores.base import ItemStore

Cached = ItemValues | None
"""A cached outcome: the attribute values, or None for an id the catalog does not have (negative entry)."""


@dataclass(slots=True)
class ResolveStats:
    unique_ids: int = 0
    cache_hits: int = 0
    store_ids: int = 0
    stale_served: int = 0
    store_failed: bool = False
    lookup_seconds: float = 0.0


class CatalogResolver:
    """Resolves a batch's unique ids in one store call for whatever the cache cannot answer fresh.

    When the store fails, expired cache entries are served (stale-if-error); when some id has no entry at
    all, the failure propagates so the whole batch is retried rather than sent with unresolved values.
    """

    def __init__(
        self,
        store: ItemStore,
        projector: ItemProjector,
        cache: TtlLruCache[Cached],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._projector = projector
        self._cache = cache
        self._clock = clock
        self.last = ResolveStats()

    def resolve(self, ids: Collection[str], *, deadline: float | None = None) -> dict[str, Cached]:
        stats = ResolveStats(unique_ids=len(ids))
        self.last = stats
        started = self._clock()
        lookup = self._cache.lookup(ids)
        stats.cache_hits = len(lookup.fresh)
        resolved: dict[str, Cached] = dict(lookup.fresh)
        wanted = [*lookup.stale, *lookup.absent]
        if wanted:
            stats.store_ids = len(wanted)
            try:
                items = self._store.get_many(wanted, deadline=deadline)
            except CatalogUnavailableError:
                stats.store_failed = True
                if lookup.absent:
                    raise
                stats.stale_served = len(lookup.stale)
                resolved.update(lookup.stale)
            else:
                fetched: dict[str, Cached] = {}
                for item_id in wanted:
                    item = items.get(item_id)
                    fetched[item_id] = None if item is None else self._projector.project(item)
                self._cache.put_many(fetched)
                resolved.update(fetched)
        stats.lookup_seconds = self._clock() - started
        return resolved
