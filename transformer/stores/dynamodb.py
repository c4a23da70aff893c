"""The DynamoDB catalog: one table whose string partition key is the item id.

- `[store] kind = "dynamodb"`: `DynamoDbStoreConfig` (table, key, region, endpoint_url).
- Reader: `DynamoDbItemStore`, a batch's unique ids read with concurrent BatchGetItem calls, retried within the
  invocation's budget.
- Writer: `DynamoDbLoader`, versioned writes, then a purge of older versions once the source is complete.
- Stats: `dynamodb_stats` (DescribeTable, or a counting scan).

Imported only when a configuration or `--store` names `kind = "dynamodb"`, so boto3 never loads on a SQLite cold
start.

Loading: every item a load writes carries `_pinrec_load = <this load's version>`. The reader ignores that attribute
and reads whatever is in the table, so during a load it serves each item either as it was or as it now is, and
items the new source no longer holds stay readable until the purge. Only after the whole source was read and
written are the items of any other version deleted; a load that fails or is interrupted purges nothing (its
already-written items are valid catalog items, replaced or purged by the next load). One load per table at a time:
a purge deletes every item not stamped with its own version.
"""

from __future__ import annotations

import contextlib
import random
import secrets
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_EXCEPTION, Future, ThreadPoolExecutor, wait
from datetime import UTC, datetime
from decimal import Context, Decimal, Inexact, Rounded
from functools import partial
from typing import Any, Literal, Self

from boto3.dynamodb.types import Binary, TypeDeserializer, TypeSerializer
from botocore.exceptions import BotoCoreError, ClientError
from pydantic import Field

from transformer.aws import RETRYABLE_CODES, AwsOptions, ClientTuning
from transformer.aws import client as make_client
from transformer.backoff import DeadlineBackoff, full_jitter
from transformer.errors import CatalogUnavailableError
from transformer.items import encodable
from transformer.precompute import LoadProjection, decode_values
from transformer.stores.base import (
    CatalogLoadError,
    CatalogStats,
    InvalidRecord,
    Item,
    ItemStore,
    LoadOptions,
    LoadSummary,
    Precomputed,
    Progress,
    Record,
    Reject,
    StoreConfig,
    Stored,
    check_shrink,
    nesting_depth,
)

MAX_KEYS_PER_BATCH_GET = 100
"""DynamoDB's limit on keys in one BatchGetItem request."""

MAX_KEY_BYTES = 2048
"""DynamoDB's limit on a partition key value."""

LOAD_VERSION_ATTRIBUTE = "_pinrec_load"
"""Stamped on every item by `pinrec catalog load`; an implementation detail the transformer never shows."""
VALUES_ATTRIBUTE = "_pinrec_values"
FINGERPRINT_ATTRIBUTE = "_pinrec_attributes"
"""A load given the attribute tables stores each item's values (`transformer.precompute`) and their fingerprint on
the item itself, so items of loads for different configurations can share the table; never shown either."""
RESERVED_ATTRIBUTES = frozenset({LOAD_VERSION_ATTRIBUTE, VALUES_ATTRIBUTE, FINGERPRINT_ATTRIBUTE})

DEFAULT_BUDGET_SECONDS = 10.0
"""How long a lookup may take when the caller passes no deadline (the CLI's inspection commands)."""

MAX_SCAN_PAGE = 1000
"""Ids asked for in one Scan page when sampling."""

MAX_ITEMS_PER_BATCH_WRITE = 25
MAX_ITEM_BYTES = 400 * 1024
VALUES_OVERHEAD_BYTES = 1024
"""Room kept for the stored values' attribute names, the fingerprint and the load version (well over their size)."""
MAX_NESTING_LEVELS = 32
"""DynamoDB's limit on nested maps and lists; an item nested deeper is refused by the table (the whole batch)."""
WRITE_ATTEMPTS = 10
BACKOFF_BASE_SECONDS = 0.05
BACKOFF_CAP_SECONDS = 5.0
# DynamoDB numbers: up to 38 significant digits; anything that would round is refused rather than changed.
_NUMBER_CONTEXT = Context(prec=38, traps=[Inexact, Rounded])


