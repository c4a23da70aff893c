"""The suppression list in a local SQLite file: one row per (channel, address, reason, topic), the earliest kept, and
one row per provider list with when it was last imported.

A file written before topics were part of the key (table `suppressions`) is upgraded in place when opened."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from campaign_tools.channels.addresses.registry import normalise
from campaign_tools.suppression.base import (
    Reason,
    Suppression,
    SuppressionError,
    applies,
    complaint_refusal,
    scoped,
    stronger,
)

__all__ = ["SqliteSuppressionList", "SuppressionError", "open_sqlite"]

SCHEMA = (
    """CREATE TABLE IF NOT EXISTS suppression_entries (
    channel TEXT NOT NULL,
    address TEXT NOT NULL,
    reason TEXT NOT NULL,
    topic TEXT NOT NULL DEFAULT '',
    since REAL NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (channel, address, reason, topic)
) WITHOUT ROWID""",
    """CREATE TABLE IF NOT EXISTS suppression_syncs (
    source TEXT PRIMARY KEY,
    synced_at REAL NOT NULL
) WITHOUT ROWID""",
)
LEGACY_TABLE = "suppressions"
"""The first schema: keyed by (channel, address, reason), topic nullable."""
NO_TOPIC = ""
"""How a channel-wide entry's topic is stored (a key column cannot be NULL)."""
LOOKUP_CHUNK = 500
COLUMNS = "channel, address, reason, topic, since, source"


def _entry(row: tuple[Any, ...]) -> Suppression:
    return Suppression(row[0], row[1], Reason(row[2]), row[4], row[5], row[3] or None)


