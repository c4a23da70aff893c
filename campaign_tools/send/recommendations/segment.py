"""`segment`: the item ids each endpoint already carries in `RecommendationItems` (e.g. a Pinpoint export)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from campaign_tools.send.recommendations.base import Lookup, SourceKind, SourceOptions, check_per_message, usable_items
from campaign_tools.send.segments import SegmentEndpoint


class SegmentRecommendations:
    """`segment`: the item ids each endpoint already carries in `RecommendationItems` (e.g. a Pinpoint export)."""

    def __init__(self, per_message: int) -> None:
        self.per_message = check_per_message(per_message)

    def describe(self) -> str:
        return "RecommendationItems in the segment"

    def report(self) -> list[str]:
        return []

    def lookup(self, endpoints: Sequence[SegmentEndpoint]) -> Lookup:
        found: dict[str, list[str]] = {}
        missing: dict[str, str] = {}
        for segment_endpoint in endpoints:
            items = usable_items(segment_endpoint.endpoint.get("RecommendationItems"), self.per_message)
            if items:
                found[segment_endpoint.endpoint_id] = items
            else:
                missing[segment_endpoint.endpoint_id] = "no_recommendations"
        return Lookup(found, missing)


def _open(target: str, options: SourceOptions, clients: Callable[[str], Any]) -> SegmentRecommendations:
    return SegmentRecommendations(options.per_message)


KIND = SourceKind("segment", "segment", _open, needs_target=False)
