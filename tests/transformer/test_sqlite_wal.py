"""Connections opening one fresh SQLite file at the same moment, in WAL mode, each making its tables: none fails
with "database is locked" while another holds the file, and a non-lock error is not retried."""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import pytest

from transformer.sqlite_wal import connect_wal

TABLES = [f"CREATE TABLE IF NOT EXISTS t{n} (k TEXT PRIMARY KEY, v INTEGER)" for n in range(4)]


def _race(path: Path, openers: int = 8, commits: int = 20) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(openers)

    def open_and_write(number: int) -> None:
        try:
            start.wait()
            connection = connect_wal(path, statements=TABLES)
            for value in range(commits):  # others open while this one commits
                connection.execute("BEGIN IMMEDIATE")
                connection.execute("INSERT OR REPLACE INTO t0 (k, v) VALUES (?, ?)", (f"k{number}", value))
                time.sleep(0.001)
                connection.execute("COMMIT")
            assert connection.execute("PRAGMA journal_mode").fetchone() == ("wal",)
            connection.close()
        except BaseException as error:  # reported by the caller
            errors.append(error)

    threads = [threading.Thread(target=open_and_write, args=(n,)) for n in range(openers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_openers_of_a_fresh_file_racing_with_its_writers_all_get_a_wal_connection(tmp_path: Path) -> None:
    """Plain `connect` + `PRAGMA journal_mode=WAL` + `CREATE TABLE` fails this in about one round in five."""
    for round_number in range(10):
        path = tmp_path / f"shared-{round_number}.db"
        assert _race(path) == []
        with sqlite3.connect(path) as check:
            assert check.execute("SELECT COUNT(*) FROM t0").fetchone() == (8,)


def test_an_error_other_than_a_lock_is_raised_at_once(tmp_path: Path) -> None:
    with pytest.raises(sqlite3.OperationalError, match="incomplete input"):
        connect_wal(tmp_path / "x.db", statements=["CREATE TABLE broken ("], timeout=5)
