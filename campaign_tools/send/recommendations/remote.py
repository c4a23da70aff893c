"""What the sources that call a recommendation service per id share: one call per distinct key, `concurrency`
calls at a time, retried with backoff when the error is retryable, cached for the run (a failure is not cached, so
a later batch asks again). Errors about the resource or the credentials stop the run before anything is sent.

A member says how an endpoint gives its key (`key_of`, raising NoKey with the reason it has none), how one call is
made (`call`, returning the item ids in order) and which error codes are fatal.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, ClassVar

from campaign_tools.send.pacing import Backoff
from campaign_tools.send.recommendations.base import Lookup, RecommendationError, check_per_message, usable_items
from campaign_tools.send.segments import SegmentEndpoint
from transformer.aws import is_retryable

NO_RECOMMENDATIONS = "no_recommendations"


class NoKey(Exception):
    """The endpoint gives no key to ask with; the message is the lookup's missing reason (e.g. no_user_id)."""


class RemoteRecommendations:
    label: ClassVar[str]
    """The service as the run summary names it, e.g. Personalize."""
    reason_prefix: ClassVar[str]
    """Failure reasons are `<prefix>_<error code>`."""
    operation: ClassVar[str]
    fatal_codes: ClassVar[frozenset[str]]

    def __init__(
        self,
        per_message: int,
        *,
        client: Any,
        concurrency: int = 8,
        backoff: Backoff | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.per_message = check_per_message(per_message)
        self.client = client
        self.concurrency = max(concurrency, 1)
        self.backoff = backoff or Backoff()
        self._sleep = sleep
        self._cache: dict[str, list[str] | str] = {}
        self._lock = threading.Lock()
        self.calls = 0
        self.retries = 0
        self.failures: Counter[str] = Counter()

    def key_of(self, segment_endpoint: SegmentEndpoint) -> str:
        raise NotImplementedError

    def call(self, key: str) -> list[object]:
        """One request for `key`: the item ids in the service's order (botocore errors propagate)."""
        raise NotImplementedError

    def report(self) -> list[str]:
        return [f"  {self.label}: {self.calls:,} calls, {self.retries:,} retries"]

    def _fatal(self, code: str, message: str) -> RecommendationError:
        return RecommendationError(f"{self.label} {self.operation} failed: {code}: {message}")

    def _fetch(self, key: str) -> list[str] | str:
        """The item ids for one key, or a failure reason after retries."""
        from botocore.exceptions import BotoCoreError, ClientError

        attempt = 0
        while True:
            attempt += 1
            with self._lock:
                self.calls += 1
            try:
                ids = self.call(key)
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "ClientError")
                if code in self.fatal_codes:
                    raise self._fatal(code, error.response["Error"].get("Message", "")) from None
                if is_retryable(error) and attempt < self.backoff.max_attempts:
                    with self._lock:
                        self.retries += 1
                    self._sleep(self.backoff.delay(attempt))
                    continue
                return f"{self.reason_prefix}_{code}"
            except BotoCoreError as error:
                if attempt < self.backoff.max_attempts:
                    self._sleep(self.backoff.delay(attempt))
                    continue
                return f"{self.reason_prefix}_{type(error).__name__}"
            return usable_items(ids, self.per_message) or NO_RECOMMENDATIONS

    def lookup(self, endpoints: Sequence[SegmentEndpoint]) -> Lookup:
        keys: dict[str, str] = {}
        missing: dict[str, str] = {}
        for segment_endpoint in endpoints:
            try:
                keys[segment_endpoint.endpoint_id] = self.key_of(segment_endpoint)
            except NoKey as reason:
                missing[segment_endpoint.endpoint_id] = str(reason)
        with self._lock:
            wanted = list(dict.fromkeys(key for key in keys.values() if key not in self._cache))
        results: dict[str, list[str] | str] = {}
        if wanted:
            with ThreadPoolExecutor(max_workers=min(self.concurrency, len(wanted))) as pool:
                results = dict(zip(wanted, pool.map(self._fetch, wanted), strict=True))
            with self._lock:
                for key, result in results.items():
                    if not isinstance(result, str) or result == NO_RECOMMENDATIONS:
                        self._cache[key] = result
        found: dict[str, list[str]] = {}
        for endpoint_id, key in keys.items():
            result = self._cache.get(key) or results.get(key) or NO_RECOMMENDATIONS
            if isinstance(result, list):
                found[endpoint_id] = result
            else:
                missing[endpoint_id] = result
                if result != NO_RECOMMENDATIONS:
                    self.failures[result] += 1
        return Lookup(found, missing)


ENDPOINT_PATHS = ("Attributes.", "User.UserAttributes.")


def check_endpoint_path(path: str, flag: str) -> str:
    """`path` when it names a value an endpoint carries: User.UserId, Attributes.NAME or User.UserAttributes.NAME."""
    if path == "User.UserId" or any(path.startswith(prefix) and len(path) > len(prefix) for prefix in ENDPOINT_PATHS):
        return path
    raise RecommendationError(f"{flag}: {path!r} must be User.UserId, Attributes.NAME or User.UserAttributes.NAME")


def value_at(endpoint: Mapping[str, Any], path: str) -> str | None:
    """The value at `path` (see check_endpoint_path): the first of an attribute's values; None when absent or empty."""
    user = endpoint.get("User")
    user = user if isinstance(user, Mapping) else {}
    if path == "User.UserId":
        value: object = user.get("UserId")
    else:
        container = user.get("UserAttributes") if path.startswith("User.") else endpoint.get("Attributes")
        name = path.removeprefix("User.UserAttributes.").removeprefix("Attributes.")
        values = container.get(name) if isinstance(container, Mapping) else None
        value = values[0] if isinstance(values, list) and values else None
    return value if isinstance(value, str) and value.strip() else None