class DynamoDbStoreConfig(StoreConfig):
    kind: Literal["dynamodb"]
    table: str = Field(pattern=r"^[A-Za-z0-9_.-]{3,255}$", description="DynamoDB table name")
    key: str = Field(default="id", min_length=1, description="the table's partition key: a string attribute")
    region: str | None = Field(default=None, min_length=1, description="AWS region; default: the SDK's (AWS_REGION)")
    endpoint_url: str | None = Field(
        default=None, pattern=r"^https?://", description="endpoint override (local testing)"
    )

    @classmethod
    def from_location(cls, location: str, key: str) -> Self:
        return cls(kind="dynamodb", table=location, key=key)

    @property
    def location(self) -> str:
        return self.table

    def describe(self) -> str:
        return f"DynamoDB table {self.table}"

    def aws_options(self, overrides: AwsOptions | None = None) -> AwsOptions:
        """The options given (a command's --region, --profile, --endpoint-url), else the configuration's."""
        overrides = overrides or AwsOptions()
        return AwsOptions(
            region=overrides.region or self.region,
            profile=overrides.profile,
            endpoint_url=overrides.endpoint_url or self.endpoint_url,
        )

    def open_store(self, aws: AwsOptions | None = None) -> ItemStore:
        return DynamoDbItemStore(self.table, self.key, aws=self.aws_options(aws))

    def load(self, records: Iterable[Record], options: LoadOptions) -> LoadSummary:
        client = loader_client(self.aws_options(options.aws), options.concurrency)
        loader = DynamoDbLoader(
            client,
            self.table,
            self.key,
            concurrency=options.concurrency,
            attributes=LoadProjection(options.attributes) if options.attributes is not None else None,
        )
        return loader.load(
            records,
            merge=options.merge,
            allow_empty=options.allow_empty,
            allow_shrink=options.allow_shrink,
            on_reject=options.on_reject,
            progress=options.progress,
            on_phase=options.on_phase,
        )

    def stats(self, aws: AwsOptions | None = None, *, exact: bool = False) -> CatalogStats:
        return dynamodb_stats(loader_client(self.aws_options(aws)), self.table, exact=exact)


