"""Property tests: for any offers, scores, preferences, expiries and channels, the choice is eligible,
deterministic (exploration included) and maximal, ties going to the smaller offer id."""

from __future__ import annotations

import itertools
import math
import random
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from transformer.cache import TtlLruCache
from transformer.config import OffersConfig
from transformer.enrich import LeftOut
from transformer.offers.catalog import FileOfferCatalog
from transformer.offers.engine import OfferEngine
from transformer.offers.model import CHANNEL_TYPES, Offer
from transformer.offers.scoring import exploration_draw
from transformer.offers.select import best_first, score_offers

SEND_TIME = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
CHANNELS = sorted(CHANNEL_TYPES)
IDS = [f"offer-{letter}" for letter in "abcdefghij"]

moments = st.one_of(
    st.none(), st.integers(min_value=-3, max_value=3).map(lambda days: SEND_TIME + timedelta(days=days, seconds=days))
)


@st.composite
def offers(draw: st.DrawFn) -> Offer:
    offer_id = draw(st.sampled_from(IDS))
    starts_at, expires_at = draw(moments), draw(moments)
    if starts_at is not None and expires_at is not None and expires_at <= starts_at:
        expires_at = starts_at + timedelta(hours=1)
    channels = draw(st.one_of(st.none(), st.frozensets(st.sampled_from(CHANNELS), min_size=1, max_size=3)))
    preference = draw(st.floats(min_value=1e-6, max_value=1e6, allow_nan=False, allow_infinity=False))
    return Offer(offer_id, preference, starts_at, expires_at, channels, (offer_id,))


offer_sets = st.lists(offers(), max_size=8, unique_by=lambda offer: offer.id)
model_scores = st.dictionaries(
    st.sampled_from(IDS),
    st.one_of(st.floats(min_value=0, max_value=1), st.sampled_from([0.0, -1.0, math.inf, math.nan, 1e-300])),
)


def reference_scores(
    eligible: list[Offer], models: dict[str, float], exploration: float, identity: str
) -> dict[str, float]:
    """The documented formula, written out again independently of the implementation's code path."""
    ordered = sorted(eligible, key=lambda offer: offer.id)
    usable = [models.get(offer.id, 0.0) for offer in ordered]
    usable = [value if math.isfinite(value) and value > 0 else 0.0 for value in usable]
    weights = [value * offer.preference for value, offer in zip(usable, ordered, strict=True)]
    if not math.fsum(weights) > 0:
        weights = [offer.preference for offer in ordered]
    total = math.fsum(weights)
    shares = [weight / total for weight in weights]
    if exploration > 0:
        draws = [exploration_draw(identity, SEND_TIME.date(), offer.id) for offer in ordered]
        draw_total = math.fsum(draws)
        parts = [value / draw_total for value in draws] if draw_total > 0 else [1 / len(ordered)] * len(ordered)
        shares = [(1 - exploration) * s + exploration * p for s, p in zip(shares, parts, strict=True)]
    return {offer.id: share for offer, share in zip(ordered, shares, strict=True)}


def is_eligible(offer: Offer, channel: str) -> bool:
    started = offer.starts_at is None or offer.starts_at <= SEND_TIME
    live = offer.expires_at is None or offer.expires_at > SEND_TIME
    return started and live and (offer.channels is None or channel in offer.channels)


