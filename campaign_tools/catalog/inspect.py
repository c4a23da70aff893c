"""`pinrec catalog get|stats` as library calls: items by id, and the catalog's figures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from campaign_tools.catalog.target import CatalogTarget, sdk_errors
from transformer.stores.base import CatalogStats, Item


@dataclass(frozen=True, slots=True)
class ItemLookup:
    found: list[Item]
    """The items found, in the order their ids were asked for (an id asked twice, twice)."""
    missing: list[str]
    """The ids asked for that the catalog does not hold, in the same order."""


def get_items(target: CatalogTarget, ids: Sequence[str]) -> ItemLookup:
    """Read the items with these ids, each unique id once, through a reader that is closed afterwards."""
    with sdk_errors(), target.store.reading(target.aws) as store:
        items = store.get_many(list(dict.fromkeys(ids)))
    return ItemLookup(
        found=[items[item_id] for item_id in ids if item_id in items],
        missing=[item_id for item_id in ids if item_id not in items],
    )


def catalog_stats(target: CatalogTarget, exact: bool = False) -> CatalogStats:
    """Size, key, source and load time; `exact` counts items exactly where that takes a scan (DynamoDB)."""
    with sdk_errors():
        return target.store.stats(target.aws, exact=exact)
