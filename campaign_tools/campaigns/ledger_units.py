"""The send units a campaign wrote to a ledger, found by their ids `<campaign>.<slot>.<treatment>.<channel>`
(`campaigns.units.SendUnit.send_id`).

The ledger protocol reads one campaign id at a time, so the units are listed here from the two stores that exist:
a SQLite ledger's campaign records and rows (one range query each: ids sort by their `<campaign>.` prefix), a
DynamoDB ledger's campaign records (one query on the `#campaigns` partition, `begins_with` the prefix). Every unit
a send bound has a record; rows without one (the holdout's, which nothing sends) are found in SQLite by the rows
and, in both, by the convention below.

**The holdout convention** (phase 2's `campaign run` writes it): each holdout recipient of a slot is a `skipped` row
with reason `holdout` under the unit id `<campaign>.<slot>.holdout.<channel>`, the slot being the one the recipient
would have got its message in under the campaign's schedule, and its channel the one that serves its endpoint. The
report reads the holdout of every (slot, channel) some treatment unit of the campaign was bound in, and any holdout
unit that has a record of its own.

TODO(lead, after the throughput work): a `Ledger.campaign_ids(prefix)` method would replace the per-kind queries.
"""

from __future__ import annotations

import re
import sqlite3
from dataclasses import dataclass
from datetime import UTC, datetime

from campaign_tools.campaigns.definition import HOLDOUT
from campaign_tools.send.ledgers.base import Ledger, LedgerError
from campaign_tools.send.ledgers.dynamodb import CAMPAIGNS_PARTITION, DynamoDbLedger
from campaign_tools.send.ledgers.sqlite import SqliteLedger
from transformer.errors import PinrecError

SLOT_FORMAT = "%Y%m%dT%H%M%SZ"
UNIT_REST = re.compile(r"(\d{8}T\d{6}Z)\.([A-Za-z0-9][A-Za-z0-9_-]{0,31})\.([a-z][a-z0-9_]*)")
HOLDOUT_REASON = "holdout"


@dataclass(frozen=True, slots=True, order=True)
class UnitId:
    at: datetime
    group: str
    channel: str

    def send_id(self, campaign_id: str) -> str:
        return f"{campaign_id}.{self.at:{SLOT_FORMAT}}.{self.group}.{self.channel}"


def parse_unit(campaign_id: str, send_id: str) -> UnitId | None:
    """The unit a ledger id names, or None when it is not one of this campaign's."""
    prefix = f"{campaign_id}."
    if not send_id.startswith(prefix):
        return None
    match = UNIT_REST.fullmatch(send_id[len(prefix) :])
    if match is None:
        return None
    try:
        at = datetime.strptime(match.group(1), SLOT_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        return None
    return UnitId(at, match.group(2), match.group(3))


def _sqlite_ids(ledger: SqliteLedger, prefix: str) -> set[str]:
    high = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    found: set[str] = set()
    uri = f"{ledger.path.resolve().as_uri()}?mode=ro"
    try:
        connection = sqlite3.connect(uri, uri=True)
        try:
            for table in ("campaigns", "messages"):
                rows = connection.execute(
                    f"SELECT DISTINCT campaign_id FROM {table} WHERE campaign_id >= ? AND campaign_id < ?",  # noqa: S608
                    (prefix, high),
                )
                found |= {row[0] for row in rows}
        finally:
            connection.close()
    except sqlite3.Error as error:
        raise LedgerError(f"cannot list the units in {ledger.describe()}: {error}") from None
    return found


def _dynamodb_ids(ledger: DynamoDbLedger, prefix: str) -> set[str]:
    from botocore.exceptions import BotoCoreError, ClientError

    request = {
        "TableName": ledger.table,
        "KeyConditionExpression": "campaign_id = :records AND begins_with(endpoint_id, :prefix)",
        "ExpressionAttributeValues": {":records": {"S": CAMPAIGNS_PARTITION}, ":prefix": {"S": prefix}},
        "ProjectionExpression": "endpoint_id",
    }
    found: set[str] = set()
    while True:
        try:
            response = ledger.client.query(**request)
        except (ClientError, BotoCoreError) as error:
            raise LedgerError(f"cannot list the units in {ledger.describe()}: {error}") from None
        found |= {item["endpoint_id"]["S"] for item in response.get("Items", [])}
        if "LastEvaluatedKey" not in response:
            return found
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def campaign_units(ledger: Ledger, campaign_id: str) -> list[UnitId]:
    """The campaign's units in the ledger, with the holdout unit of every (slot, channel) among them, sorted."""
    prefix = f"{campaign_id}."
    if isinstance(ledger, SqliteLedger):
        ids = _sqlite_ids(ledger, prefix)
    elif isinstance(ledger, DynamoDbLedger):
        ids = _dynamodb_ids(ledger, prefix)
    else:
        raise PinrecError(f"the campaign report reads sqlite: and dynamodb: ledgers, not {ledger.describe()}")
    units = {unit for send_id in ids if (unit := parse_unit(campaign_id, send_id)) is not None}
    units |= {UnitId(unit.at, HOLDOUT, unit.channel) for unit in units}
    return sorted(units)
