"""Batch latency through the deployed Lambda handler, cache cold / hot / steady, against the naive baseline on the
same store, in the same run.

The naive batches are spread through the run (one after every few of pinrec's samples) rather than measured in one
block: this machine's speed flips between two levels ~1.6x apart for a fraction of a second at a time (bench/RESULTS.md,
"Run-to-run variation"), and a ratio of two medians taken at different moments measures the flip as much as the code."""

from __future__ import annotations

import contextlib
import copy
import math
import os
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.data import SEED, Campaign
from bench.naive import NaiveTransformer, sqlite_lookup
from bench.timing import Timing, summarise, timed
from transformer.config import PinrecConfig
from transformer.service import Transformer
from transformer.stores.base import Precomputed, Stored
from transformer.stores.sqlite import SqliteItemStore


class ThroughHandler:
    """Calls the deployed `handlers.transformer.lambda_handler` (Powertools' Lambda context for the logger, the
    batch's EMF document and log line included) with `transformer` in place of the one its import built. The
    module is imported on first use: PINREC_CONFIG must name a valid configuration by then."""

    def __init__(self) -> None:
        from campaign_tools.local_lambda import LocalContext

        self._context = LocalContext(timeout_seconds=10.0**9)  # Pinpoint's 15 s bounds the deadline
        self._sink = open(os.devnull, "w")  # noqa: SIM115 - for the life of the process
        self._module: Any = None

    def __call__(self, transformer: Transformer, event: dict[str, Any]) -> dict[str, Any]:
        if self._module is None:
            import handlers.transformer as module

            self._module = module
        self._module.transformer = transformer
        with contextlib.redirect_stdout(self._sink):  # the EMF documents; the log lines go where the logger's go
            response: dict[str, Any] = self._module.lambda_handler(event, self._context)
        return response


HANDLER = ThroughHandler()


class CountingStore:
    """Wraps a store and counts the BatchGetItem requests DynamoDB would need for each lookup (100 keys each)."""

    def __init__(self, inner: SqliteItemStore) -> None:
        self.inner = inner
        self.calls = 0
        self.lookups = 0
        self.ids_read = 0

    def get_many(self, ids: Collection[str], *, deadline: float | None = None) -> dict[str, Stored]:
        self.lookups += 1
        self.calls += math.ceil(len(ids) / 100)
        self.ids_read += len(ids)
        return self.inner.get_many(ids, deadline=deadline)

    def get_precomputed(
        self, ids: Collection[str], fingerprint: str, *, deadline: float | None = None
    ) -> dict[str, Stored | Precomputed]:
        self.lookups += 1
        self.calls += math.ceil(len(ids) / 100)
        self.ids_read += len(ids)
        return self.inner.get_precomputed(ids, fingerprint, deadline=deadline)

    def close(self) -> None:
        self.inner.close()


