"""`pinrec catalog get|stats` as library calls: items by id, and the catalog's figures."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from campaign_tools.catalog.target import CatalogTarget, sdk_errors
from transformer.stores.base import CatalogStats, DamagedDocument, Item


@dataclass(frozen=True, slots=True)
class ItemLookup:
    found: list[Item]
    """The items found, in the order their ids were asked for (an id asked twice, twice)."""
    missing: list[str]
    """The ids asked for that the catalog does not hold, in the same order."""
    damaged: dict[str, str] = field(default_factory=dict)
    """The ids whose stored document cannot be read as an item, with why (the transformer counts them unknown)."""


def get_items(target: CatalogTarget, ids: Sequence[str]) -> ItemLookup:
    """Read the items with these ids, each unique id once, through a reader that is closed afterwards."""
    with sdk_errors(), target.store.reading(target.aws) as store:
        items = store.get_many(list(dict.fromkeys(ids)))
    found: list[Item] = []
    damaged: dict[str, str] = {}
    for item_id in ids:
        item = items.get(item_id)
        if isinstance(item, DamagedDocument):
            damaged[item_id] = item.problem
        elif item is not None:
            found.append(item)
    return ItemLookup(found=found, missing=[item_id for item_id in ids if item_id not in items], damaged=damaged)


def catalog_stats(target: CatalogTarget, exact: bool = False) -> CatalogStats:
    """Size, key, source and load time; `exact` counts items exactly where that takes a scan (DynamoDB)."""
    with sdk_errors():
        return target.store.stats(target.aws, exact=exact)
