"""Structured logs and CloudWatch EMF metrics for the transformer. Counts, reasons and timings only: never an
event, an address, a user attribute or an attribute value.

A batch writes one EMF document (`transformer.emf`, from a template built once) and one `batch enriched` log line,
which `_log_info` writes in the Powertools Logger's own JSON format (its keys and formatter, its handlers' streams)
without the standard library's per-record work: together ~15 µs per batch instead of Powertools' ~170 µs
(bench/RESULTS.md). Every other log line goes through the Powertools Logger.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from aws_lambda_powertools.logging import Logger
from aws_lambda_powertools.logging.formatter import LambdaPowertoolsFormatter

from transformer.emf import EmfWriter, Metric
from transformer.enrich import Enrichment, LeftOut
from transformer.items import ItemReason
from transformer.offers.eligibility import Exclusion
from transformer.resolver import ResolveStats

if TYPE_CHECKING:
    from transformer.offers.engine import OfferStats

SERVICE = os.environ.get("POWERTOOLS_SERVICE_NAME") or "pinrec-transformer"
NAMESPACE = os.environ.get("POWERTOOLS_METRICS_NAMESPACE") or "pinrec"

logger = Logger(service=SERVICE)
emf = EmfWriter(NAMESPACE, {"service": SERVICE})
_standard_logger = logging.getLogger(logger.name)  # the logging.Logger Powertools' Logger wraps

COUNT = "Count"
MILLISECONDS = "Milliseconds"

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
_OFFERS_LEFT_OUT_METRIC = {
    LeftOut.NO_OFFER: "EndpointsLeftOutNoOffer",
    LeftOut.NO_USER_ID: "EndpointsLeftOutNoUserId",
    LeftOut.RANKING_FAILED: "EndpointsLeftOutRankingFailed",
}
_XRAY_TRACE_ID = "_X_AMZN_TRACE_ID"


class _Moment:
    """What `Formatter.formatTime` reads of a log record."""

    __slots__ = ("created", "msecs")

    def __init__(self, now: float) -> None:
        self.created = now
        self.msecs = (now - int(now)) * 1000


def _log_info(message: str, location: tuple[str, int], fields: Mapping[str, Any]) -> None:
    """`logger.info(message, extra=fields)`, the line written as the Powertools formatter writes it (its keys, in
    its order, then `fields`, then the X-Ray trace id) straight to the logger's stream handlers. Any set-up this
    does not cover (another formatter or handler, filters, custom reserved keys) goes through `logger.info`."""
    if not _standard_logger.isEnabledFor(logging.INFO):
        return
    formatter = logger.registered_formatter
    handlers = logger.handlers
    if (
        type(formatter) is not LambdaPowertoolsFormatter
        or _standard_logger.filters
        or not handlers
        or any(type(handler) is not logging.StreamHandler or handler.filters for handler in handlers)
        or any(handler.formatter is not formatter or handler.level > logging.INFO for handler in handlers)
    ):
        logger.info(message, extra=dict(fields), stacklevel=3)
        return
    function, line = location
    now = time.time()
    attributes = {
        "levelname": "INFO",
        "funcName": function,
        "lineno": line,
        "asctime": formatter.formatTime(_Moment(now)),  # type: ignore[arg-type]  # it reads only these two
        "name": logger.name,
    }
    record: dict[str, Any] = {}
    try:
        for key, value in formatter.log_format.items():
            record[key] = value % attributes if value and isinstance(value, str) and "%(" in value else value
    except (KeyError, ValueError, TypeError):
        logger.info(message, extra=dict(fields), stacklevel=3)
        return
    record["message"] = message
    record.update(fields)
    trace = os.environ.get(_XRAY_TRACE_ID)
    if trace:
        record["xray_trace_id"] = trace.split(";")[0].replace("Root=", "")
    line_text = formatter.json_serializer({key: value for key, value in record.items() if value is not None})
    for handler in handlers:
        stream = handler.stream  # type: ignore[attr-defined]  # a StreamHandler, checked above
        stream.write(line_text + handler.terminator)  # type: ignore[attr-defined]
        handler.flush()


def batch_metrics(enrichment: Enrichment, lookup: ResolveStats, batch_seconds: float) -> list[Metric]:
    left_out = enrichment.left_out_counts()
    missing = enrichment.items_missing_by_reason
    return [
        ("EndpointsIn", COUNT, enrichment.endpoints_in),
        ("EndpointsOut", COUNT, len(enrichment.response)),
        *[(metric, COUNT, left_out.get(reason, 0)) for reason, metric in _LEFT_OUT_METRIC.items()],
        ("ItemsResolved", COUNT, enrichment.items_resolved),
        ("ItemsMissing", COUNT, enrichment.items_missing),
        *[(metric, COUNT, missing.get(reason, 0)) for reason, metric in _ITEMS_MISSING_METRIC.items()],
        ("ItemsFilled", COUNT, enrichment.items_filled),
        ("CacheHits", COUNT, lookup.cache_hits),
        ("StoreLookups", COUNT, lookup.store_ids),
        ("StaleServed", COUNT, lookup.stale_served),
        ("LookupTime", MILLISECONDS, round(lookup.lookup_seconds * 1000, 3)),
        ("BatchTime", MILLISECONDS, round(batch_seconds * 1000, 3)),
    ]


def record_batch(
    enrichment: Enrichment,
    lookup: ResolveStats,
    batch_seconds: float,
    extra_metrics: Sequence[Metric] = (),
) -> None:
    """Emit the batch's one EMF document (its metrics, then `extra_metrics`) and its `batch enriched` line."""
    metrics = batch_metrics(enrichment, lookup, batch_seconds)
    emf.emit([*metrics, *extra_metrics] if extra_metrics else metrics)
    _log_info(
        "batch enriched",
        _RECORD_BATCH_LOCATION,
        {
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
            "batch_ms": round(batch_seconds * 1000, 3),
        },
    )
    if enrichment.failures:
        # A bug, not bad input: the endpoints were left out (`failed`) and the rest of the batch went out.
        logger.error("endpoints left out: their handling raised", extra={"failures": dict(enrichment.failures)})


