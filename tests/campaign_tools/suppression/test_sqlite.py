"""What only the SQLite suppression list does (the shared behaviour is in test_contract.py): read-only opens that
create nothing and refuse writes, and a file of the first schema upgraded in place with its entries kept."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from campaign_tools.suppression.base import Reason, Suppression
from campaign_tools.suppression.registry import open_suppression
from campaign_tools.suppression.sqlite import SqliteSuppressionList, SuppressionError
from transformer.errors import PinrecError


def no_clients(service: str) -> object:
    raise AssertionError(service)


def test_the_registry_opens_a_list_and_a_read_only_open_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(PinrecError, match="--suppression must be"):
        open_suppression("postgres:x", no_clients)
    with pytest.raises(SuppressionError, match="no such suppression list"):
        open_suppression(f"sqlite:{tmp_path / 'typo.db'}", no_clients, read_only=True)
    assert not (tmp_path / "typo.db").exists()
    written = open_suppression(f"sqlite:{tmp_path / 's.db'}", no_clients)
    written.add([Suppression("push", "token-1", Reason.MANUAL, 1.0)])
    written.close()
    reader = open_suppression(f"sqlite:{tmp_path / 's.db'}", no_clients, read_only=True)
    assert [entry.address for entry in reader.entries()] == ["token-1"]
    with pytest.raises(SuppressionError, match="read-only"):
        reader.add([Suppression("push", "token-2", Reason.MANUAL, 1.0)])
    reader.close()


def test_a_file_of_the_first_schema_is_upgraded_with_its_entries(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    with sqlite3.connect(path) as db:
        db.execute(
            "CREATE TABLE suppressions (channel TEXT NOT NULL, address TEXT NOT NULL, reason TEXT NOT NULL,"
            " since REAL NOT NULL, source TEXT NOT NULL DEFAULT '', topic TEXT,"
            " PRIMARY KEY (channel, address, reason)) WITHOUT ROWID"
        )
        db.execute(
            "INSERT INTO suppressions VALUES ('email', 'ana@example.com', 'unsubscribe', 5, 'one-click', 'news')"
        )
        db.execute("INSERT INTO suppressions VALUES ('email', 'bo@example.com', 'bounce', 6, 'event', NULL)")
    db.close()
    reader = SqliteSuppressionList(path, read_only=True)
    assert [(e.address, e.reason, e.topic) for e in reader.entries()] == [
        ("ana@example.com", Reason.UNSUBSCRIBE, "news"),
        ("bo@example.com", Reason.BOUNCE, None),
    ]
    reader.close()


def test_a_file_that_is_not_a_suppression_list_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    sqlite3.connect(path).close()
    with pytest.raises(SuppressionError, match="not a pinrec suppression list"):
        SqliteSuppressionList(path, read_only=True)
