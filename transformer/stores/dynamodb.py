"""Catalog in DynamoDB: a batch's unique ids read with concurrent BatchGetItem calls, retried within the budget.

Imported only when a configuration names `kind = "dynamodb"`, so boto3 never loads on a SQLite cold start.
"""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from decimal import Decimal
from typing import Any

from boto3.dynamodb.types import Binary, TypeDeserializer
from botocore.exceptions import BotoCoreError, ClientError

from transformer.aws import RETRYABLE_CODES, AwsOptions, ClientTuning
from transformer.aws import client as make_client
from transformer.backoff import DeadlineBackoff
from transformer.errors import CatalogUnavailableError
from transformer.stores.base import Item

MAX_KEYS_PER_BATCH_GET = 100
"""DynamoDB's limit on keys in one BatchGetItem request."""

MAX_KEY_BYTES = 2048
"""DynamoDB's limit on a partition key value."""

LOAD_VERSION_ATTRIBUTE = "_pinrec_load"
"""Stamped on every item by `pinrec catalog load`; an implementation detail the transformer never shows."""

DEFAULT_BUDGET_SECONDS = 10.0
"""How long a lookup may take when the caller passes no deadline (the CLI's inspection commands)."""


def client_tuning(concurrency: int) -> ClientTuning:
    """Short timeouts and no SDK retries: the store retries itself, within the invocation's deadline."""
    return ClientTuning(
        attempts=1, connect_timeout=1.0, read_timeout=2.0, max_pool_connections=concurrency, tcp_keepalive=True
    )


def number_from_decimal(value: Decimal) -> int | float:
    """A DynamoDB number as the JSON-like value it was loaded from: integral text -> int, otherwise float.

    `Decimal('19.99')` becomes the float whose shortest repr is `19.99`, so rendering never drifts.
    """
    if value.as_tuple().exponent >= 0:  # type: ignore[operator]  # finite: DynamoDB has no NaN or infinity
        return int(value)
    return float(value)


def plain(value: Any) -> Any:  # noqa: PLR0911 - one return per DynamoDB type
    """Replace what TypeDeserializer returns (Decimal, set, Binary) with plain JSON-like Python values."""
    if isinstance(value, str | bool) or value is None:
        return value
    if isinstance(value, Decimal):
        return number_from_decimal(value)
    if isinstance(value, dict):
        return {key: plain(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [plain(inner) for inner in value]
    if isinstance(value, set | frozenset):
        return sorted((plain(inner) for inner in value), key=repr)
    if isinstance(value, Binary):
        return bytes(value)
    return value


class DynamoDbItemStore:
    """Reads catalog items by id from one DynamoDB table whose partition key is the item id (a string)."""

    def __init__(
        self,
        table: str,
        key: str = "id",
        *,
        region: str | None = None,
        endpoint_url: str | None = None,
        client: Any | None = None,
        concurrency: int = 8,
        backoff_base: float = 0.025,
        backoff_cap: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.monotonic,
        jitter: Callable[[], float] = random.random,
    ) -> None:
        self.table = table
        self.key = key
        self._client = client or make_client(
            "dynamodb", AwsOptions(region=region, endpoint_url=endpoint_url), client_tuning(concurrency)
        )
        self._clock = clock
        self._backoff = DeadlineBackoff(backoff_base, backoff_cap, sleep, clock, jitter)
        self._deserialize = TypeDeserializer().deserialize
        self._executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="pinrec-ddb")
        self._lock = threading.Lock()
        self.calls = 0
        """BatchGetItem requests sent so far (for metrics and the benchmark)."""

    def get_many(self, ids: Collection[str], *, deadline: float | None = None) -> dict[str, Item]:
        # An id DynamoDB cannot hold as a key (empty, or over 2048 bytes) cannot be in the table; asking for it
        # would fail the whole request with a ValidationException, so it is simply reported absent.
        unique = [item_id for item_id in dict.fromkeys(ids) if 0 < len(item_id.encode()) <= MAX_KEY_BYTES]
        if not unique:
            return {}
        if deadline is None:
            deadline = self._clock() + DEFAULT_BUDGET_SECONDS
        chunks = [unique[i : i + MAX_KEYS_PER_BATCH_GET] for i in range(0, len(unique), MAX_KEYS_PER_BATCH_GET)]
        futures = [self._executor.submit(self._fetch_chunk, chunk, deadline) for chunk in chunks]
        done, pending = wait(futures, timeout=max(deadline - self._clock(), 0.0), return_when=FIRST_EXCEPTION)
        failed = next((future for future in done if future.exception() is not None), None)
        if failed is not None or pending:
            for future in pending:
                future.cancel()
            if failed is not None:
                raise _as_unavailable(failed)
            raise CatalogUnavailableError("DynamoDB lookup out of time: a response did not arrive before the deadline")
        found: dict[str, Item] = {}
        for future in futures:
            found.update(future.result())
        return found

    def _fetch_chunk(self, keys: Sequence[str], deadline: float) -> dict[str, Item]:
        request: list[Mapping[str, Any]] = [{self.key: {"S": item_id}} for item_id in keys]
        found: dict[str, Item] = {}
        attempt = 0
        while request:
            if self._clock() >= deadline:
                raise CatalogUnavailableError("DynamoDB lookup out of time before every key was read")
            try:
                with self._lock:
                    self.calls += 1
                response = self._client.batch_get_item(RequestItems={self.table: {"Keys": request}})
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "")
                if code not in RETRYABLE_CODES:
                    raise CatalogUnavailableError(f"DynamoDB table {self.table}: {code or 'error'}") from None
                self._pause(attempt, deadline, code)
                attempt += 1
                continue
            except BotoCoreError as error:
                self._pause(attempt, deadline, type(error).__name__)
                attempt += 1
                continue
            for raw in response.get("Responses", {}).get(self.table, ()):
                item = self._decode(raw)
                found[item[self.key]] = item
            request = response.get("UnprocessedKeys", {}).get(self.table, {}).get("Keys", [])
            if request:
                self._pause(attempt, deadline, "unprocessed keys")
                attempt += 1
        return found

    def _pause(self, attempt: int, deadline: float, why: str) -> None:
        if not self._backoff.pause(attempt, deadline):
            raise CatalogUnavailableError(f"DynamoDB lookup out of time after {attempt + 1} attempts ({why})")

    def _decode(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        deserialize = self._deserialize
        return {name: plain(deserialize(value)) for name, value in raw.items() if name != LOAD_VERSION_ATTRIBUTE}

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _as_unavailable(future: Future[Any]) -> CatalogUnavailableError:
    error = future.exception()
    if isinstance(error, CatalogUnavailableError):
        return error
    return CatalogUnavailableError(f"DynamoDB lookup failed: {type(error).__name__}")
