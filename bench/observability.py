"""The cost of a batch's logs and metrics: pinrec's (one pre-built EMF document, one log line) against the
Powertools calls it replaced (`Metrics.add_metric` per metric and `flush_metrics`, `Logger.info`), same run."""

from __future__ import annotations

import contextlib
import os
from typing import Any

from bench.timing import Timing, summarise, timed
from transformer import observability
from transformer.enrich import Enrichment
from transformer.resolver import ResolveStats


def _powertools_batch(metrics: Any, enrichment: Enrichment, lookup: ResolveStats) -> None:
    from aws_lambda_powertools.metrics import MetricUnit

    units = {"Count": MetricUnit.Count, "Milliseconds": MetricUnit.Milliseconds}
    for name, unit, value in observability.batch_metrics(enrichment, lookup, 0.001):
        metrics.add_metric(name=name, unit=units[unit], value=value)
    metrics.flush_metrics()
    observability.logger.info(
        "batch enriched",
        extra={
            "endpoints_in": enrichment.endpoints_in,
            "endpoints_out": len(enrichment.response),
            "left_out": {reason.value: n for reason, n in enrichment.left_out_counts().items()},
            "unique_item_ids": enrichment.unique_ids,
            "items_resolved": enrichment.items_resolved,
            "items_missing": enrichment.items_missing,
            "items_missing_by_reason": {reason.value: n for reason, n in enrichment.items_missing_by_reason.items()},
            "items_filled": enrichment.items_filled,
            "cache_hits": lookup.cache_hits,
            "store_lookups": lookup.store_ids,
            "stale_served": lookup.stale_served,
            "lookup_ms": round(lookup.lookup_seconds * 1000, 3),
            "batch_ms": 1.0,
        },
    )


def observability_cost(enrichment: Enrichment, lookup: ResolveStats, runs: int) -> tuple[Timing, Timing]:
    """Median/p95 per batch of pinrec's `record_batch` and of the Powertools equivalent, alternating, at INFO, both
    writing to /dev/null."""
    from aws_lambda_powertools.metrics import Metrics

    reference = Metrics(namespace=observability.NAMESPACE, service=observability.SERVICE)
    ours, powertools = [], []
    with open(os.devnull, "w") as sink, contextlib.redirect_stdout(sink):
        for _ in range(runs):
            ours.append(timed(lambda: observability.record_batch(enrichment, lookup, 0.001)))
            powertools.append(timed(lambda: _powertools_batch(reference, enrichment, lookup)))
    return summarise(ours), summarise(powertools)
