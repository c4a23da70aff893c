"""The SQLite conversions store: once per id, read back by time and event type, beside a ledger's own tables."""

from __future__ import annotations

import sqlite3

import pytest

from campaign_tools.conversions.base import Added, ConversionsError
from campaign_tools.conversions.model import Conversion
from campaign_tools.conversions.registry import check_spec, open_conversions
from campaign_tools.conversions.sqlite import SqliteConversions
from campaign_tools.send.ledgers.sqlite import SqliteLedger
from transformer.errors import PinrecError


def conversion(conversion_id: str, at: float, event_type: str = "purchase", value: float | None = 1.0) -> Conversion:
    return Conversion(conversion_id, "e1", None, event_type, at, value)


def test_each_id_is_stored_once_and_the_first_is_kept(tmp_path):
    store = SqliteConversions(tmp_path / "c.db")
    assert store.add([conversion("a", 10), conversion("b", 20)], now=1) == Added(2, 0)
    assert store.add([conversion("a", 99, value=5), conversion("c", 30)], now=2) == Added(1, 1)
    assert [(c.conversion_id, c.occurred_at, c.value) for c in store.between(0, 100)] == [
        ("a", 10, 1.0),
        ("b", 20, 1.0),
        ("c", 30, 1.0),
    ]
    store.close()


def test_between_bounds_are_inclusive_and_event_types_filter(tmp_path):
    store = SqliteConversions(tmp_path / "c.db")
    store.add([conversion("a", 10), conversion("b", 20, "signup"), conversion("c", 30), conversion("d", 31)], now=1)
    assert [c.conversion_id for c in store.between(10, 30)] == ["a", "b", "c"]
    assert [c.conversion_id for c in store.between(0, 100, {"signup"})] == ["b"]
    assert list(store.between(0, 100, set())) == []
    store.close()


def test_it_shares_the_ledgers_file(tmp_path):
    path = tmp_path / "pinrec-send.db"
    SqliteLedger(path).close()
    store = SqliteConversions(path)
    store.add([conversion("a", 10)], now=1)
    store.close()
    tables = {row[0] for row in sqlite3.connect(path).execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"messages", "conversions"} <= tables


def test_read_only_needs_the_file_and_reads_a_ledger_without_conversions(tmp_path):
    with pytest.raises(ConversionsError, match="no conversions store"):
        SqliteConversions(tmp_path / "missing.db", read_only=True)
    SqliteLedger(tmp_path / "ledger.db").close()
    assert list(SqliteConversions(tmp_path / "ledger.db", read_only=True).between(0, 1e12)) == []


def test_registry_names_the_kinds():
    assert check_spec("sqlite:x.db") == "sqlite:x.db"
    for bad in ("x.db", "sqlite:", "redis:x"):
        with pytest.raises(PinrecError, match="--conversions must be sqlite:PATH"):
            check_spec(bad)


def test_registry_opens_sqlite(tmp_path):
    store = open_conversions(f"sqlite:{tmp_path / 'c.db'}", lambda service: None)
    assert store.describe() == f"sqlite:{tmp_path / 'c.db'}"
    store.close()