class SqliteSuppressionList:
    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        self.read_only = read_only
        try:
            if read_only:
                if not self.path.is_file():
                    raise SuppressionError(
                        f"no such suppression list: {self.path} (the first `pinrec suppression add`, `import` or "
                        "`sync` makes it, as do the unsubscribe and events functions)"
                    )
                if self._needs_upgrade():
                    self._connect().close()
                uri = f"{self.path.resolve().as_uri()}?mode=ro"
                self._db = sqlite3.connect(uri, uri=True, check_same_thread=False)
                if not self._has_table("suppression_entries"):
                    self._db.close()
                    raise SuppressionError(f"{self.path} is not a pinrec suppression list")
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._db = self._connect()
        except (sqlite3.Error, OSError) as error:
            raise SuppressionError(f"cannot open the suppression list {self.path}: {error}") from None
        self._lock = threading.Lock()

    def _needs_upgrade(self) -> bool:
        with sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True) as probe:
            names = {row[0] for row in probe.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        return LEGACY_TABLE in names

    def _has_table(self, name: str) -> bool:
        found = self._db.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)).fetchone()
        return found is not None

    def _connect(self) -> sqlite3.Connection:
        """A writable connection to the file, its tables made (and a legacy table upgraded)."""
        self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for statement in SCHEMA:
                self._db.execute(statement)
            if self._has_table(LEGACY_TABLE):
                self._db.execute(
                    f"INSERT OR IGNORE INTO suppression_entries ({COLUMNS})"  # noqa: S608 - constant names
                    f" SELECT channel, address, reason, COALESCE(topic, ''), since, source FROM {LEGACY_TABLE}"
                )
                self._db.execute(f"DROP TABLE {LEGACY_TABLE}")
            self._db.execute("COMMIT")
        except sqlite3.Error:
            self._db.execute("ROLLBACK")
            self._db.close()
            raise
        return self._db

    def describe(self) -> str:
        return f"sqlite:{self.path}"

    def _writable(self) -> None:
        if self.read_only:
            raise SuppressionError(f"the suppression list {self.path} is open read-only")

    def _write(self, statement: str, rows: list[tuple[Any, ...]]) -> int:
        self._writable()
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                before = self._db.total_changes
                self._db.executemany(statement, rows)
                changed = self._db.total_changes - before
                self._db.execute("COMMIT")
            except sqlite3.Error as error:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise SuppressionError(f"cannot write the suppression list {self.path}: {error}") from None
        return changed

    def add(self, entries: Iterable[Suppression]) -> int:
        rows = []
        for given in entries:
            e = scoped(given)
            rows.append(
                (e.channel, normalise(e.channel, e.address), str(e.reason), e.topic or NO_TOPIC, e.since, e.source)
            )
        if not rows:
            return 0
        return self._write(
            f"INSERT INTO suppression_entries ({COLUMNS}) VALUES (?, ?, ?, ?, ?, ?)"  # noqa: S608 - constant names
            " ON CONFLICT (channel, address, reason, topic) DO UPDATE SET since = excluded.since,"
            " source = excluded.source WHERE excluded.since < suppression_entries.since",
            rows,
        )

    def remove(self, channel: str, address: str, *, force: bool = False) -> bool:
        self._writable()
        key = normalise(channel, address)
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                complained = self._db.execute(
                    "SELECT 1 FROM suppression_entries WHERE channel = ? AND address = ? AND reason = ?",
                    (channel, key, str(Reason.COMPLAINT)),
                ).fetchone()
                if complained and not force:
                    self._db.execute("ROLLBACK")
                    raise SuppressionError(complaint_refusal(channel))
                deleted = self._db.execute(
                    "DELETE FROM suppression_entries WHERE channel = ? AND address = ?", (channel, key)
                ).rowcount
                self._db.execute("COMMIT")
            except sqlite3.Error as error:
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise SuppressionError(f"cannot write the suppression list {self.path}: {error}") from None
        return deleted > 0

    def lookup(self, channel: str, addresses: Iterable[str], *, topic: str | None = None) -> Mapping[str, Suppression]:
        wanted: dict[str, list[str]] = {}
        for address in addresses:
            wanted.setdefault(normalise(channel, address), []).append(address)
        keys = list(wanted)
        found: dict[str, Suppression] = {}
        with self._lock:
            try:
                for start in range(0, len(keys), LOOKUP_CHUNK):
                    chunk = keys[start : start + LOOKUP_CHUNK]
                    marks = ",".join("?" * len(chunk))
                    rows = self._db.execute(
                        f"SELECT {COLUMNS} FROM suppression_entries"  # noqa: S608 - placeholders only
                        f" WHERE channel = ? AND address IN ({marks}) AND topic IN ('', ?)",
                        (channel, *chunk, topic or NO_TOPIC),
                    ).fetchall()
                    for row in rows:
                        entry = _entry(row)
                        if not applies(entry, topic):
                            continue
                        for original in wanted[entry.address]:
                            if stronger(entry, found.get(original)):
                                found[original] = entry
            except sqlite3.Error as error:
                raise SuppressionError(f"cannot read the suppression list {self.path}: {error}") from None
        return found

    def entries(self, channel: str | None = None) -> Iterator[Suppression]:
        query = f"SELECT {COLUMNS} FROM suppression_entries"  # noqa: S608 - constant names
        parameters: tuple[str, ...] = ()
        if channel is not None:
            query += " WHERE channel = ?"
            parameters = (channel,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY channel, address, reason, topic", parameters).fetchall()
        for row in rows:
            yield _entry(row)

    def sync_times(self) -> Mapping[str, float]:
        with self._lock:
            try:
                rows = self._db.execute("SELECT source, synced_at FROM suppression_syncs").fetchall()
            except sqlite3.Error as error:
                raise SuppressionError(f"cannot read the suppression list {self.path}: {error}") from None
        return {str(source): float(at) for source, at in rows}

    def record_sync(self, source: str, at: float) -> None:
        self._write(
            "INSERT INTO suppression_syncs (source, synced_at) VALUES (?, ?) ON CONFLICT (source) DO UPDATE"
            " SET synced_at = excluded.synced_at WHERE excluded.synced_at > suppression_syncs.synced_at",
            [(source, at)],
        )

    def close(self) -> None:
        with self._lock:
            self._db.close()


def open_sqlite(target: str, clients: Callable[[str], Any], read_only: bool) -> SqliteSuppressionList:
    return SqliteSuppressionList(target, read_only=read_only)
