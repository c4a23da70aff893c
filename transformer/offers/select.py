"""Choosing offers: model score x preference, normalised, blended with exploration, best first. Pure."""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from transformer.offers.model import Offer


@dataclass(frozen=True, slots=True)
class Scored:
    offer: Offer
    model_score: float
    share: float
    """(model score x preference) normalised over the eligible offers; sums to 1."""
    score: float
    """The blended score the choice is made on; also sums to 1 over the eligible offers."""


def _usable(score: float) -> float:
    return score if math.isfinite(score) and score > 0 else 0.0


def _normalise(weights: Sequence[float]) -> list[float] | None:
    total = math.fsum(weights)
    if not total > 0 or not math.isfinite(total):
        return None
    return [weight / total for weight in weights]


def score_offers(
    eligible: Sequence[Offer],
    model_scores: Mapping[str, float],
    exploration: float,
    draw: Callable[[str], float],
) -> list[Scored]:
    """Blended scores of the eligible offers (in offer id order).

    share_i = model_i x preference_i / sum over eligible offers; model scores that are negative, missing or
    not finite count as 0. When every weight is 0 (the model scored nothing), shares fall back to preference
    alone: preference_i / sum(preference), never a division by zero (preferences are > 0).
    score_i = (1 - exploration) x share_i + exploration x draw_i / sum(draws), draw_i uniform in [0, 1);
    if every draw is 0, the exploration part is uniform (1 / n).
    """
    offers = sorted(eligible, key=lambda offer: offer.id)
    if not offers:
        return []
    models = [_usable(model_scores.get(offer.id, 0.0)) for offer in offers]
    shares = _normalise([model * offer.preference for model, offer in zip(models, offers, strict=True)])
    if shares is None:
        shares = _normalise([offer.preference for offer in offers])
    assert shares is not None  # preferences are finite and > 0
    if exploration > 0:
        explore = _normalise([draw(offer.id) for offer in offers]) or [1 / len(offers)] * len(offers)
        scores = [(1 - exploration) * share + exploration * part for share, part in zip(shares, explore, strict=True)]
    else:
        scores = shares
    return [
        Scored(offer, model, share, score)
        for offer, model, share, score in zip(offers, models, shares, scores, strict=True)
    ]


def best_first(scored: Sequence[Scored], count: int) -> list[Scored]:
    """The `count` highest blended scores; equal scores go to the smaller offer id."""
    return sorted(scored, key=lambda entry: (-entry.score, entry.offer.id))[:count]
