"""Conversions in a SQLite file: by default the send ledger's own file (`pinrec-send.db`), in a table of their own
beside the ledger's, so a campaign's rows and its conversions travel together."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Collection, Iterator, Sequence
from pathlib import Path
from typing import Any

from campaign_tools.conversions.base import Added, ConversionsError
from campaign_tools.conversions.model import Conversion

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS conversions (
    conversion_id TEXT PRIMARY KEY,
    endpoint_id TEXT,
    user_id TEXT,
    event_type TEXT NOT NULL,
    occurred_at REAL NOT NULL,
    value REAL,
    recorded_at REAL NOT NULL
) WITHOUT ROWID""",
    "CREATE INDEX IF NOT EXISTS conversions_by_time ON conversions (occurred_at)",
)
COLUMNS = "conversion_id, endpoint_id, user_id, event_type, occurred_at, value"


class SqliteConversions:
    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        try:
            if read_only:
                if not self.path.is_file():
                    raise ConversionsError(f"no conversions store at {self.path}")
                self.connection = sqlite3.connect(f"file:{self.path}?mode=ro", uri=True)
            else:
                self.connection = sqlite3.connect(self.path)
                self.connection.execute("PRAGMA journal_mode=WAL")
                for statement in SCHEMA:
                    self.connection.execute(statement)
                self.connection.commit()
        except sqlite3.Error as error:
            raise ConversionsError(f"cannot open conversions store {self.path}: {error}") from None

    def describe(self) -> str:
        return f"sqlite:{self.path}"

    def close(self) -> None:
        self.connection.close()

    def add(self, conversions: Sequence[Conversion], now: float) -> Added:
        try:
            with self.connection:
                before = self.connection.total_changes
                self.connection.executemany(
                    f"INSERT OR IGNORE INTO conversions ({COLUMNS}, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?)",  # noqa: S608
                    [
                        (c.conversion_id, c.endpoint_id, c.user_id, c.event_type, c.occurred_at, c.value, now)
                        for c in conversions
                    ],
                )
                added = self.connection.total_changes - before
        except sqlite3.Error as error:
            raise ConversionsError(f"cannot write conversions to {self.path}: {error}") from None
        return Added(added, len(conversions) - added)

    def between(self, start: float, end: float, event_types: Collection[str] | None = None) -> Iterator[Conversion]:
        sql = f"SELECT {COLUMNS} FROM conversions WHERE occurred_at >= ? AND occurred_at <= ?"  # noqa: S608
        parameters: list[object] = [start, end]
        if event_types is not None:
            types = sorted(event_types)
            sql += f" AND event_type IN ({', '.join('?' * len(types))})"
            parameters += types
        try:
            rows = self.connection.execute(sql + " ORDER BY occurred_at, conversion_id", parameters)
            for row in rows:
                yield Conversion(*row)
        except sqlite3.OperationalError as error:
            if "no such table" in str(error):
                return  # a ledger file that never held conversions
            raise ConversionsError(f"cannot read conversions from {self.path}: {error}") from None


def open_sqlite(target: str, clients: Callable[[str], Any], read_only: bool) -> SqliteConversions:
    return SqliteConversions(target, read_only=read_only)
