"""Resolving item ids to attribute values: the per-container cache first, then one batched store lookup."""

from __future__ import annotations

import time
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from functools import partial

from transformer.attributes import ItemProjector, ItemValues
from transformer.cache import TtlLruCache
from transformer.errors import CatalogUnavailableError
from transformer.items import ItemReason, is_item_id
from transformer.stores.base import DamagedDocument, ItemStore, Precomputed, Stored

Cached = ItemValues | ItemReason
"""A cached outcome: the attribute values, or why the id has none (a negative entry)."""


@dataclass(slots=True)
class ResolveStats:
    unique_ids: int = 0
    cache_hits: int = 0
    store_ids: int = 0
    invalid_ids: int = 0
    """Ids of the batch that are not item ids (`transformer.items.is_item_id`): never cached, never looked up."""
    stale_served: int = 0
    store_failed: bool = False
    lookup_seconds: float = 0.0


class CatalogResolver:
    """Resolves a batch's unique ids in one store call for whatever the cache cannot answer fresh.

    When the store fails, expired cache entries are served (stale-if-error); when some id has no entry at
    all, the failure propagates so the whole batch is retried rather than sent with unresolved values.
    A string that is not an item id (empty, too long, a lone surrogate) is checked only when the cache misses it,
    so a warm batch pays nothing for the check; it resolves to `invalid_id` and never reaches the store.

    Given the configuration's `fingerprint` (`transformer.precompute`) and a store that serves precomputed values,
    a miss takes the values the load stored for that fingerprint instead of rendering the document.
    """

    def __init__(
        self,
        store: ItemStore,
        projector: ItemProjector,
        cache: TtlLruCache[Cached],
        clock: Callable[[], float] = time.monotonic,
        fingerprint: str | None = None,
    ) -> None:
        self._store = store
        precomputed = getattr(store, "get_precomputed", None) if fingerprint is not None else None
        self._fetch: Callable[..., Mapping[str, Stored | Precomputed]] = (
            store.get_many if precomputed is None else partial(precomputed, fingerprint=fingerprint)
        )
        self._count = len(projector.names)
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
        resolved: dict[str, Cached] = lookup.fresh  # the lookup's own dict, made for this batch
        absent = lookup.absent  # an id that is not an item id is never cached, so it is always absent
        if not all(map(is_item_id, absent)):
            invalid = [item_id for item_id in absent if not is_item_id(item_id)]
            stats.invalid_ids = len(invalid)
            resolved.update(dict.fromkeys(invalid, ItemReason.INVALID_ID))
            absent = [item_id for item_id in absent if is_item_id(item_id)]
        wanted = [*lookup.stale, *absent]
        if wanted:
            stats.store_ids = len(wanted)
            try:
                items = self._fetch(wanted, deadline=deadline)
            except CatalogUnavailableError:
                stats.store_failed = True
                if absent:
                    raise
                stats.stale_served = len(lookup.stale)
                resolved.update(lookup.stale)
            else:
                fetched = {item_id: self._outcome(items.get(item_id)) for item_id in wanted}
                self._cache.put_many(fetched)
                resolved.update(fetched)
        stats.lookup_seconds = self._clock() - started
        return resolved

    def _outcome(self, stored: Stored | Precomputed | None) -> Cached:
        if isinstance(stored, Precomputed):
            values = stored.values
            if values is None:
                return ItemReason.NO_VALUE
            return values if len(values) == self._count else ItemReason.DAMAGED
        if stored is None:
            return ItemReason.NOT_IN_CATALOG
        if isinstance(stored, DamagedDocument):
            return ItemReason.DAMAGED
        values = self._projector.project(stored)
        return ItemReason.NO_VALUE if values is None else values
