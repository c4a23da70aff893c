"""The send ledger every ledger contract runs against: a SQLite file, or a DynamoDB table on moto's server."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from campaign_tools.send.ledgers.base import Ledger
from campaign_tools.send.ledgers.dynamodb import DynamoDbLedger, create_ledger_table
from campaign_tools.send.ledgers.sqlite import SqliteLedger
from tests.aws_fixtures import dynamodb_client, table_for_test


@pytest.fixture(params=["sqlite", "dynamodb"])
def ledger(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Ledger]:
    """Each test runs once per kind; the DynamoDB table is the test's own (moto is reset per module)."""
    if request.param == "sqlite":
        opened: Ledger = SqliteLedger(tmp_path / "ledger.db")
    else:
        client = dynamodb_client(request.getfixturevalue("moto_module_endpoint"))
        table = table_for_test(request, "ledger")
        create_ledger_table(client, table)
        opened = DynamoDbLedger(table, client)
    yield opened
    opened.close()
