"""`personalize:ARN`: Amazon Personalize GetRecommendations per user (a campaign or a recommender ARN), concurrent,
retried with backoff, cached for the run (`remote`). Errors about the campaign, filter or credentials stop the run."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from typing import Any

from campaign_tools.send.pacing import Backoff
from campaign_tools.send.recommendations.base import (
    IdType,
    RecommendationError,
    SourceKind,
    SourceOptions,
    recommendation_key,
)
from campaign_tools.send.recommendations.remote import NoKey, RemoteRecommendations
from campaign_tools.send.segments import SegmentEndpoint

FATAL_CODES = frozenset(
    {"ResourceNotFoundException", "AccessDeniedException", "UnrecognizedClientException", "InvalidInputException"}
)
"""Errors about the campaign, filter or credentials: every call would fail, so the run stops before sending."""
MAX_RECOMMENDATION_ID = 40
"""PutEvents' longest `recommendationId`."""


class PersonalizeRecommendations(RemoteRecommendations):
    """GetRecommendations per distinct id, `concurrency` calls at a time, retried with backoff, cached per run."""

    label = "Personalize"
    reason_prefix = "personalize"
    operation = "GetRecommendations"
    fatal_codes = FATAL_CODES

    def __init__(
        self,
        campaign_arn: str,
        id_type: IdType,
        per_message: int,
        *,
        client: Any,
        filter_arn: str | None = None,
        filter_values: Mapping[str, str] | None = None,
        concurrency: int = 8,
        backoff: Backoff | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if not campaign_arn.startswith("arn:"):
            raise RecommendationError(f"personalize: needs a campaign or recommender ARN, got {campaign_arn!r}")
        super().__init__(per_message, client=client, concurrency=concurrency, backoff=backoff, sleep=sleep)
        self.campaign_arn = campaign_arn
        self.id_type = id_type
        self.filter_arn = filter_arn
        self.filter_values = dict(filter_values or {})
        self._recommendation_ids: dict[str, str] = {}
        """Per key, the `recommendationId` of its latest answer (metric attribution: `campaign_tools.engagement`)."""

    def describe(self) -> str:
        return f"Personalize {self.campaign_arn}"

    def recommendation_id_of(self, segment_endpoint: SegmentEndpoint) -> str | None:
        """The `recommendationId` Personalize returned with this endpoint's items, when it did."""
        key = recommendation_key(segment_endpoint, self.id_type)
        with self._lock:
            return self._recommendation_ids.get(key) if key is not None else None

    def key_of(self, segment_endpoint: SegmentEndpoint) -> str:
        key = recommendation_key(segment_endpoint, self.id_type)
        if key is None:
            raise NoKey("no_user_id")
        return key

    def request(self, key: str) -> dict[str, Any]:
        arn_key = "recommenderArn" if ":recommender/" in self.campaign_arn else "campaignArn"
        request: dict[str, Any] = {arn_key: self.campaign_arn, "userId": key, "numResults": self.per_message}
        if self.filter_arn:
            request["filterArn"] = self.filter_arn
            if self.filter_values:
                request["filterValues"] = self.filter_values
        return request

    def call(self, key: str) -> list[object]:
        response = self.client.get_recommendations(**self.request(key))
        given = response.get("recommendationId")
        if isinstance(given, str) and 0 < len(given) <= MAX_RECOMMENDATION_ID:
            with self._lock:
                self._recommendation_ids[key] = given
        return [item.get("itemId") for item in response.get("itemList", []) if isinstance(item, dict)]


def _open(target: str, options: SourceOptions, clients: Callable[[str], Any]) -> PersonalizeRecommendations:
    return PersonalizeRecommendations(
        target,
        options.id_type,
        options.per_message,
        client=clients("personalize-runtime"),
        filter_arn=options.filter_arn,
        filter_values=options.filter_values,
        concurrency=options.concurrency,
    )


KIND = SourceKind("personalize", "personalize:CAMPAIGN_ARN", _open)