# The reader.


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
        aws: AwsOptions | None = None,
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
        self._client = client or make_client("dynamodb", aws, client_tuning(concurrency))
        self._clock = clock
        self._backoff = DeadlineBackoff(backoff_base, backoff_cap, sleep, clock, jitter)
        self._deserialize = TypeDeserializer().deserialize
        self._executor = ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="pinrec-ddb")
        self._lock = threading.Lock()
        self.calls = 0
        """BatchGetItem requests sent so far (for metrics and the benchmark)."""

    def get_many(self, ids: Collection[str], *, deadline: float | None = None) -> dict[str, Stored]:
        return self._get(ids, deadline, None)  # type: ignore[return-value]  # no fingerprint: documents only

    def get_precomputed(
        self, ids: Collection[str], fingerprint: str, *, deadline: float | None = None
    ) -> dict[str, Stored | Precomputed]:
        """The values a load stored on an item for the configuration with `fingerprint`; the document of every
        other item (loaded without the attribute tables, or for another configuration)."""
        return self._get(ids, deadline, fingerprint)

    def _get(
        self, ids: Collection[str], deadline: float | None, fingerprint: str | None
    ) -> dict[str, Stored | Precomputed]:
        # An id DynamoDB cannot hold as a key (empty, over 2048 bytes, or not UTF-8: a lone surrogate) cannot be in
        # the table; asking for it would fail the whole request, so it is simply reported absent.
        unique = [item_id for item_id in dict.fromkeys(ids) if _can_be_key(item_id)]
        if not unique:
            return {}
        if deadline is None:
            deadline = self._clock() + DEFAULT_BUDGET_SECONDS
        chunks = [unique[i : i + MAX_KEYS_PER_BATCH_GET] for i in range(0, len(unique), MAX_KEYS_PER_BATCH_GET)]
        futures = [self._executor.submit(self._fetch_chunk, chunk, deadline, fingerprint) for chunk in chunks]
        done, pending = wait(futures, timeout=max(deadline - self._clock(), 0.0), return_when=FIRST_EXCEPTION)
        failed = next((future for future in done if future.exception() is not None), None)
        if failed is not None or pending:
            for future in pending:
                future.cancel()
            if failed is not None:
                raise _as_unavailable(failed)
            raise CatalogUnavailableError("DynamoDB lookup out of time: a response did not arrive before the deadline")
        found: dict[str, Stored | Precomputed] = {}
        for future in futures:
            found.update(future.result())
        return found

    def _fetch_chunk(
        self, keys: Sequence[str], deadline: float, fingerprint: str | None
    ) -> dict[str, Item | Precomputed]:
        request: list[Mapping[str, Any]] = [{self.key: {"S": item_id}} for item_id in keys]
        found: dict[str, Item | Precomputed] = {}
        attempt = 0
        while request:
            if self._clock() >= deadline:
                raise CatalogUnavailableError("DynamoDB lookup out of time before every key was read")
            with self._lock:
                self.calls += 1
            send = partial(self._client.batch_get_item, RequestItems={self.table: {"Keys": request}})
            response = self._attempt(send, attempt, deadline)
            if response is None:
                attempt += 1
                continue
            for raw in response.get("Responses", {}).get(self.table, ()):
                values = _stored_values(raw, fingerprint) if fingerprint is not None else None
                if values is not None:
                    found[raw[self.key]["S"]] = values
                    continue
                item = self._decode(raw)
                found[item[self.key]] = item
            request = response.get("UnprocessedKeys", {}).get(self.table, {}).get("Keys", [])
            if request:
                self._pause(attempt, deadline, "unprocessed keys")
                attempt += 1
        return found

    def _attempt(self, send: Callable[[], Any], attempt: int, deadline: float) -> Any | None:
        """One request's response; None after a retryable failure (paused by the backoff first); any other failure,
        or no time left to retry, makes the catalog unavailable."""
        try:
            return send()
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "")
            if code not in RETRYABLE_CODES:
                raise CatalogUnavailableError(f"DynamoDB table {self.table}: {code or 'error'}") from None
            self._pause(attempt, deadline, code)
        except BotoCoreError as error:
            self._pause(attempt, deadline, type(error).__name__)
        return None

    def _pause(self, attempt: int, deadline: float, why: str) -> None:
        if not self._backoff.pause(attempt, deadline):
            raise CatalogUnavailableError(f"DynamoDB lookup out of time after {attempt + 1} attempts ({why})")

    def _decode(self, raw: Mapping[str, Any]) -> dict[str, Any]:
        deserialize = self._deserialize
        return {name: plain(deserialize(value)) for name, value in raw.items() if name not in RESERVED_ATTRIBUTES}

    def sample_ids(self, count: int) -> list[str]:
        """The first ids of a Scan: DynamoDB scans in the order of its key hashes, so they are spread over the ids."""
        ids: list[str] = []
        request: dict[str, Any] = {
            "TableName": self.table,
            "ProjectionExpression": "#k",
            "ExpressionAttributeNames": {"#k": self.key},
        }
        deadline = self._clock() + DEFAULT_BUDGET_SECONDS
        attempt = 0
        while len(ids) < count:
            send = partial(self._client.scan, **request, Limit=min(count - len(ids), MAX_SCAN_PAGE))
            response = self._attempt(send, attempt, deadline)
            if response is None:
                attempt += 1
                continue
            ids += [raw[self.key]["S"] for raw in response.get("Items", ()) if "S" in raw.get(self.key, {})]
            if "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        return ids[:count]

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)


def _stored_values(raw: Mapping[str, Any], fingerprint: str) -> Precomputed | None:
    """The values stored on a raw item for `fingerprint`, or None (another configuration's, none, or unreadable)."""
    if raw.get(FINGERPRINT_ATTRIBUTE, {}).get("S") != fingerprint:
        return None
    return decode_values(raw.get(VALUES_ATTRIBUTE, {}).get("S"))


