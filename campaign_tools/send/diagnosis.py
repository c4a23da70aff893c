"""When most of a run's rows end for one reason, the summary says so prominently, and for endpoints the transformer
left out with too few items it names the attributes responsible (the diagnosis of `pinrec config check`, run on the
items those endpoints were recommended) or the recommended ids the catalog does not hold."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from campaign_tools.config_check import check_items
from campaign_tools.send.batch import Enricher
from campaign_tools.send.pipeline import RunSummary
from transformer.config import PinrecConfig
from transformer.enrich import RECOMMENDATION_ITEMS, Enrichment, LeftOut
from transformer.errors import PinrecError
from transformer.stores.base import ItemStore

MOST = 0.5
"""A reason shared by more than this share of the rows is the run's story: the summary leads with it."""
SAMPLED_ITEMS = 200
"""Item ids kept from the endpoints left out with too few items, to explain why afterwards."""
TOO_FEW_ITEMS = f"transformer_{LeftOut.TOO_FEW_ITEMS}"

HINTS = {
    "other_channel": "the segment's endpoints are mostly of another channel: check --channel",
    "no_recommendations": "the recommendations have nothing for them: check --recommendations and --id-type",
    "no_user_id": "they have no User.UserId to look recommendations up by: check --id-type",
    "already_sent": "this campaign had sent them already: the run resumed it",
}


class LeftOutSample:
    """The transformer as the run uses it, noting the item ids recommended to the endpoints it leaves out with too
    few items (up to SAMPLED_ITEMS distinct ids)."""

    def __init__(self, enricher: Enricher) -> None:
        self._enricher = enricher
        self.item_ids: dict[str, None] = {}

    def enrich_event(self, event: object) -> Enrichment:
        enrichment = self._enricher.enrich_event(event)
        endpoints = event.get("Endpoints", {}) if isinstance(event, dict) else {}
        for endpoint_id, why in enrichment.left_out.items():
            if why is not LeftOut.TOO_FEW_ITEMS or len(self.item_ids) >= SAMPLED_ITEMS:
                continue
            for item_id in endpoints.get(endpoint_id, {}).get(RECOMMENDATION_ITEMS, ()):
                if isinstance(item_id, str) and len(self.item_ids) < SAMPLED_ITEMS:
                    self.item_ids[item_id] = None
        return enrichment


def explain_too_few_items(item_ids: list[str], store: ItemStore, config: PinrecConfig) -> str:
    """Which attributes leave the recommended items unknown, and how many of the ids the catalog does not hold."""
    if not item_ids:
        return ""
    items = store.get_many(item_ids)
    check = check_items(config.attributes, items.values(), "the items recommended to the endpoints left out")
    causes = [
        f"attribute {coverage.name} has no value for {coverage.unknown:,} of {coverage.checked:,} of their "
        f"recommended items ({coverage.why()})"
        for coverage in check.unknown_attributes()
    ]
    missing = len(item_ids) - len(items)
    if missing:
        causes.append(f"{missing:,} of {len(item_ids):,} of their recommended ids are not in the catalog")
    return "; ".join(causes)


@dataclass(frozen=True)
class DominantReason:
    """The reason most rows of the run ended with (skipped or failed), and what it points at."""

    outcome: str
    """skipped or failed"""
    reason: str
    count: int
    rows: int
    cause: str

    def line(self) -> str:
        share = self.count / self.rows
        cause = f": {self.cause}" if self.cause else ""
        counted = f"{self.reason} {self.count:,} of {self.rows:,} ({share:.0%})"
        return f"  ! most rows {self.outcome} for one reason: {counted}{cause}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "outcome": self.outcome,
            "reason": self.reason,
            "count": self.count,
            "rows": self.rows,
            "cause": self.cause,
        }


def dominant_reason(summary: RunSummary, explain: Callable[[], str]) -> DominantReason | None:
    """The reason shared by most of the run's rows, if one is; `explain` says why endpoints had too few items."""
    outcomes = [("skipped", summary.all_skipped()), ("failed", summary.failed)]
    found = [(count, outcome, reason) for outcome, counter in outcomes for reason, count in Counter(counter).items()]
    rows = summary.segment.rows
    if not found or not rows:
        return None
    count, outcome, reason = max(found)
    if count <= MOST * rows:
        return None
    if reason == TOO_FEW_ITEMS:
        try:
            cause = explain()
        except PinrecError as error:
            cause = f"the catalog could not be read to say why ({error})"
    else:
        cause = HINTS.get(reason, "")
    return DominantReason(outcome, reason, count, rows, cause)
