"""Limits in the DynamoDB ledger table: one item per endpoint under its own partition key, `#caps#<endpoint id>`
(sort key `#caps`; a campaign id cannot hold `#`, so no ledger query reads it), holding

- `recent`: the reservations of the last 24 hours (unit, campaign, time), pruned on every write;
- `totals`: per campaign, its reservations of the endpoint ever; `total`: every campaign's;
- `version`: raised by every write.

A reservation reads the item (strongly consistent), judges it with `base.refusal` and writes it back with
`version = :read` as its condition: of two concurrent writers one fails the condition, reads again and judges
what the other wrote. There is no TTL: `totals` count for ever (Pinpoint's `Total`); the item stays as small as the
messages of one day."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

from campaign_tools.campaigns.limits.base import DAY_SECONDS, Caps, Counts, Refusal, counted, refusal
from campaign_tools.send.ledgers.base import LedgerError, State
from transformer.aws import error_code, is_retryable

PARTITION = "#caps#"
SORT_KEY = "#caps"
CONDITION_FAILED = "ConditionalCheckFailedException"
MAX_ATTEMPTS = 50


class Conflict(Exception):
    """Another writer changed the item since it was read."""


def _number(attribute: dict[str, Any] | None) -> float:
    return float(Decimal(attribute["N"])) if attribute and "N" in attribute else 0.0


class EndpointCaps:
    """One endpoint's item, read and rewritten."""

    def __init__(self, item: dict[str, Any] | None) -> None:
        item = item or {}
        self.version = int(_number(item.get("version")))
        self.recent: list[tuple[str, str, float]] = [
            (entry["M"]["unit"]["S"], entry["M"]["campaign"]["S"], _number(entry["M"]["at"]))
            for entry in item.get("recent", {}).get("L", [])
        ]
        self.totals: dict[str, int] = {
            campaign: int(_number(value)) for campaign, value in item.get("totals", {}).get("M", {}).items()
        }
        self.total = int(_number(item.get("total")))

    def holds(self, unit_id: str) -> bool:
        return any(unit == unit_id for unit, _, _ in self.recent)

    def counts(self, campaign_id: str, at: float) -> Counts:
        recent = counted([(campaign, reserved_at) for _, campaign, reserved_at in self.recent], campaign_id, at)
        return Counts(recent.daily, self.totals.get(campaign_id, 0), recent.project_daily, self.total)

    def add(self, unit_id: str, campaign_id: str, at: float) -> None:
        self.recent.append((unit_id, campaign_id, at))
        self.totals[campaign_id] = self.totals.get(campaign_id, 0) + 1
        self.total += 1

    def remove(self, unit_id: str) -> bool:
        removed = [entry for entry in self.recent if entry[0] == unit_id]
        for _, campaign, _ in removed:
            self.totals[campaign] = max(self.totals.get(campaign, 0) - 1, 0)
            self.total = max(self.total - 1, 0)
        self.recent = [entry for entry in self.recent if entry[0] != unit_id]
        return bool(removed)

    def item(self, key: dict[str, Any]) -> dict[str, Any]:
        """The item to write: `recent` pruned to the day before its newest entry (whatever the caller's clock)."""
        newest = max((at for _, _, at in self.recent), default=0.0)
        kept = [entry for entry in self.recent if entry[2] > newest - DAY_SECONDS]
        return {
            **key,
            "version": {"N": str(self.version + 1)},
            "recent": {
                "L": [
                    {"M": {"unit": {"S": unit}, "campaign": {"S": campaign}, "at": {"N": repr(at)}}}
                    for unit, campaign, at in kept
                ]
            },
            "totals": {"M": {campaign: {"N": str(n)} for campaign, n in sorted(self.totals.items()) if n}},
            "total": {"N": str(self.total)},
        }


class _Attempt:
    """One reservation as a change of the endpoint's item (called again on each fresh read)."""

    def __init__(self, unit_id: str, campaign_id: str, caps: Caps, at: float) -> None:
        self.unit_id, self.campaign_id, self.caps, self.at = unit_id, campaign_id, caps, at
        self.refused: Refusal | None = None

    def __call__(self, current: EndpointCaps) -> bool:
        if current.holds(self.unit_id):
            self.refused = None
            return False
        self.refused = refusal(current.counts(self.campaign_id, self.at), self.caps)
        if self.refused is not None:
            return False
        current.add(self.unit_id, self.campaign_id, self.at)
        return True


