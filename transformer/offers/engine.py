"""One batch in offers mode: eligibility, scoring (rank or Personalize), choice, and the Recommendations object."""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from transformer.cache import TtlLruCache
from transformer.enrich import RECOMMENDATION_ITEMS, Enrichment, LeftOut, enrich_each, failure_of
from transformer.items import is_item_id
from transformer.offers import fields
from transformer.offers.catalog import FileOfferCatalog, Found, OfferCatalog, StoreOfferCatalog
from transformer.offers.eligibility import Exclusion, exclusion_of
from transformer.offers.errors import RankingUnavailableError
from transformer.offers.model import Offer, OfferProjector
from transformer.offers.personalize import (
    MAX_RANKING_INPUT,
    PersonalizeRanker,
    RankingFailed,
    RankingRequest,
    RankingScores,
    RankingStats,
    request_for,
)
from transformer.offers.scoring import exploration_draw, reciprocal_rank_scores
from transformer.offers.select import Scored, best_first, score_offers

if TYPE_CHECKING:
    from transformer.config import OffersConfig, PinrecConfig
    from transformer.stores.base import ItemStore

SCORE_DECIMALS = 6
"""The score attribute is the blended score as text with this many decimals, e.g. "0.523810"."""

MAJORITY_FAILED = 0.5
"""When more than this share of a batch's endpoints that need a Personalize ranking get none, the batch raises."""


@dataclass(slots=True)
class Decision:
    """What one endpoint got and why (kept in memory for `pinrec demo`; never logged)."""

    chosen: list[Scored] = field(default_factory=list)
    scored: list[Scored] = field(default_factory=list)
    """Every eligible offer with its scores, in offer id order."""
    excluded: dict[str, Exclusion] = field(default_factory=dict)
    left_out: LeftOut | None = None


@dataclass(slots=True)
class OfferStats:
    scoring: str
    offers_chosen: int = 0
    excluded: Counter[Exclusion] = field(default_factory=Counter)
    rankings_needed: int = 0
    ranking_cache_hits: int = 0
    ranking: RankingStats = field(default_factory=RankingStats)
    scheduled_time_ignored: bool = False
    """The event's ScheduledTime was present but not a usable timestamp, so the batch used the current time."""


@dataclass(slots=True)
class _Plan:
    identity: str
    eligible: list[Offer]
    excluded: dict[str, Exclusion]
    model_scores: RankingScores | None = None
    request: RankingRequest | None = None


def _now() -> datetime:
    return datetime.now(UTC)


def _ranking_key(request: RankingRequest) -> str:
    text = "\x1f".join((request.user_id, *request.offer_ids)).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(text, digest_size=16).hexdigest()


