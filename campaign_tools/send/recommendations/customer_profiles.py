"""`customer-profiles:DOMAIN/RECOMMENDER[@PATH]`: an Amazon Connect Customer Profiles recommender through
GetProfileRecommendations (botocore `customer-profiles`), the service AWS points Pinpoint's engagement users to.

The profile id (32 lowercase hex digits) is the endpoint id or `User.UserId` (`--id-type`), or the endpoint value
`@PATH` names (`Attributes.NAME`, `User.UserAttributes.NAME`: its first value); an endpoint without a profile id of
that shape is skipped (no_profile_id). Each recommendation's `CatalogItem.Id` is an item id; the catalog item itself
(Name, Price, Link, ImageLink, Attributes, ...: whatever values the service returned) is kept per item id in
`catalog_items` for the run, which `[store] kind = "profile-items"` reads as the catalog
(`campaign_tools.send.profile_items`). Concurrency, retries and the per-run cache are `remote`'s, as for
`personalize:`.
"""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from typing import Any

from campaign_tools.send.pacing import Backoff
from campaign_tools.send.recommendations.base import (
    IdType,
    RecommendationError,
    SourceKind,
    SourceOptions,
    recommendation_key,
)
from campaign_tools.send.recommendations.remote import NoKey, RemoteRecommendations, check_endpoint_path, value_at
from campaign_tools.send.segments import SegmentEndpoint

NAME = re.compile(r"[a-zA-Z0-9_-]{1,64}")
PROFILE_ID = re.compile(r"[a-f0-9]{32}")
FATAL_CODES = frozenset({"ResourceNotFoundException", "AccessDeniedException", "UnrecognizedClientException"})


class CustomerProfilesRecommendations(RemoteRecommendations):
    label = "Customer Profiles"
    reason_prefix = "customer_profiles"
    operation = "GetProfileRecommendations"
    fatal_codes = FATAL_CODES

    def __init__(
        self,
        domain: str,
        recommender: str,
        id_type: IdType,
        per_message: int,
        *,
        client: Any,
        profile_path: str | None = None,
        concurrency: int = 8,
        backoff: Backoff | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        for what, value in (("domain", domain), ("recommender", recommender)):
            if not NAME.fullmatch(value):
                raise RecommendationError(
                    f"customer-profiles: the {what} name must be 1-64 letters, digits, '_' or '-', got {value!r}"
                )
        super().__init__(per_message, client=client, concurrency=concurrency, backoff=backoff, sleep=sleep)
        self.domain = domain
        self.recommender = recommender
        self.id_type = id_type
        self.profile_path = None if profile_path is None else check_endpoint_path(profile_path, "customer-profiles")
        self.catalog_items: dict[str, dict[str, Any]] = {}
        self._items_lock = threading.Lock()

    def describe(self) -> str:
        source = self.profile_path or ("User.UserId" if self.id_type is IdType.USER else "the endpoint id")
        return f"Customer Profiles {self.domain}/{self.recommender} (profile id from {source})"

    def key_of(self, segment_endpoint: SegmentEndpoint) -> str:
        if self.profile_path is not None:
            key = value_at(segment_endpoint.endpoint, self.profile_path)
        else:
            key = recommendation_key(segment_endpoint, self.id_type)
        if key is None or not PROFILE_ID.fullmatch(key):
            raise NoKey("no_profile_id")
        return key

    def request(self, profile_id: str) -> dict[str, Any]:
        return {
            "DomainName": self.domain,
            "ProfileId": profile_id,
            "RecommenderName": self.recommender,
            "MaxResults": self.per_message,
        }

    def call(self, key: str) -> list[object]:
        response = self.client.get_profile_recommendations(**self.request(key))
        ids: list[object] = []
        for recommendation in response.get("Recommendations", []):
            item = recommendation.get("CatalogItem") if isinstance(recommendation, dict) else None
            if not isinstance(item, dict):
                continue
            ids.append(item.get("Id"))
            if isinstance(item.get("Id"), str):
                with self._items_lock:
                    self.catalog_items[item["Id"]] = item
        return ids


def _open(target: str, options: SourceOptions, clients: Callable[[str], Any]) -> CustomerProfilesRecommendations:
    names, _, profile_path = target.partition("@")
    domain, separator, recommender = names.partition("/")
    if not separator:
        raise RecommendationError(f"customer-profiles: expected DOMAIN/RECOMMENDER[@PATH], got {target!r}")
    if options.filter_arn:
        raise RecommendationError("customer-profiles: --filter-arn is for Personalize; this source takes none")
    return CustomerProfilesRecommendations(
        domain,
        recommender,
        options.id_type,
        options.per_message,
        client=clients("customer-profiles"),
        profile_path=profile_path or None,
        concurrency=options.concurrency,
    )


KIND = SourceKind("customer-profiles", "customer-profiles:DOMAIN/RECOMMENDER[@PROFILE_ID_PATH]", _open)
