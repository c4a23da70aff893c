"""`personalize-recommender:RECOMMENDER_ARN[@PATH]`: an Amazon Personalize domain recommender (a Domain dataset
group's use case: recommended_for_you, most_popular, customers_who_viewed_x_also_viewed, more_like_x, ...) through
GetRecommendations with `recommenderArn`.

The user id is the endpoint id or `User.UserId` (`--id-type`). Use cases about one item ("… like X") need the item:
`@PATH` names the endpoint value that holds it (`Attributes.NAME`, `User.UserAttributes.NAME`: its first value),
sent as `itemId`; an endpoint without it is skipped (no_item_id). Concurrency, retries and the per-run cache are
`remote`'s, as for `personalize:`.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Mapping
from typing import Any

from campaign_tools.send.pacing import Backoff
from campaign_tools.send.recommendations.base import IdType, RecommendationError, SourceKind, SourceOptions
from campaign_tools.send.recommendations.personalize import PersonalizeRecommendations
from campaign_tools.send.recommendations.remote import NoKey, check_endpoint_path, value_at
from campaign_tools.send.segments import SegmentEndpoint

RECOMMENDER_ARN = re.compile(r"arn:aws[a-z-]*:personalize:[a-z0-9-]+:\d{12}:recommender/[A-Za-z0-9][A-Za-z0-9_-]*")
KEY_SEPARATOR = "\x1f"
"""Joins the user id and the item id into one cache key (neither can hold it: both are ids of printable text)."""


class RecommenderRecommendations(PersonalizeRecommendations):
    """GetRecommendations on a domain recommender, keyed by user id (and item id when `item_path` is given)."""

    def __init__(
        self,
        recommender_arn: str,
        id_type: IdType,
        per_message: int,
        *,
        client: Any,
        item_path: str | None = None,
        filter_arn: str | None = None,
        filter_values: Mapping[str, str] | None = None,
        concurrency: int = 8,
        backoff: Backoff | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not RECOMMENDER_ARN.fullmatch(recommender_arn):
            raise RecommendationError(
                "personalize-recommender: needs a recommender ARN "
                f"(arn:aws:personalize:REGION:ACCOUNT:recommender/NAME), got {recommender_arn!r}"
            )
        super().__init__(
            recommender_arn,
            id_type,
            per_message,
            client=client,
            filter_arn=filter_arn,
            filter_values=filter_values,
            concurrency=concurrency,
            backoff=backoff,
            sleep=sleep,
        )
        self.item_path = None if item_path is None else check_endpoint_path(item_path, "personalize-recommender")

    def describe(self) -> str:
        about = f", item from {self.item_path}" if self.item_path else ""
        return f"Personalize recommender {self.campaign_arn}{about}"

    def key_of(self, segment_endpoint: SegmentEndpoint) -> str:
        user = super().key_of(segment_endpoint)
        if self.item_path is None:
            return user
        item = value_at(segment_endpoint.endpoint, self.item_path)
        if item is None:
            raise NoKey("no_item_id")
        return f"{user}{KEY_SEPARATOR}{item}"

    def request(self, key: str) -> dict[str, Any]:
        user, _, item = key.partition(KEY_SEPARATOR)
        request = super().request(user)
        if item:
            request["itemId"] = item
        return request


def _open(target: str, options: SourceOptions, clients: Callable[[str], Any]) -> RecommenderRecommendations:
    arn, _, item_path = target.partition("@")
    return RecommenderRecommendations(
        arn,
        options.id_type,
        options.per_message,
        client=clients("personalize-runtime"),
        item_path=item_path or None,
        filter_arn=options.filter_arn,
        filter_values=options.filter_values,
        concurrency=options.concurrency,
    )


KIND = SourceKind("personalize-recommender", "personalize-recommender:RECOMMENDER_ARN[@ITEM_PATH]", _open)
