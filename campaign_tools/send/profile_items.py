"""The send's half of `[store] kind = "profile-items"` (`transformer.stores.profile_items`): the catalog items a
Customer Profiles recommender returned with its recommendations are what the send's transformer resolves item ids
with. The recommendation source keeps them for the run (`catalog_items`), and every batch is looked up before it is
enriched, so the items of a batch's ids are there when its attributes are resolved.

The Lambda Pinpoint calls never sees this: only a send supplies profile items.
"""

from __future__ import annotations

from campaign_tools.send.recommendations.base import RecommendationSource
from campaign_tools.send.recommendations.customer_profiles import CustomerProfilesRecommendations
from transformer.config import PinrecConfig
from transformer.errors import PinrecError
from transformer.stores.base import ItemStore
from transformer.stores.profile_items import KIND, ProfileItemsReader


def uses_profile_items(config: PinrecConfig) -> bool:
    return config.store.kind == KIND


def without_catalog(config: PinrecConfig) -> bool:
    """True when the profile items are the whole catalog (no `[store.catalog]`)."""
    return uses_profile_items(config) and getattr(config.store, "catalog", None) is None


def supply_profile_items(config: PinrecConfig, store: ItemStore, source: RecommendationSource) -> None:
    """Hand the source's catalog items to the transformer's profile-items reader; PinrecError when the
    configuration reads profile items and the source returns none (any source but customer-profiles)."""
    if not uses_profile_items(config):
        return
    if not isinstance(source, CustomerProfilesRecommendations):
        raise PinrecError(
            f"[store] kind = '{KIND}' reads the item fields a Customer Profiles recommender returns: it needs "
            f"--recommendations customer-profiles:DOMAIN/RECOMMENDER (this send's is {source.describe()})"
        )
    if not isinstance(store, ProfileItemsReader):
        raise PinrecError(f"[store] kind = '{KIND}': the transformer's store is not a profile-items reader")
    store.supply(source.catalog_items)
