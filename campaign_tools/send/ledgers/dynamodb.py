"""The send ledger in DynamoDB: conditional writes make claims and transitions safe across concurrent senders.

Table: partition key `campaign_id` (S), sort key `endpoint_id` (S); on-demand capacity suits bursts of sends.
Each claim is one conditional UpdateItem; `sent` and `failed` only replace a `pending` row. Campaign records live in
their own partition, `#campaigns` (sort key: the campaign id): a campaign id cannot hold `#`, so no campaign's query
ever reads them as endpoints.

Delivery events live in the same table, no index or schema change:
- `mark_sent` also puts a *message item*, partition `#messages`, sort key the provider's message id, naming the
  campaign and endpoint that sent it (`owner_campaign`, `owner_endpoint`): how an event that carries only a message
  id is attributed.
- Each event is one *event item*, partition `#events#<campaign id>`, sort key the event id, put with
  `attribute_not_exists` (a duplicate is the condition failing: nothing changes). It holds the endpoint id, the kind,
  the time it occurred and the provider's particulars, never an address. `events(campaign)` is one Query of that
  partition.
- The message row it belongs to gets an *acceptance marker*: `accepted = true` and `accepted_message_id`, the
  largest message id its events carried (a conditional update, so any arrival order ends the same), never creating
  a row. `accepted_among` is a BatchGetItem of the rows.
- Each campaign has one *latest-event item*, partition `#latest-event`, sort key the campaign id: `occurred_at`, the
  time of the latest event recorded for it. Each `record_events` call raises it, once per campaign of the batch, to
  the latest event of the batch it attributed to that campaign (stored now or already: a replay heals an update a
  dead process never made), with a conditional update that only ever raises it, so any arrival order ends the same.
  It is written after the event items, so it never says more than the stored events do: reconciliation reads it
  (`latest_event_at`, one GetItem) instead of every event of the campaign, and a value that lags can only keep a
  row in doubt, never resend it. A campaign whose events were recorded before this item existed has none: then
  `latest_event_at` reads the events' times (a Query of its events partition, `occurred_at` only).
Attribution first reads, in BatchGetItems, the rows the events' tags name and the message items of the rest.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from decimal import Decimal
from typing import Any

from campaign_tools.events.model import DeliveryEvent
from campaign_tools.send.ledgers.base import (
    CampaignRecord,
    Claim,
    ClaimPolicy,
    LedgerError,
    LedgerKind,
    LedgerRow,
    LedgerSummary,
    MessageEvent,
    RecordedEvents,
    State,
    decide,
)
from campaign_tools.send.pacing import Backoff
from transformer.aws import error_code

BATCH_GET_LIMIT = 100
CONDITION_FAILED = "ConditionalCheckFailedException"
CAMPAIGNS_PARTITION = "#campaigns"
MESSAGES_PARTITION = "#messages"
"""The partition key of the campaign records (`#` is not allowed in a campaign id)."""
EVENTS_PARTITION = "#events#"
"""+ the campaign id: the partition of a campaign's delivery events."""
LATEST_EVENT_PARTITION = "#latest-event"
"""The partition of each campaign's latest-event item (sort key: the campaign id)."""
KEY_SCHEMA = {("campaign_id", "HASH", "S"), ("endpoint_id", "RANGE", "S")}


def batch_get(
    call: Callable[..., dict[str, Any]],
    table: str,
    keys: Sequence[dict[str, Any]],
    projection: str,
    *,
    names: dict[str, str] | None = None,
    backoff: Backoff,
    sleep: Callable[[float], None],
    what: str,
) -> list[dict[str, Any]]:
    """The items of `keys` that exist in `table`: BatchGetItem (consistent) 100 keys a call through `call`, the keys
    DynamoDB leaves unprocessed asked again with backoff; a LedgerError naming `what` when they stay throttled.
    Shared by everything kept in a ledger's table (the ledger, the engagement records, the campaign limits)."""
    items: list[dict[str, Any]] = []
    for start in range(0, len(keys), BATCH_GET_LIMIT):
        read: dict[str, Any] = {
            "Keys": list(keys[start : start + BATCH_GET_LIMIT]),
            "ProjectionExpression": projection,
            "ConsistentRead": True,
        }
        if names:
            read["ExpressionAttributeNames"] = names
        request: dict[str, Any] = {table: read}
        attempt = 0
        while request:
            attempt += 1
            response = call("batch_get_item", RequestItems=request)
            items += response.get("Responses", {}).get(table, [])
            request = response.get("UnprocessedKeys") or {}
            if request:
                if attempt >= backoff.max_attempts:
                    raise LedgerError(f"{what} dynamodb:{table}: reads stayed throttled")
                sleep(backoff.delay(attempt))
    return items


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, Decimal | int | float) else None


