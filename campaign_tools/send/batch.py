"""One batch of up to 50 endpoints: recommendations in, the transformer core (as the Lambda runs it), messages out."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from campaign_tools.channels.base import ADDRESS_REASONS, Message
from campaign_tools.send.compose import MessageComposer
from campaign_tools.send.compose_pool import compose_one
from campaign_tools.send.recommendations.base import Lookup
from campaign_tools.send.segments import SegmentEndpoint
from transformer.enrich import RECOMMENDATION_ITEMS, Enrichment
from transformer.errors import CatalogUnavailableError, PinrecError
from transformer.limits import MAX_ENDPOINTS_PER_INVOCATION

BATCH_SIZE = MAX_ENDPOINTS_PER_INVOCATION
SKIP_REASONS_FROM_LOOKUP = frozenset({"no_recommendations", "no_user_id", "no_item_id", "no_profile_id"})
"""Lookup outcomes that are facts about the endpoint (skipped); any other is a failure a later run retries."""


class Enricher(Protocol):
    def enrich_event(self, event: object) -> Enrichment: ...


@dataclass
class PreparedBatch:
    messages: list[tuple[str, Message]] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)
    failed: dict[str, str] = field(default_factory=dict)
    duplicates: int = 0


def transformer_event(endpoints: Sequence[SegmentEndpoint], lookup: Lookup) -> dict[str, Any]:
    """The event Pinpoint would have sent the Lambda: each endpoint with its RecommendationItems."""
    return {
        "Endpoints": {
            item.endpoint_id: {**item.endpoint, RECOMMENDATION_ITEMS: lookup.items[item.endpoint_id]}
            for item in endpoints
            if item.endpoint_id in lookup.items
        }
    }


def _unique(endpoints: Sequence[SegmentEndpoint], batch: PreparedBatch) -> dict[str, SegmentEndpoint]:
    unique: dict[str, SegmentEndpoint] = {}
    for item in endpoints:
        if item.endpoint_id in unique:
            batch.duplicates += 1
        else:
            unique[item.endpoint_id] = item
    return unique


class BatchComposer(Protocol):
    def compose_many(self, entries: Sequence[tuple[str, Mapping[str, Any]]]) -> list[tuple[str, Message | str]]: ...


def _compose(enrichment: Enrichment, composer: MessageComposer | BatchComposer, batch: PreparedBatch) -> None:
    entries = [(endpoint_id, {"Id": endpoint_id, **endpoint}) for endpoint_id, endpoint in enrichment.response.items()]
    if hasattr(composer, "compose_many"):
        composed = composer.compose_many(entries)
    else:
        composed = [(endpoint_id, compose_one(composer, endpoint_id, endpoint)) for endpoint_id, endpoint in entries]
    for endpoint_id, outcome in composed:
        if isinstance(outcome, str):
            (batch.skipped if outcome in ADDRESS_REASONS else batch.failed)[endpoint_id] = outcome
        else:
            batch.messages.append((endpoint_id, outcome))


def prepare_batch(
    endpoints: Sequence[SegmentEndpoint],
    lookup: Lookup,
    enricher: Enricher,
    composer: MessageComposer | BatchComposer,
) -> PreparedBatch:
    """Enrich the batch in one transformer call, then compose one message per endpoint it returns."""
    if len(endpoints) > BATCH_SIZE:
        raise ValueError(f"a batch holds at most {BATCH_SIZE} endpoints")
    batch = PreparedBatch()
    unique = _unique(endpoints, batch)
    for endpoint_id, reason in lookup.missing.items():
        if endpoint_id in unique:
            (batch.skipped if reason in SKIP_REASONS_FROM_LOOKUP else batch.failed)[endpoint_id] = reason
    event = transformer_event(list(unique.values()), lookup)
    if not event["Endpoints"]:
        return batch
    try:
        enrichment = enricher.enrich_event(event)
    except CatalogUnavailableError:
        batch.failed.update(dict.fromkeys(event["Endpoints"], "catalog_unavailable"))
        return batch
    except PinrecError as error:
        # Whatever else makes the transformer refuse a batch (e.g. its ranking being unavailable) fails that
        # batch only: recorded, retried by the next run, never the end of the campaign.
        batch.failed.update(dict.fromkeys(event["Endpoints"], f"transformer_{type(error).__name__}"))
        return batch
    for endpoint_id, why in enrichment.left_out.items():
        batch.skipped[endpoint_id] = f"transformer_{why}"
    _compose(enrichment, composer, batch)
    return batch