_RECORD_BATCH_LOCATION = ("record_batch", record_batch.__code__.co_firstlineno)


_cold_start = True


def record_cold_start(function_name: str) -> None:
    """The `ColdStart` metric, once per container (dimensioned by function name, as Powertools does)."""
    global _cold_start  # noqa: PLW0603 - one flag per container, as Lambda's cold start is
    if _cold_start:
        _cold_start = False
        emf.emit([("ColdStart", COUNT, 1)], dimensions={"function_name": function_name, "service": SERVICE})


def record_failure(error: Exception) -> None:
    """Count a batch that raises (Pinpoint retries it). The message names the rule broken, never event data."""
    emf.emit([(f"Failed{type(error).__name__.removesuffix('Error')}", COUNT, 1)])
    logger.error("batch failed; Pinpoint will retry it", extra={"error": type(error).__name__})


def offers_metrics(stats: OfferStats, enrichment: Enrichment) -> list[Metric]:
    """Offers mode: why endpoints and offers were left out, and how Personalize ranking went. Counts only."""
    left_out = enrichment.left_out_counts()
    metrics: list[Metric] = [
        *[(metric, COUNT, left_out.get(reason, 0)) for reason, metric in _OFFERS_LEFT_OUT_METRIC.items()],
        ("OffersChosen", COUNT, stats.offers_chosen),
        *[
            (f"OffersExcluded{exclusion.value.title().replace('_', '')}", COUNT, stats.excluded.get(exclusion, 0))
            for exclusion in Exclusion
        ],
        ("ScheduledTimeIgnored", COUNT, int(stats.scheduled_time_ignored)),
    ]
    if stats.scoring == "personalize":
        metrics += [
            ("RankingsNeeded", COUNT, stats.rankings_needed),
            ("RankingCacheHits", COUNT, stats.ranking_cache_hits),
            ("RankingCalls", COUNT, stats.ranking.calls),
            ("RankingRetries", COUNT, stats.ranking.retries),
            ("RankingFailures", COUNT, stats.ranking.failures),
            ("RankingTime", MILLISECONDS, round(stats.ranking.seconds * 1000, 3)),
        ]
    return metrics


def log_offers(stats: OfferStats) -> None:
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