class DynamoDbLedger:
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

    def record_events(self, events: Sequence[DeliveryEvent], now: float) -> RecordedEvents:
        from botocore.exceptions import ClientError

        owners = self._owners(events)
        recorded = duplicates = unknown = 0
        latest: dict[str, float] = {}
        for event in events:
            owner = owners.get(event.event_id)
            if owner is None:
                unknown += 1
                continue
            campaign_id, endpoint_id = owner
            latest[campaign_id] = max(float(event.occurred_at), latest.get(campaign_id, float(event.occurred_at)))
            try:
                self._call(
                    "put_item",
                    TableName=self.table,
                    Item=_event_item(event, campaign_id, endpoint_id, now),
                    ConditionExpression="attribute_not_exists(endpoint_id)",
                )
                recorded += 1
            except ClientError:
                duplicates += 1
            self._mark_accepted(campaign_id, endpoint_id, event.message_id)
        for campaign_id, occurred_at in sorted(latest.items()):
            self._raise_latest_event(campaign_id, occurred_at)
        return RecordedEvents(recorded, duplicates, unknown)

    def _raise_latest_event(self, campaign_id: str, occurred_at: float) -> None:
        from botocore.exceptions import ClientError

        try:
            self._call(
                "update_item",
                TableName=self.table,
                Key=self._key(LATEST_EVENT_PARTITION, campaign_id),
                UpdateExpression="SET occurred_at = :at",
                ConditionExpression="attribute_not_exists(occurred_at) OR occurred_at < :at",
                ExpressionAttributeValues={":at": {"N": repr(occurred_at)}},
            )
        except ClientError:
            return  # as late or later already

    def latest_event_at(self, campaign_id: str) -> float | None:
        """When the campaign's latest recorded event occurred: its latest-event item (one GetItem), or for events
        recorded before that item existed, the latest of their times (a Query of the campaign's events)."""
        key = self._key(LATEST_EVENT_PARTITION, campaign_id)
        item = self._call("get_item", TableName=self.table, Key=key, ConsistentRead=True).get("Item")
        found = _number(_value(item.get("occurred_at"))) if item is not None else None
        if found is not None:
            return found
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "campaign_id = :partition",
            "ExpressionAttributeValues": {":partition": {"S": EVENTS_PARTITION + campaign_id}},
            "ProjectionExpression": "occurred_at",
        }
        while True:
            response = self._call("query", **request)
            for stored in response.get("Items", []):
                at = _number(_value(stored.get("occurred_at")))
                if at is not None:
                    found = at if found is None else max(found, at)
            if "LastEvaluatedKey" not in response:
                return found
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def _owners(self, events: Sequence[DeliveryEvent]) -> dict[str, tuple[str, str]]:
        """event id -> (campaign, endpoint): the row its tags name when that row exists, else its message's owner."""
        named = {
            (event.campaign_id, event.endpoint_id)
            for event in events
            if event.campaign_id is not None and event.endpoint_id is not None
        }
        existing = {
            (item["campaign_id"]["S"], item["endpoint_id"]["S"])
            for item in self._batch_get([self._key(c, e) for c, e in sorted(named)], "campaign_id, endpoint_id")
        }
        owners: dict[str, tuple[str, str]] = {}
        by_message: dict[str, list[str]] = {}
        for event in events:
            pair = (event.campaign_id or "", event.endpoint_id or "")
            if pair in existing:
                owners[event.event_id] = pair
            elif event.message_id:
                by_message.setdefault(event.message_id, []).append(event.event_id)
        keys = [self._key(MESSAGES_PARTITION, message_id) for message_id in sorted(by_message)]
        for item in self._batch_get(keys, "endpoint_id, owner_campaign, owner_endpoint"):
            owner = (item["owner_campaign"]["S"], item["owner_endpoint"]["S"])
            for event_id in by_message.get(item["endpoint_id"]["S"], []):
                owners[event_id] = owner
        return owners

    def _mark_accepted(self, campaign_id: str, endpoint_id: str, message_id: str | None) -> None:
        from botocore.exceptions import ClientError

        update, condition = "SET accepted = :true", "attribute_exists(endpoint_id)"
        values: dict[str, Any] = {":true": {"BOOL": True}}
        if message_id:
            update += ", accepted_message_id = :message"
            condition += " AND (attribute_not_exists(accepted_message_id) OR accepted_message_id < :message)"
            values[":message"] = {"S": message_id}
        try:
            self._call(
                "update_item",
                TableName=self.table,
                Key=self._key(campaign_id, endpoint_id),
                UpdateExpression=update,
                ConditionExpression=condition,
                ExpressionAttributeValues=values,
            )
        except ClientError:
            return  # already marked with this message id or a larger one

    def events(self, campaign_id: str) -> Iterator[MessageEvent]:
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "campaign_id = :partition",
            "ExpressionAttributeValues": {":partition": {"S": EVENTS_PARTITION + campaign_id}},
        }
        found: list[MessageEvent] = []
        while True:
            response = self._call("query", **request)
            found += [_message_event(campaign_id, item) for item in response.get("Items", [])]
            if "LastEvaluatedKey" not in response:
                break
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]
        found.sort(key=lambda event: (event.occurred_at, event.event_id))
        yield from found

    def accepted_among(self, campaign_id: str, endpoint_ids: Sequence[str]) -> dict[str, str | None]:
        keys = [self._key(campaign_id, endpoint_id) for endpoint_id in dict.fromkeys(endpoint_ids)]
        return {
            item["endpoint_id"]["S"]: item.get("accepted_message_id", {}).get("S")
            for item in self._batch_get(keys, "endpoint_id, accepted, accepted_message_id")
            if item.get("accepted", {}).get("BOOL")
        }

    def _batch_get(
        self, keys: list[dict[str, Any]], projection: str, names: dict[str, str] | None = None
    ) -> list[dict[str, Any]]:
        return batch_get(
            self._call,
            self.table,
            keys,
            projection,
            names=names,
            backoff=self.backoff,
            sleep=self._sleep,
            what="send ledger",
        )

    def close(self) -> None:
        return None

    def _key(self, campaign_id: str, endpoint_id: str) -> dict[str, Any]:
        return {"campaign_id": {"S": campaign_id}, "endpoint_id": {"S": endpoint_id}}

    def _call(self, operation: str, **request: Any) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            response: dict[str, Any] = getattr(self.client, operation)(**request)
        except ClientError as error:
            code = error.response.get("Error", {}).get("Code", "ClientError")
            if code == CONDITION_FAILED:
                raise
            raise LedgerError(f"send ledger dynamodb:{self.table}: {operation} failed: {code}") from None
        except BotoCoreError as error:
            raise LedgerError(f"send ledger dynamodb:{self.table}: {operation} failed: {error}") from None
        return response

    def campaign_record(self, campaign_id: str) -> CampaignRecord | None:
        key = self._key(CAMPAIGNS_PARTITION, campaign_id)
        item = self._call("get_item", TableName=self.table, Key=key, ConsistentRead=True).get("Item")
        if item is None:
            return None
        return CampaignRecord(
            campaign_id,
            item["binding"]["S"],
            _number(_value(item.get("created_at"))) or 0.0,
            _number(_value(item.get("updated_at"))) or 0.0,
        )

    def bind_campaign(self, campaign_id: str, binding: str, now: float, *, replace: bool = False) -> CampaignRecord:
        from botocore.exceptions import ClientError

        request: dict[str, Any] = {
            "TableName": self.table,
            "Key": self._key(CAMPAIGNS_PARTITION, campaign_id),
            "UpdateExpression": "SET binding = :binding, updated_at = :now,"
            " created_at = if_not_exists(created_at, :now)",
            "ExpressionAttributeValues": {":binding": {"S": binding}, ":now": {"N": repr(now)}},
        }
        if not replace:
            request["ConditionExpression"] = "attribute_not_exists(endpoint_id)"
        with contextlib.suppress(ClientError):  # another run bound the campaign first: its record is in force
            self._call("update_item", **request)
        record = self.campaign_record(campaign_id)
        if record is None:
            raise LedgerError(f"send ledger dynamodb:{self.table}: the campaign record of {campaign_id} vanished")
        return record

    def claim(self, campaign_id: str, endpoint_id: str, now: float, policy: ClaimPolicy) -> Claim:
        from botocore.exceptions import ClientError

        condition = "attribute_not_exists(endpoint_id) OR #state IN (:failed, :skipped)"
        values: dict[str, Any] = {
            ":pending": {"S": State.PENDING},
            ":failed": {"S": State.FAILED},
            ":skipped": {"S": State.SKIPPED},
            ":run": {"S": policy.run_id},
            ":now": {"N": repr(now)},
            ":one": {"N": "1"},
            ":zero": {"N": "0"},
        }
        if policy.reclaim_pending:
            condition += " OR #state = :pending"
        elif policy.reclaim_expired:
            condition += " OR (#state = :pending AND claimed_at <= :cutoff)"
            values[":cutoff"] = {"N": repr(now - policy.lease_seconds)}
        try:
            self._call(
                "update_item",
                TableName=self.table,
                Key=self._key(campaign_id, endpoint_id),
                UpdateExpression="SET #state = :pending, run_id = :run, claimed_at = :now, updated_at = :now,"
                " created_at = if_not_exists(created_at, :now), attempts = if_not_exists(attempts, :zero) + :one"
                " REMOVE reason",
                ConditionExpression=condition,
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues=values,
            )
        except ClientError:
            item = self._call(
                "get_item", TableName=self.table, Key=self._key(campaign_id, endpoint_id), ConsistentRead=True
            ).get("Item")
            if item is None:
                return self.claim(campaign_id, endpoint_id, now, policy)
            outcome = decide(State(item["state"]["S"]), _number(_value(item.get("claimed_at"))), now, policy)
            # Lost a race with a concurrent claim: what is left is to report the row as it is.
            return Claim.IN_PROGRESS if outcome is Claim.CLAIMED else outcome
        return Claim.CLAIMED

    def claim_many(
        self, campaign_id: str, endpoint_ids: Sequence[str], now: float, policy: ClaimPolicy
    ) -> dict[str, Claim]:
        """One conditional UpdateItem per endpoint, as `claim`: a batch write cannot carry a condition, and a
        transaction would fail whole on the one row another run holds."""
        return {endpoint_id: self.claim(campaign_id, endpoint_id, now, policy) for endpoint_id in endpoint_ids}

    def mark_sent_many(self, campaign_id: str, sent: Sequence[tuple[str, str]], now: float) -> None:
        """One message item and one conditional UpdateItem per message, as `mark_sent`."""
        for endpoint_id, message_id in sent:
            self.mark_sent(campaign_id, endpoint_id, message_id, now)

    def _transition(self, campaign_id: str, endpoint_id: str, update: str, values: dict[str, Any]) -> None:
        from botocore.exceptions import ClientError

        try:
            self._call(
                "update_item",
                TableName=self.table,
                Key=self._key(campaign_id, endpoint_id),
                UpdateExpression=update,
                ConditionExpression="#state = :pending",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={":pending": {"S": State.PENDING}, **values},
            )
        except ClientError:
            return  # no longer pending: another run finished it

    def mark_sent(self, campaign_id: str, endpoint_id: str, message_id: str, now: float) -> None:
        if message_id:  # first: an event that names only the message id finds its owner even if the run dies here
            self._call(
                "put_item",
                TableName=self.table,
                Item={
                    **self._key(MESSAGES_PARTITION, message_id),
                    "owner_campaign": {"S": campaign_id},
                    "owner_endpoint": {"S": endpoint_id},
                    "sent_at": {"N": repr(now)},
                },
            )
        self._transition(
            campaign_id,
            endpoint_id,
            "SET #state = :sent, message_id = :message, updated_at = :now REMOVE reason",
            {":sent": {"S": State.SENT}, ":message": {"S": message_id or "-"}, ":now": {"N": repr(now)}},
        )

    def mark_failed(self, campaign_id: str, endpoint_id: str, reason: str, now: float) -> None:
        self._transition(
            campaign_id,
            endpoint_id,
            "SET #state = :failed, reason = :reason, updated_at = :now",
            {":failed": {"S": State.FAILED}, ":reason": {"S": reason}, ":now": {"N": repr(now)}},
        )

    def mark_skipped(self, campaign_id: str, endpoint_id: str, reason: str, now: float) -> None:
        from botocore.exceptions import ClientError

        try:
            self._call(
                "update_item",
                TableName=self.table,
                Key=self._key(campaign_id, endpoint_id),
                UpdateExpression="SET #state = :skipped, reason = :reason, updated_at = :now,"
                " created_at = if_not_exists(created_at, :now)",
                ConditionExpression="attribute_not_exists(endpoint_id) OR #state IN (:failed, :skipped)",
                ExpressionAttributeNames={"#state": "state"},
                ExpressionAttributeValues={
                    ":skipped": {"S": State.SKIPPED},
                    ":failed": {"S": State.FAILED},
                    ":reason": {"S": reason},
                    ":now": {"N": repr(now)},
                },
            )
        except ClientError:
            return  # sent or pending: the skip does not replace it

    def sent_among(self, campaign_id: str, endpoint_ids: list[str]) -> set[str]:
        states = self.states_among(campaign_id, endpoint_ids)
        return {endpoint_id for endpoint_id, state in states.items() if state == State.SENT}

    def states_among(self, campaign_id: str, endpoint_ids: Sequence[str]) -> dict[str, str]:
        """The state of each of these endpoints' rows that exists, read by key (consistent BatchGetItem): never a
        Query of the campaign's whole partition."""
        keys = [self._key(campaign_id, endpoint_id) for endpoint_id in dict.fromkeys(endpoint_ids)]
        found = self._batch_get(keys, "endpoint_id, #state", {"#state": "state"})
        return {item["endpoint_id"]["S"]: item["state"]["S"] for item in found if "state" in item}

    def summary(self, campaign_id: str, now: float, lease_seconds: float) -> LedgerSummary:
        summary = LedgerSummary(campaign_id)
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "campaign_id = :campaign",
            "ExpressionAttributeValues": {":campaign": {"S": campaign_id}},
            "ProjectionExpression": "#state, reason, claimed_at, updated_at",
            "ExpressionAttributeNames": {"#state": "state"},
        }
        while True:
            response = self._call("query", **request)
            for item in response.get("Items", []):
                state = item["state"]["S"]
                claimed_at = _number(_value(item.get("claimed_at")))
                reason = item.get("reason", {}).get("S")
                summary.add(state, reason, claimed_at, _number(_value(item.get("updated_at"))))
                if state == State.PENDING:
                    summary.add_pending(claimed_at, now, lease_seconds)
            if "LastEvaluatedKey" not in response:
                return summary
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    def rows(self, campaign_id: str, state: State) -> Iterator[LedgerRow]:
        request: dict[str, Any] = {
            "TableName": self.table,
            "KeyConditionExpression": "campaign_id = :campaign",
            "FilterExpression": "#state = :state",
            "ExpressionAttributeValues": {":campaign": {"S": campaign_id}, ":state": {"S": str(state)}},
            "ProjectionExpression": "endpoint_id, #state, reason, attempts, updated_at",
            "ExpressionAttributeNames": {"#state": "state"},
        }
        while True:
            response = self._call("query", **request)
            for item in response.get("Items", []):
                attempts = _number(_value(item.get("attempts")))
                yield LedgerRow(
                    item["endpoint_id"]["S"],
                    item["state"]["S"],
                    item.get("reason", {}).get("S"),
                    int(attempts or 0),
                    _number(_value(item.get("updated_at"))),
                )
            if "LastEvaluatedKey" not in response:
                return
            request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def _event_item(event: DeliveryEvent, campaign_id: str, endpoint_id: str, now: float) -> dict[str, Any]:
    item: dict[str, Any] = {
        "campaign_id": {"S": EVENTS_PARTITION + campaign_id},
        "endpoint_id": {"S": event.event_id},
        "event_endpoint": {"S": endpoint_id},
        "channel": {"S": str(event.channel)},
        "kind": {"S": str(event.kind)},
        "occurred_at": {"N": repr(float(event.occurred_at))},
        "recorded_at": {"N": repr(now)},
    }
    for name in ("message_id", "subtype", "detail", "link", "topic"):
        value = getattr(event, name)
        if value:
            item[name] = {"S": value}
    return item