class SpreadBaseline:
    """Times one naive batch after every `every` of pinrec's samples (`tick`), until `runs` are taken; `finish` takes
    any left over, so the baseline always has `runs` samples."""

    def __init__(self, naive: NaiveTransformer, campaign: Campaign, runs: int, our_samples: int) -> None:
        self.naive = naive
        self._campaign = campaign
        self._runs = runs
        self._every = max(1, our_samples // max(runs, 1))
        self._ticks = 0
        self.samples: list[float] = []

    def tick(self) -> None:
        self._ticks += 1
        if self._ticks % self._every == 0 and len(self.samples) < self._runs:
            self._sample()

    def finish(self) -> list[float]:
        while len(self.samples) < self._runs:
            self._sample()
        return self.samples

    def _sample(self) -> None:
        # One batch untimed first: the timed one then runs after naive work, as pinrec's samples run after pinrec's
        # (measured in one block, as before, the baseline had that too; timed right after pinrec's work it read
        # ~8% slower, which flattered every ratio).
        self.naive.handle(self._campaign.event())
        event = self._campaign.event()
        self.samples.append(timed(lambda: self.naive.handle(event)))


@dataclass
class LatencyResult:
    store: str
    cold: Timing
    hot: Timing
    steady: Timing
    naive: Timing
    """Cold, hot and steady: through the Lambda handler (logs and metrics included)."""
    hot_enrich: Timing
    steady_enrich: Timing
    steady_cached: Timing
    """The steady batches enriched again once every id is cached: what a steady batch costs without its misses."""
    """The same batches' enrichment alone (`Transformer.enrich_event`), without the handler, logs and metrics."""
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
    runs: Sequence[int],
    *,
    catalog_size: int,
    progress: Callable[[str], None],
) -> LatencyResult:
    """`store` must count its BatchGetItem(-equivalent) requests in `.calls`; `runs` as `Scale.sqlite_runs`: the
    samples cold, hot, the warm-up batches, the samples steady and naive."""
    cold_runs, hot_runs, warmup, steady_runs, naive_runs = runs
    campaign = Campaign(catalog_size, seed=SEED + 1)
    baseline = SpreadBaseline(
        NaiveTransformer(config, naive_lookup),
        Campaign(catalog_size, seed=SEED + 3),
        naive_runs,
        our_samples=cold_runs + hot_runs + steady_runs * 2,
    )

    progress(f"{name}: cache cold x{cold_runs} (the {naive_runs} naive batches spread through every phase)")
    cold, cold_calls, cold_expected = [], 0, 0
    for _ in range(cold_runs):
        transformer = Transformer(config, store=store)
        event = campaign.event()
        before = store.calls
        cold.append(timed(lambda t=transformer, e=event: HANDLER(t, e)))
        cold_calls += store.calls - before
        cold_expected += math.ceil(transformer.resolver.last.store_ids / 100)
        baseline.tick()
    identical = HANDLER(transformer, event) == baseline.naive.handle(event)

    progress(f"{name}: cache hot x{hot_runs}, through the handler and enrichment alone, alternating")
    before = store.calls
    hot, hot_enrich = [], []
    for _ in range(hot_runs):
        hot.append(timed(lambda t=transformer, e=event: HANDLER(t, e)))
        hot_enrich.append(timed(lambda t=transformer, e=event: t.enrich_event(e)))
        baseline.tick()
    hot_calls = store.calls - before

    progress(f"{name}: steady state, warm-up {warmup} batches")
    transformer = Transformer(config, store=store)
    for _ in range(warmup):
        transformer.enrich_event(campaign.event())
    progress(f"{name}: steady state x{steady_runs}")
    steady, steady_enrich, steady_calls, steady_expected, hits, unique = [], [], 0, 0, 0, 0
    steady_events = []
    for run in range(steady_runs * 2):  # alternately through the handler and enrichment alone
        event = campaign.event()
        steady_events.append(event)
        before = store.calls
        baseline.tick()
        if run % 2:
            steady_enrich.append(timed(lambda t=transformer, e=event: t.enrich_event(e)))
            continue
        steady.append(timed(lambda t=transformer, e=event: HANDLER(t, e)))
        steady_calls += store.calls - before
        last = transformer.resolver.last
        steady_expected += math.ceil(last.store_ids / 100)
        hits += last.cache_hits
        unique += last.unique_ids

    progress(f"{name}: the steady batches again, every id now cached")
    again = []
    for event in steady_events:
        fresh = copy.deepcopy(event)  # new objects, as an invocation's event is
        again.append(timed(lambda t=transformer, e=fresh: t.enrich_event(e)))

    naive_times = baseline.finish()
    return LatencyResult(
        store=name,
        cold=summarise(cold),
        hot=summarise(hot),
        steady=summarise(steady),
        naive=summarise(naive_times),
        hot_enrich=summarise(hot_enrich),
        steady_enrich=summarise(steady_enrich),
        steady_cached=summarise(again),
        cold_calls_per_batch=cold_calls / cold_runs,
        expected_cold_calls_per_batch=cold_expected / cold_runs,
        steady_calls_per_batch=steady_calls / steady_runs,
        expected_steady_calls_per_batch=steady_expected / steady_runs,
        hot_calls=hot_calls,
        steady_hit_ratio=hits / unique,
        identical_output=identical,
    )


def sqlite_latency(
    config: PinrecConfig,
    catalog: Path,
    runs: Sequence[int],
    *,
    catalog_size: int,
    progress: Callable[[str], None],
) -> LatencyResult:
    """`batch_latency` of a SQLite catalog file: its store counted, the naive baseline reading the same file."""
    store = CountingStore(SqliteItemStore(catalog))
    lookup = sqlite_lookup(str(catalog))
    return batch_latency("SQLite", config, store, lookup, runs, catalog_size=catalog_size, progress=progress)