@settings(max_examples=300, deadline=None)
@given(
    catalog=offer_sets,
    models=model_scores,
    exploration=st.floats(min_value=0, max_value=1),
    count=st.integers(min_value=1, max_value=5),
    identity=st.text(max_size=12),
)
def test_scores_are_a_distribution_and_the_choice_is_maximal(catalog, models, exploration, count, identity):
    def draw(offer_id: str) -> float:
        return exploration_draw(identity, SEND_TIME.date(), offer_id)

    scored = score_offers(catalog, models, exploration, draw)
    assert [entry.offer.id for entry in scored] == sorted(offer.id for offer in catalog)
    if not catalog:
        assert best_first(scored, count) == []
        return
    assert math.isclose(math.fsum(entry.score for entry in scored), 1.0, rel_tol=1e-9)
    assert all(0 <= entry.score <= 1 + 1e-12 for entry in scored)
    assert {entry.offer.id: entry.score for entry in scored} == reference_scores(catalog, models, exploration, identity)
    chosen = best_first(scored, count)
    assert len(chosen) == min(count, len(catalog))
    chosen_ids = {entry.offer.id for entry in chosen}
    worst = chosen[-1]
    for entry in scored:
        if entry.offer.id not in chosen_ids:
            assert (entry.score, entry.offer.id) != (worst.score, worst.offer.id)
            assert entry.score < worst.score or (entry.score == worst.score and entry.offer.id > worst.offer.id)
    for better, after in itertools.pairwise(chosen):
        assert (-better.score, better.offer.id) < (-after.score, after.offer.id)
    reordered = score_offers(random.Random(0).sample(catalog, len(catalog)), models, exploration, draw)
    assert best_first(reordered, count) == chosen


def _engine(catalog: list[Offer], exploration: float, count: int) -> OfferEngine:
    settings_ = OffersConfig(catalog="offers.jsonl", exploration=exploration, per_endpoint=count)
    return OfferEngine(
        settings_,
        FileOfferCatalog(catalog),
        ("OfferId",),
        ranking_cache=TtlLruCache(0, 0),
        wall_clock=lambda: SEND_TIME,
    )


endpoint_items = st.lists(st.one_of(st.sampled_from([*IDS, "unknown-1"]), st.integers()), max_size=8)
endpoints = st.dictionaries(
    st.text(min_size=1, max_size=8),
    st.fixed_dictionaries(
        {"ChannelType": st.sampled_from(CHANNELS), "RecommendationItems": endpoint_items},
        optional={"User": st.fixed_dictionaries({"UserId": st.text(max_size=6)})},
    ),
    max_size=12,
)


@settings(max_examples=200, deadline=None)
@given(
    catalog=offer_sets,
    batch=endpoints,
    exploration=st.floats(min_value=0, max_value=1),
    count=st.integers(min_value=1, max_value=5),
)
def test_every_endpoint_gets_eligible_offers_or_is_left_out(catalog, batch, exploration, count):
    by_id = {offer.id: offer for offer in catalog}
    engine = _engine(catalog, exploration, count)
    result = engine.enrich({"ScheduledTime": SEND_TIME.isoformat()}, batch, deadline=math.inf)
    again = _engine(list(reversed(catalog)), exploration, count).enrich(
        {"ScheduledTime": SEND_TIME.isoformat()}, batch, deadline=math.inf
    )
    assert result.response == again.response
    assert result.left_out == again.left_out
    for endpoint_id, endpoint in batch.items():
        items: list[Any] = endpoint["RecommendationItems"]
        channel = endpoint["ChannelType"]
        candidates = {item for item in items if isinstance(item, str) and item in by_id}
        eligible = [by_id[offer_id] for offer_id in sorted(candidates) if is_eligible(by_id[offer_id], channel)]
        if not items:
            assert result.left_out[endpoint_id] is LeftOut.NO_ITEMS
            continue
        if not eligible:
            assert result.left_out[endpoint_id] is LeftOut.NO_OFFER
            continue
        returned = result.response[endpoint_id]
        assert returned == {**endpoint, "Recommendations": returned["Recommendations"]}  # only Recommendations added
        assert list(returned["Recommendations"]) == ["OfferId"]
        chosen = returned["Recommendations"]["OfferId"]
        assert len(chosen) == min(count, len(eligible))
        assert all(is_eligible(by_id[offer_id], channel) for offer_id in chosen)
        rank = {}
        for position, item in enumerate(items):
            if isinstance(item, str):
                rank.setdefault(item, 1 / (position + 1))
        user = endpoint.get("User", {}).get("UserId") or endpoint_id
        expected = reference_scores(eligible, rank, exploration, user)
        best = sorted(expected, key=lambda offer_id: (-expected[offer_id], offer_id))[:count]
        assert chosen == best