def _message_event(campaign_id: str, item: dict[str, Any]) -> MessageEvent:
    def optional(name: str) -> str | None:
        value = item.get(name, {}).get("S")
        return value if isinstance(value, str) else None

    return MessageEvent(
        campaign_id,
        item["event_endpoint"]["S"],
        item["endpoint_id"]["S"],
        item["channel"]["S"],
        item["kind"]["S"],
        _number(_value(item.get("occurred_at"))) or 0.0,
        optional("message_id"),
        optional("subtype"),
        optional("detail"),
        optional("link"),
        optional("topic"),
    )


def _value(attribute: dict[str, str] | None) -> Decimal | None:
    if attribute is None or "N" not in attribute:
        return None
    return Decimal(attribute["N"])


def create_ledger_table(client: Any, table: str) -> None:
    """Create the ledger table (on-demand) if absent, and wait until it is active."""
    from botocore.exceptions import ClientError

    try:
        client.create_table(
            TableName=table,
            KeySchema=[
                {"AttributeName": "campaign_id", "KeyType": "HASH"},
                {"AttributeName": "endpoint_id", "KeyType": "RANGE"},
            ],
            AttributeDefinitions=[
                {"AttributeName": "campaign_id", "AttributeType": "S"},
                {"AttributeName": "endpoint_id", "AttributeType": "S"},
            ],
            BillingMode="PAY_PER_REQUEST",
        )
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") != "ResourceInUseException":
            raise LedgerError(f"cannot create the ledger table {table}: {error}") from None
    client.get_waiter("table_exists").wait(TableName=table, WaiterConfig={"Delay": 1, "MaxAttempts": 60})


