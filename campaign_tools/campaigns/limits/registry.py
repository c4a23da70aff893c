"""Where a campaign's limits live: beside its send ledger, named by the same `--ledger KIND:TARGET` (a SQLite ledger
file gets a `cap_reservations` table; a DynamoDB ledger table gets `#caps#<endpoint>` items). Adding a store is a
module beside sqlite.py and one line here."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from campaign_tools.campaigns.limits.base import LimitStore
from campaign_tools.campaigns.limits.dynamodb import DynamoDbLimits
from campaign_tools.campaigns.limits.sqlite import SqliteLimits
from campaign_tools.send.ledgers import registry as ledger_registry

KINDS: Mapping[str, Callable[[str, Callable[[str], Any]], LimitStore]] = {
    "sqlite": lambda target, clients: SqliteLimits(target),
    "dynamodb": lambda target, clients: DynamoDbLimits(target, clients("dynamodb")),
}


def open_limits(ledger_spec: str, clients: Callable[[str], Any]) -> LimitStore:
    """The limits kept beside the ledger `ledger_spec` names (PinrecError for an unknown kind)."""
    name, _, target = ledger_registry.check_spec(ledger_spec).partition(":")
    return KINDS[name](target, clients)
