"""The enrichment core: Pinpoint endpoints in, endpoints with `Recommendations` out. Pure; no I/O, no AWS."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Literal

from transformer.attributes import ItemValues
from transformer.errors import InvalidEventError

RECOMMENDATION_ITEMS = "RecommendationItems"
RECOMMENDATIONS = "Recommendations"

Choose = Callable[[str, Mapping[str, Any]], "dict[str, Any] | LeftOut"]
"""A per-endpoint strategy: the endpoint's `Recommendations` object, or why the endpoint is left out."""

Resolve = Callable[[Collection[str]], Mapping[str, ItemValues | None]]
"""Maps unique item ids to their attribute values; an id that is unknown or unusable maps to None or is absent."""


class LeftOut(StrEnum):
    """Why an endpoint is left out of the response (and so is not sent a message)."""

    NOT_OBJECT = "not_object"
    NO_ITEMS = "no_items"
    TOO_FEW_ITEMS = "too_few_items"
    NO_OFFER = "no_offer"
    """Offers mode: no offer is eligible for the endpoint (never a placeholder offer)."""
    NO_USER_ID = "no_user_id"
    """Offers mode, Personalize ranking by user id: the endpoint has no `User.UserId`."""
    RANKING_FAILED = "ranking_failed"
    """Offers mode: the endpoint's Personalize ranking failed (the rest of the batch still goes out)."""


@dataclass(frozen=True, slots=True)
class Policy:
    attribute_names: Sequence[str]
    min_items: int = 1
    missing: Literal["drop", "fill"] = "drop"
    fill_values: ItemValues | None = None

    def __post_init__(self) -> None:
        if self.missing == "fill" and self.fill_values is None:
            raise ValueError("the 'fill' policy needs a default value for every attribute")


@dataclass(slots=True)
class Enrichment:
    response: dict[str, Any]
    endpoints_in: int
    left_out: dict[str, LeftOut] = field(default_factory=dict)
    """Endpoint id -> why it is not in the response."""
    items_requested: int = 0
    items_resolved: int = 0
    items_missing: int = 0
    items_filled: int = 0
    unique_ids: int = 0

    def left_out_counts(self) -> Counter[LeftOut]:
        return Counter(self.left_out.values())


def endpoints_of(event: object) -> Mapping[str, Any]:
    """The `Endpoints` map of an invocation event; anything else about the event is optional."""
    if not isinstance(event, Mapping):
        raise InvalidEventError(f"event must be a JSON object, got {type(event).__name__}")
    endpoints = event.get("Endpoints")
    if not isinstance(endpoints, Mapping):
        kind = "missing" if endpoints is None else f"a {type(endpoints).__name__}"
        raise InvalidEventError(f"event 'Endpoints' must be a JSON object, got {kind}")
    return endpoints


def _item_ids(endpoint: object) -> list[object] | None:
    if not isinstance(endpoint, Mapping):
        return None
    items = endpoint.get(RECOMMENDATION_ITEMS)
    return items if isinstance(items, list) and items else None


def collect_item_ids(endpoints: Mapping[str, Any]) -> list[str]:
    """Every distinct string item id of the batch, in first-seen order."""
    unique: dict[str, None] = {}
    for endpoint in endpoints.values():
        for item_id in _item_ids(endpoint) or ():
            if isinstance(item_id, str):
                unique[item_id] = None
    return list(unique)


def enrich(endpoints: Mapping[str, Any], resolve: Resolve, policy: Policy) -> Enrichment:
    """Add `Recommendations` to every endpoint that has enough resolvable items; leave the others out.

    Every returned endpoint equals its input except for `Recommendations`, which holds one list of strings per
    attribute, aligned with `RecommendationItems` order (unknown items dropped or filled per the policy).
    """
    ids = collect_item_ids(endpoints)
    values = resolve(ids) if ids else {}
    result = Enrichment(response={}, endpoints_in=len(endpoints), unique_ids=len(ids))
    names = policy.attribute_names
    for endpoint_id, endpoint in endpoints.items():
        if not isinstance(endpoint, Mapping):
            result.left_out[endpoint_id] = LeftOut.NOT_OBJECT
            continue
        item_ids = _item_ids(endpoint)
        if item_ids is None:
            result.left_out[endpoint_id] = LeftOut.NO_ITEMS
            continue
        rows: list[ItemValues] = []
        resolved = 0
        for item_id in item_ids:
            row = values.get(item_id) if isinstance(item_id, str) else None
            if row is not None:
                resolved += 1
                rows.append(row)
            elif policy.fill_values is not None and policy.missing == "fill":
                rows.append(policy.fill_values)
        result.items_requested += len(item_ids)
        result.items_resolved += resolved
        result.items_missing += len(item_ids) - resolved
        if resolved < policy.min_items:
            result.left_out[endpoint_id] = LeftOut.TOO_FEW_ITEMS
            continue
        result.items_filled += len(rows) - resolved
        # Transpose item rows into one list per attribute (zip runs in C: this loop is the hot path of a warm batch).
        recommendations = dict(zip(names, map(list, zip(*rows, strict=True)), strict=True))
        result.response[endpoint_id] = {**endpoint, RECOMMENDATIONS: recommendations}
    return result


def enrich_each(endpoints: Mapping[str, Any], choose: Choose) -> Enrichment:
    """Add the `Recommendations` that `choose` gives each endpoint; leave out those it gives a reason for.

    The strategy form of `enrich`: the same contract (input endpoint unchanged plus `Recommendations`,
    non-object endpoints left out), with the per-endpoint decision delegated (offers mode uses it). `enrich` keeps
    its own inlined loop: routing it through here costs ~5% of a warm batch (bench/RESULTS.md, "Tried and rejected").
    """
    result = Enrichment(response={}, endpoints_in=len(endpoints))
    for endpoint_id, endpoint in endpoints.items():
        if not isinstance(endpoint, Mapping):
            result.left_out[endpoint_id] = LeftOut.NOT_OBJECT
            continue
        outcome = choose(endpoint_id, endpoint)
        if isinstance(outcome, LeftOut):
            result.left_out[endpoint_id] = outcome
            continue
        result.response[endpoint_id] = {**endpoint, RECOMMENDATIONS: outcome}
    return result
