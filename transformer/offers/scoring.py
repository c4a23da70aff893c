"""Model scores for candidate offers, and the seeded exploration draw. Pure functions."""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from typing import Any

_SEPARATOR = "\x1f"
_DRAW_BITS = 64


def reciprocal_rank_scores(item_ids: Sequence[object]) -> dict[str, float]:
    """Rank scoring: the item at position i (0-based) of RecommendationItems scores 1 / (i + 1).

    So the campaign's first pick scores 1, the second 0.5, the third 1/3. A repeated id keeps its first
    (best) position; non-string entries are skipped but still take up their position.
    """
    scores: dict[str, float] = {}
    for position, item_id in enumerate(item_ids):
        if isinstance(item_id, str) and item_id not in scores:
            scores[item_id] = 1.0 / (position + 1)
    return scores


def personalized_ranking_scores(ranking: Iterable[Mapping[str, Any]]) -> dict[str, float]:
    """Scores from a GetPersonalizedRanking `personalizedRanking` list.

    Personalize's own `score` when every entry has a finite one; otherwise (recipes without scores) the
    reciprocal rank of the returned order. Offers Personalize leaves out of its answer get no score (0).
    """
    entries = [entry for entry in ranking if isinstance(entry.get("itemId"), str)]
    scores = [entry.get("score") for entry in entries]
    if entries and all(isinstance(score, int | float) and math.isfinite(score) for score in scores):
        result: dict[str, float] = {}
        for entry in entries:
            result.setdefault(entry["itemId"], float(entry["score"]))
        return result
    return reciprocal_rank_scores([entry["itemId"] for entry in entries])


def exploration_draw(identity: str, campaign_date: date, offer_id: str) -> float:
    """A uniform draw in [0, 1) fixed by (recipient, campaign date, offer).

    blake2b, not Python's salted hash(): a retried invocation, another container or a preview on the same
    day draws the same numbers, so exploration never changes a recipient's offer between attempts.
    """
    key = _SEPARATOR.join((identity, campaign_date.isoformat(), offer_id)).encode("utf-8", "surrogatepass")
    digest = hashlib.blake2b(key, digest_size=_DRAW_BITS // 8, person=b"pinrec-offers").digest()
    return int.from_bytes(digest, "big") / float(1 << _DRAW_BITS)
