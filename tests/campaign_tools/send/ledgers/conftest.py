"""The SQLite and DynamoDB ledgers every test here runs against."""

from tests.ledger_fixtures import ledger  # noqa: F401 - the shared ledger fixture
