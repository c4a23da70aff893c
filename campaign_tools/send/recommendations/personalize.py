"""`personalize:ARN`: Amazon Personalize GetRecommendations per user (a campaign or a recommender ARN), concurrent,
retried with backoff, cached for the run. Errors about the campaign, filter or credentials stop the run."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from campaign_tools.send.pacing import Backoff
from campaign_tools.send.recommendations.base import (
    IdType,
    Lookup,
    RecommendationError,
    SourceKind,
    SourceOptions,
    check_per_message,
    recommendation_key,
    usable_items,
)
from campaign_tools.send.segments import SegmentEndpoint
from transformer.aws import is_retryable

FATAL_CODES = frozenset(
    {"ResourceNotFoundException", "AccessDeniedException", "UnrecognizedClientException", "InvalidInputException"}
)
"""Errors about the campaign, filter or credentials: every call would fail, so the run stops before sending."""


class PersonalizeRecommendations:
    """GetRecommendations per distinct id, `concurrency` calls at a time, retried with backoff, cached per run."""

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
        self.campaign_arn = campaign_arn
        self.id_type = id_type
        self.per_message = check_per_message(per_message)
        self.client = client
        self.filter_arn = filter_arn
        self.filter_values = dict(filter_values or {})
        self.concurrency = max(concurrency, 1)
        self.backoff = backoff or Backoff()
        self._sleep = sleep
        self._cache: dict[str, list[str] | str] = {}
        self._lock = threading.Lock()
        self.calls = 0
        self.retries = 0
        self.failures: Counter[str] = Counter()

    def describe(self) -> str:
        return f"Personalize {self.campaign_arn}"

    def report(self) -> list[str]:
        return [f"  Personalize: {self.calls:,} calls, {self.retries:,} retries"]

    def request(self, key: str) -> dict[str, Any]:
        arn_key = "recommenderArn" if ":recommender/" in self.campaign_arn else "campaignArn"
        request: dict[str, Any] = {arn_key: self.campaign_arn, "userId": key, "numResults": self.per_message}
        if self.filter_arn:
            request["filterArn"] = self.filter_arn
            if self.filter_values:
                request["filterValues"] = self.filter_values
        return request

    def _fetch(self, key: str) -> list[str] | str:
        """The item ids for one id, or a failure reason after retries."""
        from botocore.exceptions import BotoCoreError, ClientError

        attempt = 0
        while True:
            attempt += 1
            with self._lock:
                self.calls += 1
            try:
                response = self.client.get_recommendations(**self.request(key))
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "ClientError")
                if code in FATAL_CODES:
                    raise RecommendationError(
                        f"Personalize GetRecommendations failed: {code}: {error.response['Error'].get('Message', '')}"
                    ) from None
                if is_retryable(error) and attempt < self.backoff.max_attempts:
                    with self._lock:
                        self.retries += 1
                    self._sleep(self.backoff.delay(attempt))
                    continue
                return f"personalize_{code}"
            except BotoCoreError as error:
                if attempt < self.backoff.max_attempts:
                    self._sleep(self.backoff.delay(attempt))
                    continue
                return f"personalize_{type(error).__name__}"
            ids = [item.get("itemId") for item in response.get("itemList", []) if isinstance(item, dict)]
            items = usable_items(ids, self.per_message)
            return items or "no_recommendations"

    def lookup(self, endpoints: Sequence[SegmentEndpoint]) -> Lookup:
        keys: dict[str, str] = {}
        missing: dict[str, str] = {}
        for segment_endpoint in endpoints:
            key = recommendation_key(segment_endpoint, self.id_type)
            if key is None:
                missing[segment_endpoint.endpoint_id] = "no_user_id"
            else:
                keys[segment_endpoint.endpoint_id] = key
        with self._lock:
            wanted = list(dict.fromkeys(key for key in keys.values() if key not in self._cache))
        results: dict[str, list[str] | str] = {}
        if wanted:
            with ThreadPoolExecutor(max_workers=min(self.concurrency, len(wanted))) as pool:
                results = dict(zip(wanted, pool.map(self._fetch, wanted), strict=True))
            with self._lock:
                for key, result in results.items():
                    # A failure is not cached: a later batch (or run) asks again.
                    if not isinstance(result, str) or result == "no_recommendations":
                        self._cache[key] = result
        found: dict[str, list[str]] = {}
        for endpoint_id, key in keys.items():
            result = self._cache.get(key) or results.get(key) or "no_recommendations"
            if isinstance(result, list):
                found[endpoint_id] = result
            else:
                missing[endpoint_id] = result
                if result != "no_recommendations":
                    self.failures[result] += 1
        return Lookup(found, missing)


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
