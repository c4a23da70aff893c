"""Campaign simulation: many invocations spread over a few warm containers; what reaches the store."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from bench.data import SEED, Campaign
from bench.latency import CountingStore
from transformer.config import PinrecConfig
from transformer.service import Transformer


@dataclass
class CampaignResult:
    endpoints: int
    invocations: int
    containers: int
    batch_get_calls: int
    items_read: int
    unique_id_lookups: int
    cache_hits: int
    enrich_seconds: float
    wall_seconds: float

    @property
    def hit_ratio(self) -> float:
        return self.cache_hits / self.unique_id_lookups


def simulate(
    config: PinrecConfig,
    store: Any,
    *,
    invocations: int,
    containers: int,
    catalog_size: int,
    progress: Callable[[str], None],
) -> CampaignResult:
    counting = CountingStore(store)
    fleet = [Transformer(config, store=counting) for _ in range(containers)]
    campaign = Campaign(catalog_size, seed=SEED + 2)
    router = random.Random(SEED + 3)
    hits = unique = endpoints = 0
    enrich_seconds = 0.0
    started = time.perf_counter()
    for number in range(invocations):
        if number % 2000 == 0:
            progress(f"campaign: invocation {number:,} of {invocations:,}")
        event = campaign.event()
        transformer = router.choice(fleet)
        began = time.perf_counter()
        transformer.enrich_event(event)
        enrich_seconds += time.perf_counter() - began
        last = transformer.resolver.last
        hits += last.cache_hits
        unique += last.unique_ids
        endpoints += len(event["Endpoints"])
    return CampaignResult(
        endpoints=endpoints,
        invocations=invocations,
        containers=containers,
        batch_get_calls=counting.calls,
        items_read=counting.ids_read,
        unique_id_lookups=unique,
        cache_hits=hits,
        enrich_seconds=enrich_seconds,
        wall_seconds=time.perf_counter() - started,
    )


def hit_ratio_model(
    exponent: float, *, invocations: int, containers: int, catalog_size: int, endpoints: int = 50, items: int = 5
) -> float:
    """The cache hit ratio the same campaign would see at another Zipf exponent, with caches that never evict
    or expire (as in the measured run): an id hits when its container has seen it before."""
    from bench.data import ZipfSampler

    sampler = ZipfSampler(catalog_size, random.Random(SEED + 2), exponent)
    router = random.Random(SEED + 3)
    seen: list[set[str]] = [set() for _ in range(containers)]
    hits = unique = 0
    for _ in range(invocations):
        batch: set[str] = set()
        for _ in range(endpoints):
            batch.update(sampler.distinct_ids(items))
        cache = seen[router.randrange(containers)]
        hits += len(batch & cache)
        unique += len(batch)
        cache |= batch
    return hits / unique