class OfferEngine:
    def __init__(
        self,
        settings: OffersConfig,
        catalog: OfferCatalog,
        attribute_names: tuple[str, ...],
        *,
        ranker: PersonalizeRanker | None = None,
        ranking_cache: TtlLruCache[RankingScores] | None = None,
        wall_clock: Callable[[], datetime] = _now,
    ) -> None:
        if settings.scoring == "personalize" and (ranker is None or catalog.all_offers() is None):
            raise ValueError("personalize scoring needs a ranker and a catalog that lists its offers")
        self.settings = settings
        self._catalog = catalog
        self._names = attribute_names
        self._ranker = ranker
        self._ranking_cache = ranking_cache if ranking_cache is not None else TtlLruCache(0, 0)
        self._wall_clock = wall_clock
        self.last = OfferStats(settings.scoring)
        self.decisions: dict[str, Decision] = {}
        self.send_time: datetime | None = None
        """The send time of the last batch, in UTC: the event's ScheduledTime, else the clock's now."""

    def enrich(self, event: object, endpoints: Mapping[str, Any], deadline: float) -> Enrichment:
        """Choose offers for a batch. Raises RankingUnavailableError when most Personalize rankings fail."""
        scheduled = fields.send_time(event, self._wall_clock())
        send_time = scheduled.at
        stats = OfferStats(self.settings.scoring, scheduled_time_ignored=scheduled.ignored)
        self.last, self.decisions, self.send_time = stats, {}, send_time
        failures: Counter[str] = Counter()
        if self.settings.scoring == "rank":
            plans = self._plan_rank(endpoints, send_time, deadline, failures)
        else:
            plans = self._plan_personalize(endpoints, send_time, deadline, stats, failures)
        campaign_date = send_time.date()

        def choose(endpoint_id: str, endpoint: Mapping[str, Any]) -> dict[str, Any] | LeftOut:
            plan = plans[endpoint_id]
            if isinstance(plan, LeftOut):
                self.decisions[endpoint_id] = Decision(left_out=plan)
                return plan
            decision = self._decide(plan, campaign_date)
            self.decisions[endpoint_id] = decision
            stats.excluded.update(plan.excluded.values())
            if decision.left_out is not None:
                return decision.left_out
            stats.offers_chosen += len(decision.chosen)
            return self._recommendations(decision.chosen)

        enrichment = enrich_each(endpoints, choose)
        for where, count in failures.items():
            enrichment.failures[where] = enrichment.failures.get(where, 0) + count
        return enrichment

    def _decide(self, plan: _Plan, campaign_date: date) -> Decision:
        decision = Decision(excluded=plan.excluded)
        if not plan.eligible:
            decision.left_out = LeftOut.NO_OFFER
            return decision
        if plan.model_scores is None:
            decision.left_out = LeftOut.RANKING_FAILED
            return decision
        identity = plan.identity
        scored = score_offers(
            plan.eligible,
            plan.model_scores,
            self.settings.exploration,
            lambda offer_id: exploration_draw(identity, campaign_date, offer_id),
        )
        decision.scored = scored
        decision.chosen = best_first(scored, self.settings.per_endpoint)
        return decision

    def _recommendations(self, chosen: list[Scored]) -> dict[str, Any]:
        recommendations: dict[str, Any] = {
            name: [entry.offer.values[index] for entry in chosen] for index, name in enumerate(self._names)
        }
        if self.settings.score_attribute is not None:
            recommendations[self.settings.score_attribute] = [f"{entry.score:.{SCORE_DECIMALS}f}" for entry in chosen]
        return recommendations

    def _plan_rank(
        self, endpoints: Mapping[str, Any], send_time: datetime, deadline: float, failures: Counter[str]
    ) -> dict[str, _Plan | LeftOut]:
        wanted: dict[str, None] = {}
        for endpoint in endpoints.values():
            try:
                items = endpoint.get(RECOMMENDATION_ITEMS) if isinstance(endpoint, Mapping) else None
                if isinstance(items, list):
                    wanted.update((item, None) for item in items if is_item_id(item))
            except Exception:  # noqa: S112 - the endpoint raises again below, in its plan's guard
                continue
        found: dict[str, Found] = self._catalog.lookup(list(wanted), deadline=deadline) if wanted else {}
        plans: dict[str, _Plan | LeftOut] = {}
        for endpoint_id, endpoint in endpoints.items():
            if not isinstance(endpoint, Mapping):
                continue
            try:  # the per-endpoint guard (enrich.Enrichment.fail), for the planning half of the work
                plans[endpoint_id] = self._rank_plan(endpoint_id, endpoint, found, send_time)
            except Exception as error:
                plans[endpoint_id] = LeftOut.FAILED
                failures[failure_of(error)] += 1
        return plans

    @staticmethod
    def _rank_plan(
        endpoint_id: str, endpoint: Mapping[str, Any], found: Mapping[str, Found], send_time: datetime
    ) -> _Plan | LeftOut:
        items = endpoint.get(RECOMMENDATION_ITEMS)
        if not isinstance(items, list) or not items:
            return LeftOut.NO_ITEMS
        model_scores = reciprocal_rank_scores(items)
        # Every item id was looked up; a string that is not one was not.
        candidates = [(offer_id, found.get(offer_id, Exclusion.INVALID_ID)) for offer_id in model_scores]
        eligible, excluded = _split(candidates, send_time, fields.channel_type(endpoint))
        identity = fields.user_id(endpoint) or endpoint_id
        return _Plan(identity, eligible, excluded, model_scores)

    def _plan_personalize(
        self,
        endpoints: Mapping[str, Any],
        send_time: datetime,
        deadline: float,
        stats: OfferStats,
        failures: Counter[str],
    ) -> dict[str, _Plan | LeftOut]:
        offers = self._catalog.all_offers() or []
        plans: dict[str, _Plan | LeftOut] = {}
        uncached: dict[str, RankingRequest] = {}
        for endpoint_id, endpoint in endpoints.items():
            if not isinstance(endpoint, Mapping):
                continue
            try:  # the per-endpoint guard (enrich.Enrichment.fail), for the planning half of the work
                plan = self._personalize_plan(endpoint_id, endpoint, offers, send_time)
            except Exception as error:
                plans[endpoint_id] = LeftOut.FAILED
                failures[failure_of(error)] += 1
                continue
            plans[endpoint_id] = plan
            if isinstance(plan, LeftOut) or plan.request is None:
                continue
            stats.rankings_needed += 1
            key = _ranking_key(plan.request)
            cached = self._ranking_cache.lookup([key]).fresh.get(key)
            if cached is not None:
                stats.ranking_cache_hits += 1
                plan.model_scores = cached
            else:
                uncached[key] = plan.request
        if uncached:
            assert self._ranker is not None
            results = self._ranker.rank_many(uncached, deadline)
            stats.ranking = self._ranker.last
            self._ranking_cache.put_many(
                {key: scores for key, scores in results.items() if not isinstance(scores, RankingFailed)}
            )
            failed = 0
            for planned in plans.values():
                if isinstance(planned, _Plan) and planned.request is not None and planned.model_scores is None:
                    result = results[_ranking_key(planned.request)]
                    if isinstance(result, RankingFailed):
                        failed += 1
                    else:
                        planned.model_scores = result
            if failed > MAJORITY_FAILED * stats.rankings_needed:
                raise RankingUnavailableError(
                    f"{failed} of {stats.rankings_needed} Personalize rankings failed; the batch will be retried"
                )
        return plans

    def _personalize_plan(
        self, endpoint_id: str, endpoint: Mapping[str, Any], offers: list[Offer], send_time: datetime
    ) -> _Plan | LeftOut:
        """The endpoint's eligible offers and its ranking request; `no_user_id` without a usable Personalize user
        id (the endpoint id itself with `id_type = "endpoint"`)."""
        if self.settings.id_type == "endpoint":
            identity = endpoint_id if fields.is_user_id(endpoint_id) else None
        else:
            identity = fields.user_id(endpoint)
        if identity is None:
            return LeftOut.NO_USER_ID
        eligible, excluded = _split([(offer.id, offer) for offer in offers], send_time, fields.channel_type(endpoint))
        plan = _Plan(identity, eligible, excluded)
        if eligible:
            plan.request = request_for(identity, [offer.id for offer in eligible])
        return plan