class DynamoDbLimits:
    def __init__(self, table: str, client: Any, *, sleep: Callable[[float], None] = time.sleep) -> None:
        self.table = table
        self.client = client
        self._sleep = sleep

    def describe(self) -> str:
        return f"dynamodb:{self.table}"

    def close(self) -> None:
        return None

    @staticmethod
    def _key(endpoint_id: str) -> dict[str, Any]:
        return {"campaign_id": {"S": PARTITION + endpoint_id}, "endpoint_id": {"S": SORT_KEY}}

    def _call(self, operation: str, **parameters: Any) -> dict[str, Any]:
        from botocore.exceptions import BotoCoreError, ClientError

        for attempt in range(1, MAX_ATTEMPTS + 1):
            try:
                request = parameters if "RequestItems" in parameters else {"TableName": self.table, **parameters}
                response: dict[str, Any] = getattr(self.client, operation)(**request)
                return response
            except ClientError as error:
                if error_code(error) == CONDITION_FAILED:
                    raise Conflict from None
                if not is_retryable(error) or attempt == MAX_ATTEMPTS:
                    raise LedgerError(f"limits in {self.table}: {operation}: {error_code(error)}") from None
            except BotoCoreError as error:
                if attempt == MAX_ATTEMPTS:
                    raise LedgerError(f"limits in {self.table}: {operation}: {error}") from None
            self._sleep(min(0.05 * 2**attempt, 2.0))
        raise LedgerError(f"limits in {self.table}: {operation} failed")  # pragma: no cover

    def _read(self, endpoint_id: str) -> EndpointCaps:
        response = self._call("get_item", Key=self._key(endpoint_id), ConsistentRead=True)
        return EndpointCaps(response.get("Item"))

    def _write(self, endpoint_id: str, caps: EndpointCaps) -> None:
        condition = "attribute_not_exists(campaign_id)" if caps.version == 0 else "version = :version"
        parameters: dict[str, Any] = {"Item": caps.item(self._key(endpoint_id)), "ConditionExpression": condition}
        if caps.version:
            parameters["ExpressionAttributeValues"] = {":version": {"N": str(caps.version)}}
        self._call("put_item", **parameters)

    def _update(self, endpoint_id: str, change: Callable[[EndpointCaps], bool]) -> None:
        """Read, change and write the endpoint's item, again from a fresh read when another writer came first."""
        for attempt in range(1, MAX_ATTEMPTS + 1):
            caps = self._read(endpoint_id)
            if not change(caps):
                return
            try:
                self._write(endpoint_id, caps)
                return
            except Conflict:
                self._sleep(min(0.002 * attempt, 0.1))
        raise LedgerError(f"limits in {self.table}: endpoint item changed {MAX_ATTEMPTS} times while reserving")

    def reserve(
        self, unit_id: str, campaign_id: str, endpoint_ids: Sequence[str], caps: Caps, at: float
    ) -> dict[str, Refusal | None]:
        found: dict[str, Refusal | None] = {}
        for endpoint_id in endpoint_ids:
            if endpoint_id not in found:
                attempt = _Attempt(unit_id, campaign_id, caps, at)
                self._update(endpoint_id, attempt)
                found[endpoint_id] = attempt.refused
        return found

    def release(self, unit_id: str, endpoint_ids: Sequence[str]) -> None:
        for endpoint_id in dict.fromkeys(endpoint_ids):
            self._update(endpoint_id, lambda current: current.remove(unit_id))

    def counts(self, campaign_id: str, endpoint_id: str, at: float) -> Counts:
        return self._read(endpoint_id).counts(campaign_id, at)

    def pending_among(self, unit_id: str, endpoint_ids: Sequence[str]) -> set[str]:
        """Of these endpoints, those whose ledger row in the unit is `pending` (their message in doubt): read by key
        through the ledger (`DynamoDbLedger.states_among`), so that a Step Functions child of a large unit reads its
        own rows only, never the unit's (a Query reads every row of the unit's partition)."""
        from campaign_tools.send.ledgers.dynamodb import DynamoDbLedger

        states = DynamoDbLedger(self.table, self.client, sleep=self._sleep).states_among(unit_id, endpoint_ids)
        return {endpoint_id for endpoint_id, state in states.items() if state == State.PENDING}
