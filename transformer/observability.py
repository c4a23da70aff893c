"""Structured logs and CloudWatch EMF metrics for the transformer. Counts, reasons and timings only: never an
event, an address, a user attribute or an attribute value."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.metrics import Metrics, MetricUnit

from transformer.enrich import Enrichment, LeftOut
from transformer.items import ItemReason
from transformer.offers.eligibility import Exclusion
from transformer.resolver import ResolveStats

if TYPE_CHECKING:
    from transformer.offers.engine import OfferStats

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "pinrec-transformer"
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "pinrec"

logger = Logger(service=SERVICE)
metrics = Metrics(namespace=NAMESPACE, service=SERVICE)

_LEFT_OUT_METRIC = {
    LeftOut.NOT_OBJECT: "EndpointsLeftOutNotObject",
    LeftOut.NO_ITEMS: "EndpointsLeftOutNoItems",
    LeftOut.TOO_FEW_ITEMS: "EndpointsLeftOutTooFewItems",
    LeftOut.FAILED: "EndpointsLeftOutFailed",
}
_ITEMS_MISSING_METRIC = {
    ItemReason.INVALID_ID: "ItemsMissingInvalidId",
    ItemReason.NOT_IN_CATALOG: "ItemsMissingNotInCatalog",
    ItemReason.DAMAGED: "ItemsMissingDamaged",
    ItemReason.NO_VALUE: "ItemsMissingNoValue",
}


def record_batch(enrichment: Enrichment, lookup: ResolveStats, batch_seconds: float) -> None:
    """Emit one log line and the batch's metrics."""
    count = MetricUnit.Count
    left_out = enrichment.left_out_counts()
    metrics.add_metric(name="EndpointsIn", unit=count, value=enrichment.endpoints_in)
    metrics.add_metric(name="EndpointsOut", unit=count, value=len(enrichment.response))
    for reason, metric in _LEFT_OUT_METRIC.items():
        metrics.add_metric(name=metric, unit=count, value=left_out.get(reason, 0))
    metrics.add_metric(name="ItemsResolved", unit=count, value=enrichment.items_resolved)
    metrics.add_metric(name="ItemsMissing", unit=count, value=enrichment.items_missing)
    for item_reason, metric in _ITEMS_MISSING_METRIC.items():
        metrics.add_metric(name=metric, unit=count, value=enrichment.items_missing_by_reason.get(item_reason, 0))
    metrics.add_metric(name="ItemsFilled", unit=count, value=enrichment.items_filled)
    metrics.add_metric(name="CacheHits", unit=count, value=lookup.cache_hits)
    metrics.add_metric(name="StoreLookups", unit=count, value=lookup.store_ids)
    metrics.add_metric(name="StaleServed", unit=count, value=lookup.stale_served)
    metrics.add_metric(name="LookupTime", unit=MetricUnit.Milliseconds, value=round(lookup.lookup_seconds * 1000, 3))
    metrics.add_metric(name="BatchTime", unit=MetricUnit.Milliseconds, value=round(batch_seconds * 1000, 3))
    logger.info(
        "batch enriched",
        extra={
            "endpoints_in": enrichment.endpoints_in,
            "endpoints_out": len(enrichment.response),
            "left_out": {reason.value: n for reason, n in left_out.items()},
            "unique_item_ids": enrichment.unique_ids,
            "items_resolved": enrichment.items_resolved,
            "items_missing": enrichment.items_missing,
            "items_missing_by_reason": {reason.value: n for reason, n in enrichment.items_missing_by_reason.items()},
            "items_filled": enrichment.items_filled,
            "cache_hits": lookup.cache_hits,
            "store_lookups": lookup.store_ids,
            "stale_served": lookup.stale_served,
            "lookup_ms": round(lookup.lookup_seconds * 1000, 3),
            "batch_ms": round(batch_seconds * 1000, 3),
        },
    )
    if enrichment.failures:
        # A bug, not bad input: the endpoints were left out (`failed`) and the rest of the batch went out.
        logger.error("endpoints left out: their handling raised", extra={"failures": dict(enrichment.failures)})


def record_failure(error: Exception) -> None:
    """Count a batch that raises (Pinpoint retries it). The message names the rule broken, never event data."""
    metrics.add_metric(name=f"Failed{type(error).__name__.removesuffix('Error')}", unit=MetricUnit.Count, value=1)
    logger.error("batch failed; Pinpoint will retry it", extra={"error": type(error).__name__})


_OFFERS_LEFT_OUT_METRIC = {
    LeftOut.NO_OFFER: "EndpointsLeftOutNoOffer",
    LeftOut.NO_USER_ID: "EndpointsLeftOutNoUserId",
    LeftOut.RANKING_FAILED: "EndpointsLeftOutRankingFailed",
}


def record_offers(stats: OfferStats, enrichment: Enrichment) -> None:
    """Offers mode: why endpoints and offers were left out, and how Personalize ranking went. Counts only."""
    count = MetricUnit.Count
    left_out = enrichment.left_out_counts()
    for reason, metric in _OFFERS_LEFT_OUT_METRIC.items():
        metrics.add_metric(name=metric, unit=count, value=left_out.get(reason, 0))
    metrics.add_metric(name="OffersChosen", unit=count, value=stats.offers_chosen)
    for exclusion in Exclusion:
        name = f"OffersExcluded{exclusion.value.title().replace('_', '')}"
        metrics.add_metric(name=name, unit=count, value=stats.excluded.get(exclusion, 0))
    metrics.add_metric(name="ScheduledTimeIgnored", unit=count, value=int(stats.scheduled_time_ignored))
    if stats.scoring == "personalize":
        metrics.add_metric(name="RankingsNeeded", unit=count, value=stats.rankings_needed)
        metrics.add_metric(name="RankingCacheHits", unit=count, value=stats.ranking_cache_hits)
        metrics.add_metric(name="RankingCalls", unit=count, value=stats.ranking.calls)
        metrics.add_metric(name="RankingRetries", unit=count, value=stats.ranking.retries)
        metrics.add_metric(name="RankingFailures", unit=count, value=stats.ranking.failures)
        metrics.add_metric(
            name="RankingTime", unit=MetricUnit.Milliseconds, value=round(stats.ranking.seconds * 1000, 3)
        )
    logger.info(
        "offers chosen",
        extra={
            "scoring": stats.scoring,
            "scheduled_time_ignored": stats.scheduled_time_ignored,
            "offers_chosen": stats.offers_chosen,
            "offers_excluded": {reason.value: n for reason, n in sorted(stats.excluded.items())},
            "rankings_needed": stats.rankings_needed,
            "ranking_cache_hits": stats.ranking_cache_hits,
            "ranking_calls": stats.ranking.calls,
            "ranking_retries": stats.ranking.retries,
            "ranking_failures": stats.ranking.failures,
            "ranking_ms": round(stats.ranking.seconds * 1000, 3),
        },
    )