def _split(
    candidates: list[tuple[str, Found]], send_time: datetime, channel: str | None
) -> tuple[list[Offer], dict[str, Exclusion]]:
    eligible: list[Offer] = []
    excluded: dict[str, Exclusion] = {}
    for offer_id, found in candidates:
        reason = found if isinstance(found, Exclusion) else exclusion_of(found, send_time, channel)
        if reason is None:
            assert isinstance(found, Offer)
            eligible.append(found)
        else:
            excluded[offer_id] = reason
    return eligible, excluded


def build_offer_engine(
    config: PinrecConfig,
    store: ItemStore,
    clock: Callable[[], float] = time.monotonic,
    *,
    personalize_client: Any = None,
    wall_clock: Callable[[], datetime] = _now,
) -> OfferEngine:
    """The engine a configuration describes; reads and validates the offers file (cold start)."""
    settings = config.offers
    assert settings is not None
    projector = OfferProjector(config.attributes)
    catalog: OfferCatalog
    if settings.catalog == "store":
        catalog = StoreOfferCatalog(
            store, projector, TtlLruCache(config.cache.ttl_seconds, config.cache.max_items, clock)
        )
    else:
        limit = MAX_RANKING_INPUT if settings.scoring == "personalize" else None
        catalog = FileOfferCatalog.load(Path(settings.catalog), projector, max_offers=limit)
    ranker = None
    if settings.scoring == "personalize":
        assert settings.campaign_arn is not None
        if personalize_client is None:
            from transformer.offers.personalize import make_client

            personalize_client = make_client(
                settings.region, settings.endpoint_url, settings.timeout_seconds, settings.concurrency
            )
        ranker = PersonalizeRanker(
            personalize_client,
            settings.campaign_arn,
            max_attempts=settings.max_attempts,
            concurrency=settings.concurrency,
            clock=clock,
        )
    return OfferEngine(
        settings,
        catalog,
        projector.names,
        ranker=ranker,
        ranking_cache=TtlLruCache(config.cache.ttl_seconds, config.cache.max_items, clock),
        wall_clock=wall_clock,
    )