def _open(target: str, clients: Callable[[str], Any], durable: bool) -> DynamoDbLedger:
    return DynamoDbLedger(target, clients("dynamodb"))


def _check(target: str, clients: Callable[[str], Any]) -> list[str]:
    """The table exists, is active and has the ledger's key (DescribeTable)."""
    from botocore.exceptions import BotoCoreError, ClientError

    try:
        table = clients("dynamodb").describe_table(TableName=target)["Table"]
    except ClientError as error:
        code = error_code(error)
        if code == "ResourceNotFoundException":
            return [
                "the table does not exist in this account and region: deploy infra/send-statemachine.yaml (its "
                "LedgerTable) or create a table with partition key campaign_id (S) and sort key endpoint_id (S)"
            ]
        return [f"cannot describe the table (DescribeTable: {code}; the send needs dynamodb:DescribeTable)"]
    except BotoCoreError as error:
        return [f"cannot describe the table: {error}"]
    types = {found["AttributeName"]: found["AttributeType"] for found in table.get("AttributeDefinitions", [])}
    key = {
        (found["AttributeName"], found["KeyType"], types.get(found["AttributeName"])) for found in table["KeySchema"]
    }
    problems = []
    if key != KEY_SCHEMA:
        shown = ", ".join(f"{name} ({kind}, {type_})" for name, kind, type_ in sorted(key, key=lambda k: k[1]))
        problems.append(f"its key is {shown}, not partition key campaign_id (S) and sort key endpoint_id (S)")
    if table.get("TableStatus") not in ("ACTIVE", "UPDATING"):
        problems.append(f"the table is {table.get('TableStatus')}, not ACTIVE")
    return problems


KIND = LedgerKind("dynamodb", "dynamodb:TABLE", _open, check=_check)
