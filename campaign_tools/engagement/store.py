"""What forwarding engagement needs beyond the ledger's events, kept in the ledger's own store (no new table or
file to deploy):

- a *recipient record* per (send id, endpoint): the id the recommender keys the recipient by (the endpoint id or
  `User.UserId`, per the send's id type), the `recommendationId` Personalize returned for the message's items, and
  the items in order. Written at send time (`recording`), read when a click is forwarded. Never logged.
- a *forwarded mark* per forwarded event key (`click:<ledger event id>`, `conversion:<conversion id>`): an event
  forwarded once is never sent again (and `PutEvents` gets the same `eventId`, so Personalize ignores a repeat that a
  crash between sending and marking would cause).

SQLite: two tables in the ledger's file. DynamoDB: items in the ledger's table, no index or schema change: recipient
records in partition `#recipients#<send id>` (sort key the endpoint id: one BatchGetItem per 100), forwarded marks
each in a partition of its own, `#forwarded#<event key>` (sort key `#`: spread evenly, however fast forwarding
goes). A campaign id cannot hold `#`, so no campaign query ever reads them.
"""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from campaign_tools.send.ledgers.base import Ledger, LedgerError
from campaign_tools.send.pacing import Backoff
from transformer.sqlite_wal import connect_wal

RECIPIENTS_PARTITION = "#recipients#"
FORWARDED_PARTITION = "#forwarded#"
FORWARDED_SORT = "#"
BATCH_GET_LIMIT = 100
PUT_CONCURRENCY = 8


@dataclass(frozen=True, slots=True)
class Recipient:
    endpoint_id: str
    user_id: str
    """The id the recommender keys the recipient by: Personalize's `userId`."""
    recommendation_id: str | None = None
    items: tuple[str, ...] = ()


class EngagementStore(Protocol):
    def record_recipients(self, send_id: str, recipients: Sequence[Recipient], now: float) -> None:
        """Keep each recipient's record (a later lookup of the same endpoint replaces it: that one was sent)."""
        ...

    def recipients(self, send_id: str, endpoint_ids: Iterable[str]) -> dict[str, Recipient]:
        """The records of these endpoints that exist."""
        ...

    def recipients_of_send(self, send_id: str) -> list[tuple[Recipient, float]]:
        """Every record of the send, with when it was recorded (the send's lookup: about when it went out)."""
        ...

    def forwarded_among(self, keys: Iterable[str]) -> set[str]:
        """Of these event keys, those already forwarded."""
        ...

    def mark_forwarded(self, keys: Sequence[str], now: float) -> None: ...

    def describe(self) -> str: ...

    def close(self) -> None: ...


RECIPIENTS_SCHEMA = """CREATE TABLE IF NOT EXISTS engagement_recipients (
    send_id TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    recommendation_id TEXT,
    items TEXT NOT NULL,
    recorded_at REAL NOT NULL,
    PRIMARY KEY (send_id, endpoint_id)
) WITHOUT ROWID"""
FORWARDED_SCHEMA = """CREATE TABLE IF NOT EXISTS engagement_forwarded (
    event_key TEXT PRIMARY KEY NOT NULL,
    forwarded_at REAL NOT NULL
) WITHOUT ROWID"""
SQL_CHUNK = 500


