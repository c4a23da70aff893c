"""The transformer assembled from its configuration: store, cache, projector, resolver and policy."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from transformer.attributes import ItemProjector
from transformer.cache import TtlLruCache
from transformer.config import PinrecConfig, load_config
from transformer.enrich import Enrichment, Policy, endpoints_of, enrich
from transformer.errors import CatalogUnavailableError, ConfigError, InvalidEventError
from transformer.limits import MAX_ENDPOINTS_PER_INVOCATION, PINPOINT_TIMEOUT_SECONDS
from transformer.observability import log_offers, logger, offers_metrics, record_batch, record_failure
from transformer.offers.errors import RankingUnavailableError
from transformer.precompute import attributes_fingerprint
from transformer.resolver import Cached, CatalogResolver
from transformer.stores.base import ItemStore

if TYPE_CHECKING:
    from transformer.offers.engine import OfferEngine

SAFETY_MARGIN_SECONDS = 1.0
"""Time kept back from the invocation's remaining time, to serialise the response and return it."""


class LambdaContextLike(Protocol):
    def get_remaining_time_in_millis(self) -> int: ...


class Transformer:
    def __init__(
        self,
        config: PinrecConfig,
        store: ItemStore | None = None,
        clock: Callable[[], float] = time.monotonic,
        offers: OfferEngine | None = None,
    ) -> None:
        self.config = config
        self._clock = clock
        # The store's backend was chosen by its kind when the configuration was validated (stores.registry).
        self.store = store if store is not None else config.store.open_store()
        projector = ItemProjector(config.attributes)
        cache: TtlLruCache[Cached] = TtlLruCache(config.cache.ttl_seconds, config.cache.max_items, clock)
        self.cache = cache
        fingerprint = attributes_fingerprint(config.attributes)
        self.resolver = CatalogResolver(self.store, projector, cache, clock, fingerprint)
        self.last: Enrichment | None = None
        self.policy = Policy(
            attribute_names=projector.names,
            min_items=config.recommendations.min_items,
            missing=config.recommendations.missing,
            fill_values=projector.fill_values,
        )
        self.offers = offers
        if offers is None and config.offers is not None:
            from transformer.offers.engine import build_offer_engine

            self.offers = build_offer_engine(config, self.store, clock)

    @classmethod
    def from_config_file(cls, path: str | os.PathLike[str] | None = None) -> Transformer:
        """The Lambda's transformer (cold start): a configuration it could never serve fails initialisation."""
        config = load_config(path)
        problem = config.store.lambda_problem()
        if problem is not None:
            raise ConfigError(problem)
        return cls(config)

    def deadline(self, context: LambdaContextLike | None) -> float:
        """The monotonic instant by which lookups must finish: never past Pinpoint's 15 s, less a margin."""
        budget = PINPOINT_TIMEOUT_SECONDS
        if context is not None:
            budget = min(budget, context.get_remaining_time_in_millis() / 1000)
        return self._clock() + max(budget - SAFETY_MARGIN_SECONDS, 0.0)

    def enrich_event(self, event: object, context: LambdaContextLike | None = None) -> Enrichment:
        endpoints = endpoints_of(event)
        deadline = self.deadline(context)
        if self.offers is not None:
            return self.offers.enrich(event, endpoints, deadline)
        return enrich(endpoints, lambda ids: self.resolver.resolve(ids, deadline=deadline), self.policy)

    def handle(self, event: object, context: LambdaContextLike | None = None) -> dict[str, Any]:
        started = self._clock()
        try:
            enrichment = self.enrich_event(event, context)
        except (InvalidEventError, CatalogUnavailableError, RankingUnavailableError) as error:
            record_failure(error)
            raise
        self.last = enrichment
        if enrichment.endpoints_in > MAX_ENDPOINTS_PER_INVOCATION:
            logger.warning(
                "more endpoints than Pinpoint sends in one invocation",
                extra={"endpoints_in": enrichment.endpoints_in, "limit": MAX_ENDPOINTS_PER_INVOCATION},
            )
        if self.offers is None:
            record_batch(enrichment, self.resolver.last, self._clock() - started)
        else:
            extra = offers_metrics(self.offers.last, enrichment)
            record_batch(enrichment, self.resolver.last, self._clock() - started, extra)
            log_offers(self.offers.last)
        return enrichment.response
