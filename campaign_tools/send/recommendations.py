"""Filling `RecommendationItems`, the step Pinpoint did before calling the transformer.

Sources: `personalize:CAMPAIGN_ARN` (GetRecommendations per user, concurrent, retried, cached for the run) and
`file:PATH` (JSON Lines of id -> item ids). Ids are the endpoint id or the endpoint's `User.UserId`, per the id type
(Pinpoint's `RecommendationProviderIdType`: PINPOINT_ENDPOINT_ID or PINPOINT_USER_ID).

`file:` lines take either form:
- simple: `{"id": "ep-1", "items": ["P1", "P2"]}`;
- Personalize batch inference output: `{"input": {"userId": "u-1"}, "output": {"recommendedItems": [...],
  "scores": [...]}}`; error lines (`{"input": {...}, "error": "..."}`) are counted and skipped.
"""

from __future__ import annotations

import json
import sys
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, Protocol

from campaign_tools.send.pacing import Backoff
from campaign_tools.send.segments import MALFORMED_EXAMPLES, SegmentEndpoint
from transformer.aws import is_retryable
from transformer.errors import PinrecError
from transformer.files import is_text, open_text
from transformer.limits import MAX_ITEMS_PER_MESSAGE, MIN_ITEMS_PER_MESSAGE

MAX_ITEM_ID_LENGTH = 100
"""Pinpoint's limit on a value retrieved from Personalize."""


class IdType(StrEnum):
    ENDPOINT = "endpoint"
    USER = "user"


class RecommendationError(PinrecError):
    """The recommendation source is unusable as a whole (not found, no access, malformed file)."""


@dataclass(frozen=True, slots=True)
class Lookup:
    """Per endpoint id: the item ids (1..per_message) or, when there are none, the reason."""

    items: dict[str, list[str]]
    missing: dict[str, str]


class RecommendationSource(Protocol):
    def lookup(self, endpoints: Sequence[SegmentEndpoint]) -> Lookup: ...

    def describe(self) -> str: ...


def recommendation_key(segment_endpoint: SegmentEndpoint, id_type: IdType) -> str | None:
    if id_type is IdType.ENDPOINT:
        return segment_endpoint.endpoint_id
    user = segment_endpoint.endpoint.get("User")
    user_id = user.get("UserId") if isinstance(user, Mapping) else None
    return user_id if isinstance(user_id, str) and user_id else None


def check_per_message(per_message: int) -> int:
    if not MIN_ITEMS_PER_MESSAGE <= per_message <= MAX_ITEMS_PER_MESSAGE:
        raise PinrecError(
            f"--per-message must be {MIN_ITEMS_PER_MESSAGE} to {MAX_ITEMS_PER_MESSAGE} (Pinpoint's "
            f"RecommendationsPerMessage), got {per_message}"
        )
    return per_message


def usable_items(values: object, per_message: int) -> list[str]:
    """The first `per_message` usable item ids: non-empty strings of at most 100 characters, first of repeats."""
    if not isinstance(values, list):
        return []
    unique = dict.fromkeys(value for value in values if isinstance(value, str) and 0 < len(value) <= MAX_ITEM_ID_LENGTH)
    return list(unique)[:per_message]


@dataclass
class FileStats:
    lines: int = 0
    ids: int = 0
    error_lines: int = 0
    malformed: int = 0
    malformed_examples: list[tuple[int, str]] = field(default_factory=list)


class FileRecommendations:
    """Item ids per id from a JSON Lines file, read once into memory: the ids and, shared, the item ids
    (about 200 bytes per id with 5 items)."""

    def __init__(self, path: str, id_type: IdType, per_message: int, **open_options: Any) -> None:
        self.path = path
        self.id_type = id_type
        self.per_message = check_per_message(per_message)
        self.stats = FileStats()
        self._items: dict[str, tuple[str, ...]] = {}
        with open_text(path, **open_options) as lines:
            self._read(lines)

    def describe(self) -> str:
        return f"file {self.path}"

    def _malformed(self, line: int, reason: str) -> None:
        self.stats.malformed += 1
        if len(self.stats.malformed_examples) < MALFORMED_EXAMPLES:
            self.stats.malformed_examples.append((line, reason))

    def _read(self, lines: Iterable[str]) -> None:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            self.stats.lines += 1
            if not is_text(line):
                self._malformed(number, "not UTF-8 text")
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                self._malformed(number, f"not JSON ({error.msg} at column {error.colno})")
                continue
            parsed = self._parse(record)
            if isinstance(parsed, str):
                if parsed == "error":
                    self.stats.error_lines += 1
                else:
                    self._malformed(number, parsed)
                continue
            key, items = parsed
            # Item ids repeat across users (a catalog is far smaller than a segment): share one string each.
            self._items[key] = tuple(sys.intern(item) for item in items)
        self.stats.ids = len(self._items)

    def _parse(self, record: object) -> tuple[str, list[str]] | str:
        """(id, items), or "error" for a batch inference error line, or why the line is malformed."""
        if not isinstance(record, dict):
            return "a line must be a JSON object"
        if "input" in record:
            source = record["input"]
            key = source.get("userId") if isinstance(source, dict) else None
            if not isinstance(key, str) or not key:
                return "batch inference line without input.userId"
            if "error" in record:
                return "error"
            output = record.get("output")
            items = output.get("recommendedItems") if isinstance(output, dict) else None
        else:
            key, items = record.get("id"), record.get("items")
            if not isinstance(key, str) or not key:
                return 'a line needs "id" (simple form) or "input" (batch inference output)'
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            return "the item ids must be a list of strings"
        return key, items

    def lookup(self, endpoints: Sequence[SegmentEndpoint]) -> Lookup:
        found: dict[str, list[str]] = {}
        missing: dict[str, str] = {}
        for segment_endpoint in endpoints:
            key = recommendation_key(segment_endpoint, self.id_type)
            if key is None:
                missing[segment_endpoint.endpoint_id] = "no_user_id"
                continue
            items = usable_items(list(self._items.get(key, ())), self.per_message)
            if items:
                found[segment_endpoint.endpoint_id] = items
            else:
                missing[segment_endpoint.endpoint_id] = "no_recommendations"
        return Lookup(found, missing)


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


class SegmentRecommendations:
    """`segment`: the item ids each endpoint already carries in `RecommendationItems` (e.g. a Pinpoint export)."""

    def __init__(self, per_message: int) -> None:
        self.per_message = check_per_message(per_message)

    def describe(self) -> str:
        return "RecommendationItems in the segment"

    def lookup(self, endpoints: Sequence[SegmentEndpoint]) -> Lookup:
        found: dict[str, list[str]] = {}
        missing: dict[str, str] = {}
        for segment_endpoint in endpoints:
            items = usable_items(segment_endpoint.endpoint.get("RecommendationItems"), self.per_message)
            if items:
                found[segment_endpoint.endpoint_id] = items
            else:
                missing[segment_endpoint.endpoint_id] = "no_recommendations"
        return Lookup(found, missing)