class SqliteEngagement:
    """The two tables beside a SQLite ledger's, on a connection of their own (WAL: the send's writes go on)."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.connection = connect_wal(self.path, statements=(RECIPIENTS_SCHEMA, FORWARDED_SCHEMA))
        except sqlite3.Error as error:
            raise LedgerError(f"cannot open the engagement tables of {self.path}: {error}") from None

    def describe(self) -> str:
        return f"sqlite:{self.path}"

    def close(self) -> None:
        self.connection.close()

    def _write(self, sql: str, rows: list[tuple[Any, ...]]) -> None:
        with self._lock:
            try:
                self.connection.execute("BEGIN IMMEDIATE")
                self.connection.executemany(sql, rows)
                self.connection.execute("COMMIT")
            except sqlite3.Error as error:
                if self.connection.in_transaction:
                    self.connection.execute("ROLLBACK")
                raise LedgerError(f"cannot write engagement records to {self.path}: {error}") from None

    def _read(self, sql: str, keys: list[str], prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        found: list[tuple[Any, ...]] = []
        with self._lock:
            try:
                for start in range(0, len(keys), SQL_CHUNK):
                    chunk = keys[start : start + SQL_CHUNK]
                    query = sql.format(marks=", ".join("?" * len(chunk)))
                    found += self.connection.execute(query, (*prefix, *chunk)).fetchall()
            except sqlite3.Error as error:
                raise LedgerError(f"cannot read engagement records of {self.path}: {error}") from None
        return found

    def record_recipients(self, send_id: str, recipients: Sequence[Recipient], now: float) -> None:
        if recipients:
            self._write(
                "INSERT OR REPLACE INTO engagement_recipients VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (send_id, r.endpoint_id, r.user_id, r.recommendation_id, json.dumps(list(r.items)), now)
                    for r in recipients
                ],
            )

    def recipients(self, send_id: str, endpoint_ids: Iterable[str]) -> dict[str, Recipient]:
        rows = self._read(
            "SELECT endpoint_id, user_id, recommendation_id, items FROM engagement_recipients"
            " WHERE send_id = ? AND endpoint_id IN ({marks})",
            sorted(set(endpoint_ids)),
            (send_id,),
        )
        return {row[0]: Recipient(row[0], row[1], row[2], tuple(_items(row[3]))) for row in rows}

    def recipients_of_send(self, send_id: str) -> list[tuple[Recipient, float]]:
        with self._lock:
            try:
                rows = self.connection.execute(
                    "SELECT endpoint_id, user_id, recommendation_id, items, recorded_at FROM engagement_recipients"
                    " WHERE send_id = ?",
                    (send_id,),
                ).fetchall()
            except sqlite3.Error as error:
                raise LedgerError(f"cannot read engagement records of {self.path}: {error}") from None
        return [(Recipient(row[0], row[1], row[2], tuple(_items(row[3]))), float(row[4])) for row in rows]

    def forwarded_among(self, keys: Iterable[str]) -> set[str]:
        rows = self._read("SELECT event_key FROM engagement_forwarded WHERE event_key IN ({marks})", sorted(set(keys)))
        return {row[0] for row in rows}

    def mark_forwarded(self, keys: Sequence[str], now: float) -> None:
        if keys:
            self._write("INSERT OR IGNORE INTO engagement_forwarded VALUES (?, ?)", [(key, now) for key in keys])


def _items(text: object) -> list[str]:
    try:
        value = json.loads(text) if isinstance(text, str) else []
    except ValueError:
        return []
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


class DynamoDbEngagement:
    """Items in a DynamoDB ledger's table (see the module's description of the partitions)."""

    def __init__(
        self,
        table: str,
        client: Any,
        *,
        backoff: Backoff | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.table = table
        self.client = client
        self.backoff = backoff or Backoff()
        self._sleep = sleep

    def describe(self) -> str:
        return f"dynamodb:{self.table}"

    def close(self) -> None:
        return None

    def _call(self, operation: str, **request: Any) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response: dict[str, Any] = getattr(self.client, operation)(**request)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "ClientError")
            raise LedgerError(f"engagement records in dynamodb:{self.table}: {operation} failed: {code}") from None
        except BotoCoreError as error:
            raise LedgerError(f"engagement records in dynamodb:{self.table}: {operation} failed: {error}") from None
        return response

    def _put_all(self, items: list[dict[str, Any]]) -> None:
        """One PutItem per item, PUT_CONCURRENCY at a time: what the send children's and the events function's
        roles already grant on the ledger table (no BatchWriteItem, which could delete)."""
        if len(items) <= 1:
            for item in items:
                self._call("put_item", TableName=self.table, Item=item)
            return
        with ThreadPoolExecutor(max_workers=min(PUT_CONCURRENCY, len(items))) as pool:
            list(pool.map(lambda item: self._call("put_item", TableName=self.table, Item=item), items))

    def _get_all(self, keys: list[dict[str, Any]], projection: str) -> list[dict[str, Any]]:
        from campaign_tools.send.ledgers.dynamodb import batch_get

        return batch_get(
            self._call,
            self.table,
            keys,
            projection,
            backoff=self.backoff,
            sleep=self._sleep,
            what="engagement records in",
        )

    def record_recipients(self, send_id: str, recipients: Sequence[Recipient], now: float) -> None:
        unique = {recipient.endpoint_id: recipient for recipient in recipients}
        items = []
        for recipient in unique.values():
            item: dict[str, Any] = {
                "campaign_id": {"S": RECIPIENTS_PARTITION + send_id},
                "endpoint_id": {"S": recipient.endpoint_id},
                "user_id": {"S": recipient.user_id},
                "recommended_items": {"S": json.dumps(list(recipient.items))},
                "recorded_at": {"N": repr(now)},
            }
            if recipient.recommendation_id:
                item["recommendation_id"] = {"S": recipient.recommendation_id}
            items.append(item)
        self._put_all(items)

    def recipients(self, send_id: str, endpoint_ids: Iterable[str]) -> dict[str, Recipient]:
        keys = [
            {"campaign_id": {"S": RECIPIENTS_PARTITION + send_id}, "endpoint_id": {"S": endpoint_id}}
            for endpoint_id in sorted(set(endpoint_ids))
        ]
        found: dict[str, Recipient] = {}
        for item in self._get_all(keys, "endpoint_id, user_id, recommendation_id, recommended_items") if keys else []:
            endpoint_id = item["endpoint_id"]["S"]
            found[endpoint_id] = Recipient(
                endpoint_id,
                item["user_id"]["S"],
                item.get("recommendation_id", {}).get("S"),
                tuple(_items(item.get("recommended_items", {}).get("S"))),
            )
        return found

    def recipients_of_send(self, send_id: str) -> list[tuple[Recipient, float]]:
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "campaign_id = :partition",
            "ExpressionAttributeValues": {":partition": {"S": RECIPIENTS_PARTITION + send_id}},
        }
        found: list[tuple[Recipient, float]] = []
        while True:
            response = self._call("query", **request)
            for item in response.get("Items", []):
                recipient = Recipient(
                    item["endpoint_id"]["S"],
                    item["user_id"]["S"],
                    item.get("recommendation_id", {}).get("S"),
                    tuple(_items(item.get("recommended_items", {}).get("S"))),
                )
                found.append((recipient, float(item.get("recorded_at", {}).get("N", "0"))))
            if "LastEvaluatedKey" not in response:
                return found
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def forwarded_among(self, keys: Iterable[str]) -> set[str]:
        wanted = [
            {"campaign_id": {"S": FORWARDED_PARTITION + key}, "endpoint_id": {"S": FORWARDED_SORT}}
            for key in sorted(set(keys))
        ]
        items = self._get_all(wanted, "campaign_id") if wanted else []
        return {item["campaign_id"]["S"].removeprefix(FORWARDED_PARTITION) for item in items}

    def mark_forwarded(self, keys: Sequence[str], now: float) -> None:
        items = [
            {
                "campaign_id": {"S": FORWARDED_PARTITION + key},
                "endpoint_id": {"S": FORWARDED_SORT},
                "forwarded_at": {"N": repr(now)},
            }
            for key in dict.fromkeys(keys)
        ]
        self._put_all(items)


def engagement_store(ledger: Ledger) -> EngagementStore | None:
    """The engagement records kept in this ledger's store, or None for a ledger that keeps none (null, dry runs)."""
    from campaign_tools.send.ledgers.dynamodb import DynamoDbLedger
    from campaign_tools.send.ledgers.sqlite import SqliteLedger

    inner = getattr(ledger, "inner", ledger)  # a BoundLedger wraps the ledger it binds
    if isinstance(inner, SqliteLedger):
        return SqliteEngagement(inner.path)
    if isinstance(inner, DynamoDbLedger):
        return DynamoDbEngagement(inner.table, inner.client)
    return None
