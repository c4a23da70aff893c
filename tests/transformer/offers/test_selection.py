"""Golden cases: score x preference -> normalise -> blend -> argmax, worked by hand; eligibility; the contract."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import write_catalog
from transformer.config import parse_config
from transformer.enrich import LeftOut
from transformer.errors import CatalogUnavailableError
from transformer.offers import fields
from transformer.offers.eligibility import Exclusion, exclusion_of
from transformer.offers.engine import build_offer_engine
from transformer.offers.model import Offer
from transformer.offers.scoring import exploration_draw, personalized_ranking_scores, reciprocal_rank_scores
from transformer.offers.select import best_first, score_offers
from transformer.service import Transformer
from transformer.stores.sqlite import SqliteItemStore

NOW = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
ATTRIBUTES = {"OfferId": {"field": "id"}, "OfferCode": {"field": "code"}}


def offer_doc(offer_id: str, preference: float, **fields: Any) -> dict[str, Any]:
    return {
        "id": offer_id,
        "title": f"Title {offer_id}",
        "description": f"About {offer_id}",
        "code": f"CODE-{offer_id}",
        "preference": preference,
        **fields,
    }


def offer(offer_id: str, preference: float, **fields: Any) -> Offer:
    return Offer(offer_id, preference, fields.get("starts_at"), fields.get("expires_at"), fields.get("channels"), ())


def make_transformer(
    tmp_path: Path,
    offers: list[dict[str, Any]],
    *,
    now: datetime = NOW,
    catalog: str = "offers.jsonl",
    clock: Callable[[], float] = time.monotonic,
    **settings: Any,
) -> Transformer:
    store_path = write_catalog(tmp_path / "catalog.db", offers if catalog == "store" else [{"id": "unused"}])
    (tmp_path / "offers.jsonl").write_text("\n".join(json.dumps(doc) for doc in offers) + "\n", encoding="utf-8")
    data = {
        "store": {"kind": "sqlite", "path": str(store_path)},
        "attributes": ATTRIBUTES,
        "offers": {"catalog": catalog, **settings},
    }
    config = parse_config(data, base_dir=tmp_path)
    store = SqliteItemStore(store_path)
    engine = build_offer_engine(config, store, clock, wall_clock=lambda: now)
    return Transformer(config, store=store, clock=clock, offers=engine)


def endpoint(items: list[Any] | None, channel: str = "EMAIL", user: str | None = "user-1") -> dict[str, Any]:
    result: dict[str, Any] = {"ChannelType": channel, "Address": "someone@example.com"}
    if user is not None:
        result["User"] = {"UserId": user}
    if items is not None:
        result["RecommendationItems"] = items
    return result


# --- the arithmetic, by hand ---------------------------------------------------------------------------------


def test_preference_reweights_the_campaign_ranking():
    # RecommendationItems [A, B, C] -> rank scores 1, 1/2, 1/3; preferences A=1, B=3, C=1.
    # weights: A = 1 x 1 = 1, B = 1/2 x 3 = 3/2, C = 1/3 x 1 = 1/3; sum = 17/6.
    # shares: A = 6/17 = 0.352941, B = 9/17 = 0.529412, C = 2/17 = 0.117647 -> B wins although A ranked first.
    offers = [offer("A", 1), offer("B", 3), offer("C", 1)]
    scored = score_offers(offers, reciprocal_rank_scores(["A", "B", "C"]), 0.0, lambda _: 0.0)
    assert {entry.offer.id: round(entry.score, 6) for entry in scored} == {"A": 0.352941, "B": 0.529412, "C": 0.117647}
    assert sum(entry.score for entry in scored) == pytest.approx(1.0)
    assert [entry.offer.id for entry in best_first(scored, 3)] == ["B", "A", "C"]


def test_equal_scores_go_to_the_smaller_offer_id():
    # Items [B, A]: B = 1 x 1 = 1, A = 1/2 x 2 = 1 -> shares 0.5 and 0.5, a tie broken by id: A.
    scored = score_offers([offer("B", 1), offer("A", 2)], reciprocal_rank_scores(["B", "A"]), 0.0, lambda _: 0.0)
    assert [entry.score for entry in scored] == [0.5, 0.5]
    assert best_first(scored, 1)[0].offer.id == "A"


def test_personalize_scores_times_preference():
    # Personalize scores A = 0.2, B = 0.05, C = 0.0; preferences 1, 3, 1.
    # weights 0.2, 0.15, 0 -> sum 0.35 -> A = 4/7 = 0.571429, B = 3/7 = 0.428571, C = 0.
    model = personalized_ranking_scores(
        [{"itemId": "A", "score": 0.2}, {"itemId": "B", "score": 0.05}, {"itemId": "C", "score": 0.0}]
    )
    scored = score_offers([offer("A", 1), offer("B", 3), offer("C", 1)], model, 0.0, lambda _: 0.0)
    assert {entry.offer.id: round(entry.score, 6) for entry in scored} == {"A": 0.571429, "B": 0.428571, "C": 0.0}


def test_all_zero_scores_fall_back_to_preference_without_dividing_by_zero():
    # Every model score is 0, so every weight is 0: shares become preference / sum(preference) = 1/5, 3/5, 1/5.
    zero = {"A": 0.0, "B": 0.0, "C": 0.0}
    scored = score_offers([offer("A", 1), offer("B", 3), offer("C", 1)], zero, 0.0, lambda _: 0.0)
    assert {entry.offer.id: entry.score for entry in scored} == {"A": 0.2, "B": 0.6, "C": 0.2}
    # Negative, infinite and NaN scores count as 0 as well.
    odd = {"A": -1.0, "B": float("nan"), "C": float("inf")}
    assert [entry.score for entry in score_offers([offer("A", 1), offer("B", 3), offer("C", 1)], odd, 0, str)] == [
        0.2,
        0.6,
        0.2,
    ]
    assert score_offers([], zero, 0.5, lambda _: 0.0) == []


def test_exploration_blends_normalised_draws():
    # Shares from the first case: A = 6/17, B = 9/17, C = 2/17. Draws A = 0.9, B = 0.1, C = 0.5 -> sum 1.5
    # -> A = 0.6, B = 1/15, C = 1/3. exploration 0.5:
    # A = 0.5 x 0.352941 + 0.5 x 0.6 = 0.476471; B = 0.5 x 0.529412 + 0.5 x 0.066667 = 0.298039;
    # C = 0.5 x 0.117647 + 0.5 x 0.333333 = 0.225490 -> A.
    draws = {"A": 0.9, "B": 0.1, "C": 0.5}
    scored = score_offers(
        [offer("A", 1), offer("B", 3), offer("C", 1)], reciprocal_rank_scores(["A", "B", "C"]), 0.5, draws.__getitem__
    )
    assert {entry.offer.id: round(entry.score, 6) for entry in scored} == {"A": 0.476471, "B": 0.298039, "C": 0.22549}
    assert best_first(scored, 1)[0].offer.id == "A"
    # All-zero draws make the exploration part uniform (1/3 each) rather than dividing by zero.
    flat = score_offers([offer("A", 1), offer("B", 3), offer("C", 1)], {"A": 1.0}, 1.0, lambda _: 0.0)
    assert [round(entry.score, 6) for entry in flat] == [0.333333] * 3


def test_unscored_recipes_use_the_returned_order():
    model = personalized_ranking_scores([{"itemId": "B"}, {"itemId": "A"}, {"itemId": "C", "score": 0.4}])
    assert model == {"B": 1.0, "A": 0.5, "C": pytest.approx(1 / 3)}


def test_exploration_draws_are_seeded_by_recipient_and_day_not_by_the_process():
    day = date(2026, 11, 24)
    draws = [exploration_draw("user-1", day, offer_id) for offer_id in ("A", "B", "C")]
    assert all(0 <= draw < 1 for draw in draws)
    assert len(set(draws)) == 3
    assert exploration_draw("user-2", day, "A") != draws[0]
    assert exploration_draw("user-1", day + timedelta(days=1), "A") != draws[0]
    code = (
        "from datetime import date; from transformer.offers.scoring import exploration_draw; "
        "print(repr([exploration_draw('user-1', date(2026, 11, 24), o) for o in 'ABC']))"
    )
    for seed in ("1", "2"):
        other = subprocess.run(
            [sys.executable, "-c", code], env={"PYTHONHASHSEED": seed}, capture_output=True, text=True, check=True
        )
        assert other.stdout.strip() == repr(draws)


# --- eligibility and the send time ---------------------------------------------------------------------------


def test_eligibility_window_and_channels():
    start, end = NOW - timedelta(days=1), NOW + timedelta(days=1)
    live = offer("A", 1, starts_at=start, expires_at=end, channels=frozenset({"EMAIL"}))
    assert exclusion_of(live, NOW, "EMAIL") is None
    assert exclusion_of(live, start, "EMAIL") is None, "starts_at is inclusive"
    assert exclusion_of(live, end, "EMAIL") is Exclusion.EXPIRED, "expires_at is exclusive"
    assert exclusion_of(live, start - timedelta(seconds=1), "EMAIL") is Exclusion.NOT_STARTED
    assert exclusion_of(live, NOW, "SMS") is Exclusion.CHANNEL
    assert exclusion_of(live, NOW, None) is Exclusion.CHANNEL
    assert exclusion_of(offer("B", 1), NOW, None) is None, "an unrestricted offer goes on every channel"


@pytest.mark.parametrize(
    ("event", "expected"),
    [
        ({"ScheduledTime": "2026-12-01T10:00:00Z"}, datetime(2026, 12, 1, 10, tzinfo=UTC)),
        ({"ScheduledTime": "2026-12-01T10:00:00+02:00"}, datetime(2026, 12, 1, 8, tzinfo=UTC)),
        ({"ScheduledTime": "2026-12-01T10:00:00"}, datetime(2026, 12, 1, 10, tzinfo=UTC)),
        ({"ScheduledTime": "tomorrow"}, NOW),
        ({"ScheduledTime": 1764583200}, NOW),
        ({}, NOW),
    ],
)
def test_send_time_is_the_scheduled_time_when_parseable(event, expected):
    assert fields.send_time(event, NOW).at == expected


# --- end to end through the transformer ----------------------------------------------------------------------

OFFERS = [
    offer_doc("A", 1.0),
    offer_doc("B", 3.0, expires_at="2026-12-01T00:00:00Z"),
    offer_doc("C", 1.0, channels=["SMS"]),
    offer_doc("D", 9.0, starts_at="2026-12-01T00:00:00Z"),
    offer_doc("E", 2.0, expires_at="2026-11-24T08:59:59Z"),
]


def test_rank_scoring_end_to_end(tmp_path):
    transformer = make_transformer(tmp_path, OFFERS, per_endpoint=2, score_attribute="OfferScore")
    event = {
        "Endpoints": {
            # A, B eligible; C (SMS only), D (not started), E (expired), X (unknown) excluded.
            # A = 1/1 x 1 = 1; B = 1/3 x 3 = 1 (position 3 of 6) -> 0.5 each, tie -> A then B.
            "mail": endpoint(["A", "C", "B", "D", "E", "X"]),
            # SMS: C = 1 x 1 = 1, A = 1/2 x 1 = 1/2 -> C = 2/3, A = 1/3.
            "text": endpoint(["C", "A"], channel="SMS"),
            "nothing-live": endpoint(["D", "E", "X"]),
            "no-items": endpoint(None),
            "empty": endpoint([]),
            "junk": 7,
        }
    }
    original = copy.deepcopy(event)
    response = transformer.handle(event)
    assert event == original
    assert set(response) == {"mail", "text"}
    assert response["mail"]["Recommendations"] == {
        "OfferId": ["A", "B"],
        "OfferCode": ["CODE-A", "CODE-B"],
        "OfferScore": ["0.500000", "0.500000"],
    }
    assert response["text"]["Recommendations"] == {
        "OfferId": ["C", "A"],
        "OfferCode": ["CODE-C", "CODE-A"],
        "OfferScore": ["0.666667", "0.333333"],
    }
    for endpoint_id, returned in response.items():
        assert {k: v for k, v in returned.items() if k != "Recommendations"} == event["Endpoints"][endpoint_id]
    assert transformer.last.left_out == {
        "nothing-live": LeftOut.NO_OFFER,
        "no-items": LeftOut.NO_ITEMS,
        "empty": LeftOut.NO_ITEMS,
        "junk": LeftOut.NOT_OBJECT,
    }
    decisions = transformer.offers.decisions
    assert decisions["mail"].excluded == {
        "C": Exclusion.CHANNEL,
        "D": Exclusion.NOT_STARTED,
        "E": Exclusion.EXPIRED,
        "X": Exclusion.UNKNOWN,
    }
    assert transformer.offers.last.excluded == {
        Exclusion.CHANNEL: 1,
        Exclusion.NOT_STARTED: 2,
        Exclusion.EXPIRED: 2,
        Exclusion.UNKNOWN: 2,
    }


def test_scheduled_time_decides_expiry(tmp_path):
    transformer = make_transformer(tmp_path, OFFERS)
    event = {"Endpoints": {"mail": endpoint(["B", "D"])}}
    assert transformer.handle(event)["mail"]["Recommendations"]["OfferId"] == ["B"]  # now: B live, D not yet
    later = {**event, "ScheduledTime": "2026-12-02T00:00:00Z"}
    assert transformer.handle(later)["mail"]["Recommendations"]["OfferId"] == ["D"]  # B expired, D started


def test_exploration_is_deterministic_across_containers_and_follows_the_day(tmp_path):
    offers = [offer_doc(name, 1.0) for name in "ABCDEFGH"]
    event = {"Endpoints": {f"ep-{n}": endpoint(list("ABCDEFGH"), user=f"user-{n}") for n in range(40)}}
    first = make_transformer(tmp_path / "one", offers, exploration=0.9).handle(event)
    again = make_transformer(tmp_path / "two", offers, exploration=0.9).handle(copy.deepcopy(event))
    assert first == again
    chosen = {response["Recommendations"]["OfferId"][0] for response in first.values()}
    assert len(chosen) > 1, "with 90% exploration, forty recipients do not all get the top-ranked offer"
    without = make_transformer(tmp_path / "three", offers, exploration=0.0).handle(event)
    assert {response["Recommendations"]["OfferId"][0] for response in without.values()} == {"A"}
    next_day = make_transformer(tmp_path / "four", offers, exploration=0.9, now=NOW + timedelta(days=1)).handle(event)
    assert next_day != first


def test_offers_from_the_item_store(tmp_path):
    documents = [*OFFERS, {"id": "NOCODE", "title": "t", "description": "d", "preference": 5}]
    transformer = make_transformer(tmp_path, documents, catalog="store")
    event = {"Endpoints": {"mail": endpoint(["NOCODE", "E", "A", "X"]), "bad": endpoint(["NOCODE"])}}
    response = transformer.handle(event)
    assert list(response) == ["mail"]
    assert response["mail"]["Recommendations"] == {"OfferId": ["A"], "OfferCode": ["CODE-A"]}
    assert transformer.offers.decisions["mail"].excluded == {
        "NOCODE": Exclusion.INVALID,
        "E": Exclusion.EXPIRED,
        "X": Exclusion.UNKNOWN,
    }
    assert transformer.last.left_out == {"bad": LeftOut.NO_OFFER}


def test_store_offers_are_cached_served_stale_if_the_store_fails_and_an_unseen_id_raises(tmp_path):
    clock = [1000.0]
    transformer = make_transformer(tmp_path, OFFERS, catalog="store", clock=lambda: clock[0])
    event = {"Endpoints": {"mail": endpoint(["A", "B"])}}
    first = transformer.handle(event)
    transformer.store.close()  # every later store lookup fails

    assert transformer.handle(event) == first, "fresh cache entries answer without the store"
    clock[0] += 301  # past cache.ttl_seconds (300): entries are stale, the store fails, stale ones are served
    assert transformer.handle(event) == first
    with pytest.raises(CatalogUnavailableError):
        transformer.handle({"Endpoints": {"mail": endpoint(["C"])}})
