"""Batch latency, cache cold / hot / steady, against the naive baseline on the same store, in the same run."""

from __future__ import annotations

import math
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from bench.data import SEED, Campaign
from bench.naive import NaiveTransformer
from bench.timing import Timing, summarise, timed
from transformer.config import PinrecConfig
from transformer.service import Transformer
from transformer.stores.base import Item, ItemStore


class CountingStore:
    """Wraps a store and counts the BatchGetItem requests DynamoDB would need for each lookup (100 keys each)."""

    def __init__(self, inner: ItemStore) -> None:
        self.inner = inner
        self.calls = 0
        self.lookups = 0
        self.ids_read = 0

    def get_many(self, ids: Collection[str], *, deadline: float | None = None) -> dict[str, Item]:
        self.lookups += 1
        self.calls += math.ceil(len(ids) / 100)
        self.ids_read += len(ids)
        return self.inner.get_many(ids, deadline=deadline)

    def close(self) -> None:
        self.inner.close()


@dataclass
class LatencyResult:
    store: str
    cold: Timing
    hot: Timing
    steady: Timing
    naive: Timing
    cold_calls_per_batch: float
    expected_cold_calls_per_batch: float
    steady_calls_per_batch: float
    expected_steady_calls_per_batch: float
    hot_calls: int
    steady_hit_ratio: float
    identical_output: bool
    notes: list[str] = field(default_factory=list)

    def ratio(self, ours: Timing) -> float:
        return self.naive.median_ms / ours.median_ms


def batch_latency(
    name: str,
    config: PinrecConfig,
    store: Any,
    naive_lookup: Callable[[str], Any],
    *,
    cold_runs: int,
    hot_runs: int,
    warmup: int,
    steady_runs: int,
    naive_runs: int,
    catalog_size: int,
    progress: Callable[[str], None],
) -> LatencyResult:
    """`store` must count its BatchGetItem(-equivalent) requests in `.calls`."""
    campaign = Campaign(catalog_size, seed=SEED + 1)
    naive = NaiveTransformer(config, naive_lookup)

    progress(f"{name}: cache cold x{cold_runs}")
    cold, cold_calls, cold_expected = [], 0, 0
    for _ in range(cold_runs):
        transformer = Transformer(config, store=store)
        event = campaign.event()
        before = store.calls
        cold.append(timed(lambda t=transformer, e=event: t.enrich_event(e)))
        cold_calls += store.calls - before
        cold_expected += math.ceil(transformer.resolver.last.store_ids / 100)
    identical = transformer.enrich_event(event).response == naive.handle(event)

    progress(f"{name}: cache hot x{hot_runs}")
    before = store.calls
    hot = [timed(lambda t=transformer, e=event: t.enrich_event(e)) for _ in range(hot_runs)]
    hot_calls = store.calls - before

    progress(f"{name}: steady state, warm-up {warmup} batches")
    transformer = Transformer(config, store=store)
    for _ in range(warmup):
        transformer.enrich_event(campaign.event())
    progress(f"{name}: steady state x{steady_runs}")
    steady, steady_calls, steady_expected, hits, unique = [], 0, 0, 0, 0
    for _ in range(steady_runs):
        event = campaign.event()
        before = store.calls
        steady.append(timed(lambda t=transformer, e=event: t.enrich_event(e)))
        steady_calls += store.calls - before
        last = transformer.resolver.last
        steady_expected += math.ceil(last.store_ids / 100)
        hits += last.cache_hits
        unique += last.unique_ids

    progress(f"{name}: naive baseline x{naive_runs}")
    naive_times = []
    for _ in range(naive_runs):
        event = campaign.event()
        naive_times.append(timed(lambda e=event: naive.handle(e)))
    return LatencyResult(
        store=name,
        cold=summarise(cold),
        hot=summarise(hot),
        steady=summarise(steady),
        naive=summarise(naive_times),
        cold_calls_per_batch=cold_calls / cold_runs,
        expected_cold_calls_per_batch=cold_expected / cold_runs,
        steady_calls_per_batch=steady_calls / steady_runs,
        expected_steady_calls_per_batch=steady_expected / steady_runs,
        hot_calls=hot_calls,
        steady_hit_ratio=hits / unique,
        identical_output=identical,
    )
