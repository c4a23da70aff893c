"""Loading a catalog into DynamoDB: versioned writes, then a purge of older versions once the source is complete.

Every item this load writes carries `_pinrec_load = <this load's version>`. The transformer ignores that
attribute and reads whatever is in the table, so during a load it serves each item either as it was or as it
now is, and items the new source no longer holds stay readable until the purge. Only after the whole source
was read and written are the items of any other version deleted; a load that fails or is interrupted purges
nothing (its already-written items are valid catalog items, replaced or purged by the next load).
One load per table at a time: a purge deletes every item not stamped with its own version.
"""

from __future__ import annotations

import contextlib
import secrets
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from decimal import Context, Inexact, Rounded
from typing import Any

from campaign_tools.catalog.records import CatalogLoadError, InvalidRecord, Record, Reject
from campaign_tools.catalog.summary import LoadSummary, Progress
from transformer.aws import RETRYABLE_CODES, AwsOptions, ClientTuning, client
from transformer.backoff import full_jitter
from transformer.stores.dynamodb import LOAD_VERSION_ATTRIBUTE, MAX_KEY_BYTES

MAX_ITEMS_PER_BATCH_WRITE = 25
MAX_ITEM_BYTES = 400 * 1024
WRITE_ATTEMPTS = 10
BACKOFF_BASE_SECONDS = 0.05
BACKOFF_CAP_SECONDS = 5.0
# DynamoDB numbers: up to 38 significant digits; anything that would round is refused rather than changed.
_NUMBER_CONTEXT = Context(prec=38, traps=[Inexact, Rounded])


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


class _SeenIds:
    """Ids already written by this load, on disk, so duplicate detection costs no memory per item."""

    def __init__(self) -> None:
        self._file = tempfile.NamedTemporaryFile(prefix="pinrec-load-", suffix=".db")  # noqa: SIM115
        self._db = sqlite3.connect(self._file.name, isolation_level=None)
        self._db.execute("PRAGMA journal_mode = OFF")
        self._db.execute("PRAGMA synchronous = OFF")
        self._db.execute("CREATE TABLE seen (id TEXT PRIMARY KEY NOT NULL) WITHOUT ROWID")
        self._db.execute("BEGIN")

    def add(self, item_id: str) -> bool:
        """Record `item_id`; False when it was already there."""
        return self._db.execute("INSERT INTO seen VALUES (?) ON CONFLICT DO NOTHING", (item_id,)).rowcount == 1

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
    ) -> None:
        from boto3.dynamodb.types import TypeSerializer

        self._client = client
        self.table = table
        self.key = key
        self._concurrency = concurrency
        self._serialize = TypeSerializer().serialize
        self._sleep = sleep
        self._lock = threading.Lock()
        self.write_calls = 0

    def check_table(self) -> None:
        from botocore.exceptions import ClientError

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
        from botocore.exceptions import BotoCoreError, ClientError

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
        on_reject: Reject | None = None,
        progress: Progress | None = None,
        on_phase: Callable[[str], None] | None = None,
    ) -> LoadSummary:
        """Write every record stamped with a new load version; then, unless `merge`, purge other versions."""
        started = time.monotonic()
        self.check_table()
        summary = LoadSummary()
        before = self.count_items()
        version = new_load_version()
        seen = _SeenIds()
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
            if on_phase is not None:
                on_phase(f"all {summary.loaded:,} items written; deleting items of older loads")
            with self._aws_errors(
                "the purge stopped partway; every loaded item is in place, and the next load "
                "purges what remains of older loads"
            ):
                summary.purged = self._purge_other_versions(version)
            summary.total = summary.loaded
            summary.added = summary.loaded - (before - summary.purged)
        summary.replaced = summary.loaded - summary.added
        summary.seconds = time.monotonic() - started
        return summary

    def _stamped(
        self,
        records: Iterable[Record],
        version: str,
        seen: _SeenIds,
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
            raise InvalidRecord(f"line {record.line}: the item is larger than DynamoDB's 400 KB item limit")
        if len(record.item_id.encode()) > MAX_KEY_BYTES:
            raise InvalidRecord(f"line {record.line}: the id is longer than DynamoDB's 2048-byte key limit")
        if LOAD_VERSION_ATTRIBUTE in record.item:
            raise InvalidRecord(f"line {record.line}: the field {LOAD_VERSION_ATTRIBUTE!r} is reserved for pinrec")
        try:
            values = {name: to_dynamodb_value(value) for name, value in record.item.items()}
            item = {name: self._serialize(value) for name, value in values.items()}
        except (ArithmeticError, TypeError, ValueError) as error:
            reason = "a number has more than 38 significant digits" if isinstance(error, ArithmeticError) else error
            raise InvalidRecord(f"line {record.line}: cannot be stored in DynamoDB ({reason})") from None
        item[LOAD_VERSION_ATTRIBUTE] = {"S": version}
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
        from botocore.exceptions import BotoCoreError, ClientError

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

    def _purge_other_versions(self, version: str) -> int:
        """Delete every item not stamped with `version`; returns how many."""
        return self._run_batches(self._stale_key_batches(version), None, None)

    def _stale_key_batches(self, version: str) -> Iterator[list[dict[str, Any]]]:
        pages = self._client.get_paginator("scan").paginate(
            TableName=self.table,
            ProjectionExpression="#k, #v",
            ExpressionAttributeNames={"#k": self.key, "#v": LOAD_VERSION_ATTRIBUTE},
        )
        batch: list[dict[str, Any]] = []
        for page in pages:
            for item in page["Items"]:
                if item.get(LOAD_VERSION_ATTRIBUTE, {}).get("S") == version:
                    continue
                batch.append({"DeleteRequest": {"Key": {self.key: item[self.key]}}})
                if len(batch) == MAX_ITEMS_PER_BATCH_WRITE:
                    yield batch
                    batch = []
        if batch:
            yield batch


def dynamodb_client(region: str | None = None, endpoint_url: str | None = None, concurrency: int = 8) -> Any:
    # Scans rely on the SDK's retries; writes also retry their unprocessed items themselves.
    tuning = ClientTuning(attempts=5, connect_timeout=5.0, read_timeout=30.0, max_pool_connections=concurrency + 2)
    return client("dynamodb", AwsOptions(region=region, endpoint_url=endpoint_url), tuning)