def _can_be_key(item_id: str) -> bool:
    return len(item_id) > 0 and encodable(item_id) and len(item_id.encode()) <= MAX_KEY_BYTES


def _as_unavailable(future: Future[Any]) -> CatalogUnavailableError:
    error = future.exception()
    if isinstance(error, CatalogUnavailableError):
        return error
    return CatalogUnavailableError(f"DynamoDB lookup failed: {type(error).__name__}")


# The writer.


def new_load_version() -> str:
    return f"{datetime.now(UTC):%Y%m%dT%H%M%SZ}-{secrets.token_hex(3)}"


def to_dynamodb_value(value: Any) -> Any:
    """JSON-like values as boto3's serializer wants them: floats become the Decimal of their shortest repr."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float):
        return _NUMBER_CONTEXT.create_decimal(repr(value) if isinstance(value, float) else value)
    if isinstance(value, dict):
        return {key: to_dynamodb_value(inner) for key, inner in value.items()}
    if isinstance(value, list):
        return [to_dynamodb_value(inner) for inner in value]
    raise ValueError(f"a {type(value).__name__} cannot be stored")


class _IdsOnDisk:
    """A set of item ids on disk, so neither duplicate detection nor the purge costs memory per item."""

    def __init__(self) -> None:
        import sqlite3  # the loader's alone: kept off the transformer's cold start

        self._file = tempfile.NamedTemporaryFile(prefix="pinrec-load-", suffix=".db")  # noqa: SIM115
        self._db = sqlite3.connect(self._file.name, isolation_level=None)
        self._db.execute("PRAGMA journal_mode = OFF")
        self._db.execute("PRAGMA synchronous = OFF")
        self._db.execute("CREATE TABLE seen (id TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID")
        self._db.execute("BEGIN")

    def add(self, item_id: str) -> bool:
        """Record `item_id`; False when it was already there."""
        return self._db.execute("INSERT INTO seen VALUES (?) ON CONFLICT DO NOTHING", (item_id,)).rowcount == 1

    def __len__(self) -> int:
        return int(self._db.execute("SELECT count(*) FROM seen").fetchone()[0])

    def __iter__(self) -> Iterator[str]:
        return (row[0] for row in self._db.execute("SELECT id FROM seen"))

    def close(self) -> None:
        self._db.close()
        self._file.close()


class DynamoDbLoader:
    def __init__(
        self,
        client: Any,
        table: str,
        key: str,
        *,
        concurrency: int = 8,
        sleep: Callable[[float], None] = time.sleep,
        attributes: LoadProjection | None = None,
    ) -> None:
        self._client = client
        self.table = table
        self.key = key
        self._attributes = attributes
        self._concurrency = concurrency
        self._serialize = TypeSerializer().serialize
        self._deserialize = TypeDeserializer().deserialize
        self._sleep = sleep
        self._lock = threading.Lock()
        self.write_calls = 0

    def check_table(self) -> None:
        try:
            description = self._client.describe_table(TableName=self.table)["Table"]
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "error")
            if code == "ResourceNotFoundException":
                raise CatalogLoadError(f"DynamoDB table {self.table} does not exist") from None
            raise CatalogLoadError(f"DynamoDB table {self.table}: {code}") from None
        schema = {element["KeyType"]: element["AttributeName"] for element in description["KeySchema"]}
        types = {item["AttributeName"]: item["AttributeType"] for item in description["AttributeDefinitions"]}
        if schema.get("HASH") != self.key or "RANGE" in schema or types.get(self.key) != "S":
            raise CatalogLoadError(
                f"DynamoDB table {self.table} must have exactly one key, the string partition key {self.key!r} "
                f"(it has {', '.join(f'{kind}={name}' for kind, name in schema.items())})"
            )

    def count_items(self) -> int:
        total = 0
        with self._aws_errors("counting items failed; nothing was changed"):
            for page in self._client.get_paginator("scan").paginate(TableName=self.table, Select="COUNT"):
                total += page["Count"]
        return total

    @contextlib.contextmanager
    def _aws_errors(self, consequence: str) -> Iterator[None]:
        try:
            yield
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "error")
            raise CatalogLoadError(f"DynamoDB table {self.table}: {code}: {consequence}") from None
        except BotoCoreError as error:
            raise CatalogLoadError(f"DynamoDB table {self.table}: {error}: {consequence}") from None

    def load(
        self,
        records: Iterable[Record],
        *,
        merge: bool = False,
        allow_empty: bool = False,
        allow_shrink: bool = False,
        on_reject: Reject | None = None,
        progress: Progress | None = None,
        on_phase: Callable[[str], None] | None = None,
    ) -> LoadSummary:
        """Write every record stamped with a new load version; then, unless `merge`, purge other versions, unless
        that removes more than MAX_SHRINK_SHARE of the items the table held (`allow_shrink` lifts that)."""
        started = time.monotonic()
        self.check_table()
        summary = LoadSummary()
        before = self.count_items()
        version = new_load_version()
        seen = _IdsOnDisk()
        try:
            self._write_all(self._stamped(records, version, seen, summary, on_reject), summary, progress)
        finally:
            seen.close()
        if summary.loaded == 0 and not (allow_empty or merge):
            raise CatalogLoadError("the source holds no items; refusing to empty the table (see --allow-empty)")
        if merge:
            summary.total = self.count_items()
            summary.added = summary.total - before
        else:
            # an empty source got here only through allow_empty, which empties the table on purpose
            shrink_allowed = allow_shrink or summary.loaded == 0
            summary.purged = self._purge_other_versions(version, before, shrink_allowed, on_phase, summary.loaded)
            summary.total = summary.loaded
            summary.added = summary.loaded - (before - summary.purged)
        summary.replaced = summary.loaded - summary.added
        summary.seconds = time.monotonic() - started
        return summary

    def _stamped(
        self,
        records: Iterable[Record],
        version: str,
        seen: _IdsOnDisk,
        summary: LoadSummary,
        on_reject: Reject | None,
    ) -> Iterator[tuple[str, dict[str, Any]]]:
        for record in records:
            try:
                item = self._item(record, version)
            except InvalidRecord as problem:
                if on_reject is None:
                    raise
                on_reject(problem)
                continue
            summary.records += 1
            if seen.add(record.item_id):
                summary.loaded += 1
            else:
                summary.duplicates += 1
                if len(summary.duplicate_examples) < 10:
                    summary.duplicate_examples.append(record.item_id)
            yield record.item_id, item

    def _item(self, record: Record, version: str) -> dict[str, Any]:
        if len(record.text.encode()) > MAX_ITEM_BYTES:
            raise InvalidRecord(record.line, "the item is larger than DynamoDB's 400 KB item limit")
        if len(record.item_id.encode()) > MAX_KEY_BYTES:
            raise InvalidRecord(record.line, "the id is longer than DynamoDB's 2048-byte key limit")
        reserved = RESERVED_ATTRIBUTES.intersection(record.item)
        if reserved:
            raise InvalidRecord(record.line, f"the field {min(reserved)!r} is reserved for pinrec")
        if "" in record.item:
            raise InvalidRecord(record.line, "a field name is empty, which DynamoDB cannot store")
        if nesting_depth(record.item) > MAX_NESTING_LEVELS:
            raise InvalidRecord(record.line, f"nested more than DynamoDB's {MAX_NESTING_LEVELS} levels")
        try:
            values = {name: to_dynamodb_value(value) for name, value in record.item.items()}
            item = {name: self._serialize(value) for name, value in values.items()}
        except (ArithmeticError, TypeError, ValueError) as error:
            reason = "a number has more than 38 significant digits" if isinstance(error, ArithmeticError) else error
            raise InvalidRecord(record.line, f"cannot be stored in DynamoDB ({reason})") from None
        item[LOAD_VERSION_ATTRIBUTE] = {"S": version}
        if self._attributes is not None:
            # Computed from the item as the reader will decode it (numbers come back through Decimal), so the
            # stored values are the ones rendering its document gives.
            stored = self._attributes.values_text(
                {
                    name: plain(self._deserialize(value))
                    for name, value in item.items()
                    if name not in RESERVED_ATTRIBUTES
                }
            )
            # Values that would take the item past DynamoDB's limit are left out: the reader renders that item.
            if len(record.text.encode()) + len(stored) + VALUES_OVERHEAD_BYTES <= MAX_ITEM_BYTES:
                item[VALUES_ATTRIBUTE] = {"S": stored}
                item[FINGERPRINT_ATTRIBUTE] = {"S": self._attributes.fingerprint}
        return item

    def _write_all(
        self, items: Iterator[tuple[str, dict[str, Any]]], summary: LoadSummary, progress: Progress | None
    ) -> None:
        """Write in batches of 25, several in flight; an id repeated within a batch keeps its last record."""
        self._run_batches(self._put_batches(items), summary, progress)

    def _put_batches(self, items: Iterator[tuple[str, dict[str, Any]]]) -> Iterator[list[dict[str, Any]]]:
        pending: dict[str, dict[str, Any]] = {}
        for item_id, item in items:
            pending.pop(item_id, None)
            pending[item_id] = item
            if len(pending) == MAX_ITEMS_PER_BATCH_WRITE:
                yield [{"PutRequest": {"Item": value}} for value in pending.values()]
                pending = {}
        if pending:
            yield [{"PutRequest": {"Item": value}} for value in pending.values()]

    def _run_batches(
        self, batches: Iterator[list[dict[str, Any]]], summary: LoadSummary | None, progress: Progress | None
    ) -> int:
        """Send write batches with at most `concurrency` in flight; the first failure stops the load."""
        in_flight: set[Future[int]] = set()
        written = 0
        slots = threading.BoundedSemaphore(self._concurrency * 2)
        with ThreadPoolExecutor(max_workers=self._concurrency, thread_name_prefix="pinrec-load") as executor:
            try:
                for batch in batches:
                    slots.acquire()
                    future = executor.submit(self._write_batch, batch)
                    future.add_done_callback(lambda _: slots.release())
                    in_flight.add(future)
                    for done in [future for future in in_flight if future.done()]:
                        in_flight.discard(done)
                        written += done.result()
                    if progress is not None and summary is not None:
                        progress(summary.records)
                for future in in_flight:
                    written += future.result()
            except BaseException:
                for future in in_flight:
                    future.cancel()
                raise
        if progress is not None and summary is not None:
            progress(summary.records)
        return written

    def _write_batch(self, requests: list[dict[str, Any]]) -> int:
        remaining = requests
        for attempt in range(WRITE_ATTEMPTS):
            try:
                with self._lock:
                    self.write_calls += 1
                response = self._client.batch_write_item(RequestItems={self.table: remaining})
            except ClientError as error:
                code = error.response.get("Error", {}).get("Code", "error")
                if code not in RETRYABLE_CODES:
                    message = error.response.get("Error", {}).get("Message", "")
                    raise CatalogLoadError(f"DynamoDB table {self.table} refused a write: {code} {message}") from None
            except BotoCoreError:
                pass
            else:
                remaining = response.get("UnprocessedItems", {}).get(self.table, [])
                if not remaining:
                    return len(requests)
            self._sleep(full_jitter(attempt, base=BACKOFF_BASE_SECONDS, cap=BACKOFF_CAP_SECONDS))
        raise CatalogLoadError(
            f"DynamoDB table {self.table} kept throttling writes after {WRITE_ATTEMPTS} attempts; "
            "nothing was purged and the previous items still serve"
        )

    def _purge_other_versions(
        self,
        version: str,
        before: int,
        allow_shrink: bool,
        on_phase: Callable[[str], None] | None,
        loaded: int,
    ) -> int:
        """Delete every item not stamped with `version`, once their number passed `check_shrink` against the
        `before` items the table held; returns how many."""
        stale = _IdsOnDisk()
        try:
            with self._aws_errors("nothing was purged; every loaded item is in place"):
                self._collect_stale(version, stale)
            check_shrink(before, len(stale), allow_shrink=allow_shrink)
            if on_phase is not None:
                on_phase(f"all {loaded:,} items written; deleting {len(stale):,} items of older loads")
            with self._aws_errors(
                "the purge stopped partway; every loaded item is in place, and the next load "
                "purges what remains of older loads"
            ):
                return self._run_batches(self._delete_batches(stale), None, None)
        finally:
            stale.close()

    def _collect_stale(self, version: str, stale: _IdsOnDisk) -> None:
        pages = self._client.get_paginator("scan").paginate(
            TableName=self.table,
            ProjectionExpression="#k, #v",
            ExpressionAttributeNames={"#k": self.key, "#v": LOAD_VERSION_ATTRIBUTE},
        )
        for page in pages:
            for item in page["Items"]:
                if item.get(LOAD_VERSION_ATTRIBUTE, {}).get("S") != version:
                    stale.add(item[self.key]["S"])

    def _delete_batches(self, stale: _IdsOnDisk) -> Iterator[list[dict[str, Any]]]:
        batch: list[dict[str, Any]] = []
        for item_id in stale:
            batch.append({"DeleteRequest": {"Key": {self.key: {"S": item_id}}}})
            if len(batch) == MAX_ITEMS_PER_BATCH_WRITE:
                yield batch
                batch = []
        if batch:
            yield batch


def loader_client(aws: AwsOptions | None = None, concurrency: int = 8) -> Any:
    """The client of the loader and the stats: scans rely on the SDK's retries; writes also retry their
    unprocessed items themselves."""
    tuning = ClientTuning(attempts=5, connect_timeout=5.0, read_timeout=30.0, max_pool_connections=concurrency + 2)
    return make_client("dynamodb", aws, tuning)


# Stats.


def dynamodb_stats(client: Any, table: str, *, exact: bool) -> CatalogStats:
    """DescribeTable's figures (its item count lags ~6 h); with `exact`, a scan counting items per load version."""
    try:
        description = client.describe_table(TableName=table)["Table"]
        versions: Counter[str] = Counter()
        if exact:
            pages = client.get_paginator("scan").paginate(
                TableName=table,
                ProjectionExpression="#v",
                ExpressionAttributeNames={"#v": LOAD_VERSION_ATTRIBUTE},
            )
            for page in pages:
                versions.update(item.get(LOAD_VERSION_ATTRIBUTE, {}).get("S", "(none)") for item in page["Items"])
    except ClientError as error:
        raise CatalogLoadError(
            f"DynamoDB table {table}: {error.response.get('Error', {}).get('Code', 'error')}"
        ) from None
    except BotoCoreError as error:
        raise CatalogLoadError(f"DynamoDB table {table}: {error}") from None
    key_schema = [(element["AttributeName"], element["KeyType"]) for element in description["KeySchema"]]
    figures: dict[str, Any] = {"kind": "dynamodb", "location": table}
    lines = [f"table      {table}"]
    if exact:
        figures.update(items=sum(versions.values()), items_exact=True, load_versions=dict(sorted(versions.items())))
        lines.append(f"items      {sum(versions.values()):,}")
        lines += [f"  load {version}: {count:,}" for version, count in sorted(versions.items())]
    else:
        figures.update(items=description.get("ItemCount", 0), items_exact=False)
        lines.append(
            f"items      ~{description.get('ItemCount', 0):,} (DynamoDB's estimate; --count for an exact scan)"
        )
    figures.update(
        size_bytes=description.get("TableSizeBytes", 0),
        key=[{"attribute": name, "type": kind} for name, kind in key_schema],
        status=description.get("TableStatus"),
    )
    lines += [
        f"size       ~{description.get('TableSizeBytes', 0):,} bytes",
        f"key        {', '.join(f'{name} ({kind})' for name, kind in key_schema)}",
        f"status     {description.get('TableStatus', '?')}",
    ]
    return CatalogStats(figures, lines)
