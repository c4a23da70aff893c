"""Where offers come from: a JSON Lines file validated at cold start, or the item store (validated per lookup)."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Collection, Iterable
from pathlib import Path
from typing import Protocol

from transformer.cache import TtlLruCache
from transformer.errors import CatalogUnavailableError, ConfigError
from transformer.offers.eligibility import Exclusion
from transformer.offers.errors import InvalidOfferError
from transformer.offers.model import Offer, OfferProjector, parse_offer
from transformer.stores.base import DamagedDocument, ItemStore, Stored

Found = Offer | Exclusion
"""An offer, or why an id gives none (unknown, or invalid)."""


class OfferCatalog(Protocol):
    def lookup(self, ids: Collection[str], *, deadline: float | None = None) -> dict[str, Found]:
        """Each id's offer or exclusion; `ids` are unique item ids (`transformer.items.is_item_id`)."""
        ...

    def all_offers(self) -> list[Offer] | None:
        """Every offer, for scoring over the whole catalog; None when the source cannot list its offers."""
        ...


class FileOfferCatalog:
    """Offers read once from a JSON Lines file; any invalid line fails the load, naming the line."""

    def __init__(self, offers: Iterable[Offer]) -> None:
        self._offers = {offer.id: offer for offer in offers}

    @classmethod
    def load(cls, path: Path, projector: OfferProjector, *, max_offers: int | None = None) -> FileOfferCatalog:
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise ConfigError(f"offers.catalog: offers file {path} does not exist") from None
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"offers.catalog: cannot read offers file {path}: {error}") from None
        offers: dict[str, Offer] = {}
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            offer = _parse_line(line, projector, f"offers.catalog: {path} line {number}")
            if offer.id in offers:
                raise ConfigError(f"offers.catalog: {path} line {number}: duplicate offer id")
            offers[offer.id] = offer
        if not offers:
            raise ConfigError(f"offers.catalog: offers file {path} holds no offers")
        if max_offers is not None and len(offers) > max_offers:
            raise ConfigError(
                f"offers.catalog: {path} holds {len(offers)} offers; GetPersonalizedRanking ranks at most {max_offers}"
            )
        return cls(offers.values())

    def lookup(self, ids: Collection[str], *, deadline: float | None = None) -> dict[str, Found]:
        return {offer_id: self._offers.get(offer_id, Exclusion.UNKNOWN) for offer_id in ids}

    def all_offers(self) -> list[Offer]:
        return list(self._offers.values())

    def __len__(self) -> int:
        return len(self._offers)


def _parse_line(line: str, projector: OfferProjector, where: str) -> Offer:
    try:
        document = json.loads(line)
    except json.JSONDecodeError as error:
        raise ConfigError(f"{where}: not valid JSON ({error.msg} at column {error.colno})") from None
    if not isinstance(document, dict):
        raise ConfigError(f"{where}: expected a JSON object, got {type(document).__name__}")
    try:
        return parse_offer(document, projector)
    except InvalidOfferError as problem:
        raise ConfigError(f"{where}: {problem}") from None


class StoreOfferCatalog:
    """Offers kept in the item store, looked up by id in one call per batch behind the TTL cache.

    A record that is not a valid offer counts as `invalid` for every endpoint that names it. When the store
    fails, expired cache entries are served; an id with no entry at all makes the batch raise (Pinpoint retries).
    """

    def __init__(
        self,
        store: ItemStore,
        projector: OfferProjector,
        cache: TtlLruCache[Found],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._store = store
        self._projector = projector
        self._cache = cache
        self._clock = clock

    def lookup(self, ids: Collection[str], *, deadline: float | None = None) -> dict[str, Found]:
        cached = self._cache.lookup(ids)
        found: dict[str, Found] = dict(cached.fresh)
        wanted = [*cached.stale, *cached.absent]
        if not wanted:
            return found
        try:
            documents = self._store.get_many(wanted, deadline=deadline)
        except CatalogUnavailableError:
            if cached.absent:
                raise
            found.update(cached.stale)
            return found
        fetched = {offer_id: self._offer(offer_id, documents.get(offer_id)) for offer_id in wanted}
        self._cache.put_many(fetched)
        found.update(fetched)
        return found

    def _offer(self, offer_id: str, document: Stored | None) -> Found:
        if document is None:
            return Exclusion.UNKNOWN
        if isinstance(document, DamagedDocument):
            return Exclusion.INVALID
        try:  # the store's key field is the offer id, whatever the configured key is called
            return parse_offer({**document, "id": offer_id}, self._projector)
        except InvalidOfferError:
            return Exclusion.INVALID

    def all_offers(self) -> None:
        return None
