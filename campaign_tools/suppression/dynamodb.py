"""The suppression list in DynamoDB (`dynamodb:TABLE`, or the table's ARN): what the unsubscribe and events Lambdas
write and the `--on-aws` send children read.

Table: partition key `recipient` (S) only, on-demand capacity. One item per recipient, keyed `<channel>#<normalised
address>` (a channel holds no `#`), so a send's batch of 50 is one BatchGetItem. Each entry is an attribute of that
item named `entry:<reason>:<topic, or * for the whole channel>` holding `{since (N), source (S)}`; the item also holds
`channel` and `address`. An entry is written with a conditional UpdateItem, only when it is absent or later than the
one given, so the earliest entry per reason (and topic) is kept whoever writes concurrently. When each provider list
was last imported is held in the item `#syncs` (one attribute per source). Nothing here logs an address.

IAM: dynamodb:BatchGetItem and GetItem to read (a send); UpdateItem to add, DeleteItem to remove, Scan to list.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from decimal import Decimal
from typing import Any

from campaign_tools.channels.addresses.registry import normalise
from campaign_tools.suppression.base import (
    Reason,
    Suppression,
    SuppressionError,
    applies,
    complaint_refusal,
    scoped,
    stronger,
)
from transformer.backoff import full_jitter

KEY = "recipient"
ENTRY_PREFIX = "entry:"
ALL_TOPICS = "*"
SYNCS = "#syncs"
"""The item holding when each provider list was last imported (no channel starts with `#`)."""
BATCH_GET_LIMIT = 100
UNPROCESSED_ATTEMPTS = 8
"""BatchGetItem rounds for keys DynamoDB leaves unprocessed (throttling) before the lookup fails."""
CONDITION_FAILED = "ConditionalCheckFailedException"


def recipient_key(channel: str, address: str) -> str:
    return f"{channel}#{address}"


def entry_name(reason: Reason, topic: str | None) -> str:
    return f"{ENTRY_PREFIX}{reason}:{topic or ALL_TOPICS}"


def table_name(target: str) -> str:
    """The table of `dynamodb:TABLE` or of an ARN (arn:aws:dynamodb:REGION:ACCOUNT:table/NAME): DynamoDB takes
    either as TableName."""
    if not target or ("/" in target and not target.startswith("arn:")):
        raise SuppressionError(f"dynamodb:{target}: give a table name or its ARN")
    return target


def _entries_of(item: Mapping[str, Any]) -> Iterator[Suppression]:
    channel = item.get("channel", {}).get("S")
    address = item.get("address", {}).get("S")
    if not channel or address is None:
        return
    for name, value in item.items():
        if not name.startswith(ENTRY_PREFIX) or "M" not in value:
            continue
        reason_text, _, topic = name.removeprefix(ENTRY_PREFIX).partition(":")
        try:
            reason = Reason(reason_text)
        except ValueError:
            continue  # an entry of a later pinrec's reason: not this one's to judge
        fields = value["M"]
        since = float(Decimal(fields.get("since", {}).get("N", "0")))
        source = fields.get("source", {}).get("S", "")
        yield Suppression(channel, address, reason, since, source, None if topic == ALL_TOPICS else topic)


class DynamoDbSuppressionList:
    def __init__(
        self,
        table: str,
        client: Any,
        *,
        read_only: bool = False,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.table = table_name(table)
        self.client = client
        self.read_only = read_only
        self._sleep = sleep

    def describe(self) -> str:
        return f"dynamodb:{self.table}"

    def close(self) -> None:
        return None

    def _call(self, operation: str, **request: Any) -> dict[str, Any]:
        """The operation's response; SuppressionError naming the table and the error code (never an address).
        A failed condition is raised as it is, for the caller to judge."""
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response: dict[str, Any] = getattr(self.client, operation)(**request)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "ClientError")
            if code == CONDITION_FAILED:
                raise
            hint = ""
            if code == "ResourceNotFoundException":
                hint = " (no such table in this account and region: create it with partition key recipient (S))"
            elif code == "ValidationException":
                hint = " (is its key the partition key recipient (S)?)"
            raise SuppressionError(
                f"suppression list dynamodb:{self.table}: {operation} failed: {code}{hint}"
            ) from None
        except BotoCoreError as error:
            raise SuppressionError(f"suppression list dynamodb:{self.table}: {operation} failed: {error}") from None
        return response

    def _writable(self) -> None:
        if self.read_only:
            raise SuppressionError(f"the suppression list dynamodb:{self.table} is open read-only")

    def add(self, entries: Iterable[Suppression]) -> int:
        from botocore.exceptions import ClientError

        self._writable()
        written = 0
        for given in entries:
            entry = scoped(given)
            address = normalise(entry.channel, entry.address)
            try:
                self._call(
                    "update_item",
                    TableName=self.table,
                    Key={KEY: {"S": recipient_key(entry.channel, address)}},
                    UpdateExpression="SET #entry = :entry, #channel = :channel, #address = :address",
                    ConditionExpression="attribute_not_exists(#entry) OR #entry.#since > :since",
                    ExpressionAttributeNames={
                        "#entry": entry_name(entry.reason, entry.topic),
                        "#channel": "channel",
                        "#address": "address",
                        "#since": "since",
                    },
                    ExpressionAttributeValues={
                        ":entry": {"M": {"since": {"N": repr(entry.since)}, "source": {"S": entry.source}}},
                        ":channel": {"S": entry.channel},
                        ":address": {"S": address},
                        ":since": {"N": repr(entry.since)},
                    },
                )
            except ClientError:
                continue  # an entry as early or earlier is held: it stays
            written += 1
        return written

    def remove(self, channel: str, address: str, *, force: bool = False) -> bool:
        from botocore.exceptions import ClientError

        self._writable()
        key = {KEY: {"S": recipient_key(channel, normalise(channel, address))}}
        item = self._call("get_item", TableName=self.table, Key=key, ConsistentRead=True).get("Item")
        if item is None:
            return False
        complaint = entry_name(Reason.COMPLAINT, None)
        if complaint in item and not force:
            raise SuppressionError(complaint_refusal(channel))
        request: dict[str, Any] = {"TableName": self.table, "Key": key}
        if not force:  # a complaint that arrives meanwhile is kept
            request["ConditionExpression"] = "attribute_not_exists(#complaint)"
            request["ExpressionAttributeNames"] = {"#complaint": complaint}
        try:
            self._call("delete_item", **request)
        except ClientError:
            raise SuppressionError(complaint_refusal(channel)) from None
        return True

    def lookup(self, channel: str, addresses: Iterable[str], *, topic: str | None = None) -> Mapping[str, Suppression]:
        wanted: dict[str, list[str]] = {}
        for address in addresses:
            wanted.setdefault(recipient_key(channel, normalise(channel, address)), []).append(address)
        keys = list(wanted)
        found: dict[str, Suppression] = {}
        for start in range(0, len(keys), BATCH_GET_LIMIT):
            for item in self._batch_get(keys[start : start + BATCH_GET_LIMIT]):
                originals = wanted.get(item.get(KEY, {}).get("S", ""), [])
                for entry in _entries_of(item):
                    if not applies(entry, topic):
                        continue
                    for original in originals:
                        if stronger(entry, found.get(original)):
                            found[original] = entry
        return found

    def _batch_get(self, keys: list[str]) -> Iterator[dict[str, Any]]:
        """Every item of `keys` that exists, the keys DynamoDB leaves unprocessed asked again after a backoff."""
        pending: dict[str, Any] = {self.table: {"Keys": [{KEY: {"S": key}} for key in keys], "ConsistentRead": True}}
        for attempt in range(UNPROCESSED_ATTEMPTS):
            if attempt:
                self._sleep(full_jitter(attempt - 1, base=0.05, cap=2.0))
            response = self._call("batch_get_item", RequestItems=pending)
            for items in response.get("Responses", {}).values():
                yield from items
            pending = response.get("UnprocessedKeys") or {}
            if not pending:
                return
        raise SuppressionError(
            f"suppression list dynamodb:{self.table}: BatchGetItem left keys unprocessed {UNPROCESSED_ATTEMPTS} "
            "times (throttled)"
        )

    def entries(self, channel: str | None = None) -> Iterator[Suppression]:
        request: dict[str, Any] = {"TableName": self.table}
        while True:
            response = self._call("scan", **request)
            for item in response.get("Items", []):
                if item.get(KEY, {}).get("S", "").startswith("#"):
                    continue
                for entry in sorted(_entries_of(item), key=lambda e: (e.reason, e.topic or "")):
                    if channel is None or entry.channel == channel:
                        yield entry
            if "LastEvaluatedKey" not in response:
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def sync_times(self) -> Mapping[str, float]:
        item = self._call("get_item", TableName=self.table, Key={KEY: {"S": SYNCS}}, ConsistentRead=True).get("Item")
        return {
            name.removeprefix(ENTRY_PREFIX): float(Decimal(value["N"]))
            for name, value in (item or {}).items()
            if name.startswith(ENTRY_PREFIX) and "N" in value
        }

    def record_sync(self, source: str, at: float) -> None:
        from botocore.exceptions import ClientError

        self._writable()
        try:
            self._call(
                "update_item",
                TableName=self.table,
                Key={KEY: {"S": SYNCS}},
                UpdateExpression="SET #source = :at",
                ConditionExpression="attribute_not_exists(#source) OR #source < :at",
                ExpressionAttributeNames={"#source": f"{ENTRY_PREFIX}{source}"},
                ExpressionAttributeValues={":at": {"N": repr(at)}},
            )
        except ClientError:
            return  # a later sync is recorded already


def open_dynamodb(target: str, clients: Callable[[str], Any], read_only: bool) -> DynamoDbSuppressionList:
    return DynamoDbSuppressionList(target, clients("dynamodb"), read_only=read_only)


def create_suppression_table(client: Any, table: str) -> None:
    """Create the suppression table (on-demand) if absent, and wait until it is active."""
    from botocore.exceptions import ClientError

    try:
        client.create_table(
            TableName=table,
            KeySchema=[{"AttributeName": KEY, "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": KEY, "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceInUseException":
            raise SuppressionError(f"cannot create the suppression table {table}: {error}") from None
    client.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 60})
