"""The suppression list in a local SQLite file: one row per (channel, address, reason), the earliest kept."""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

from campaign_tools.suppression.base import Reason, Suppression
from campaign_tools.suppression.normalise import normalise
from transformer.errors import PinrecError

SCHEMA = """
CREATE TABLE IF NOT EXISTS suppressions (
    channel TEXT NOT NULL,
    address TEXT NOT NULL,
    reason TEXT NOT NULL,
    since REAL NOT NULL,
    source TEXT NOT NULL DEFAULT '',
    topic TEXT,
    PRIMARY KEY (channel, address, reason)
) WITHOUT ROWID
"""
STRENGTH = (Reason.COMPLAINT, Reason.BOUNCE, Reason.OPT_OUT, Reason.UNSUBSCRIBE, Reason.PROVIDER, Reason.MANUAL)
"""When an address has several entries, the first of these is the one a send reports."""
LOOKUP_CHUNK = 500


class SuppressionError(PinrecError):
    """The suppression list cannot be opened, read or written."""


class SqliteSuppressionList:
    def __init__(self, path: str | Path, *, read_only: bool = False) -> None:
        self.path = Path(path)
        try:
            if read_only:
                if not self.path.is_file():
                    raise SuppressionError(f"no such suppression list: {self.path}")
                self._db = sqlite3.connect(f"{self.path.resolve().as_uri()}?mode=ro", uri=True, check_same_thread=False)
            else:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._db = sqlite3.connect(self.path, isolation_level=None, check_same_thread=False, timeout=30)
                self._db.execute("PRAGMA journal_mode=WAL")
                self._db.execute(SCHEMA)
        except (sqlite3.Error, OSError) as error:
            raise SuppressionError(f"cannot open the suppression list {self.path}: {error}") from None
        self._lock = threading.Lock()

    def describe(self) -> str:
        return f"sqlite:{self.path}"

    def add(self, entries: Iterable[Suppression]) -> int:
        rows = [
            (e.channel, normalise(e.channel, e.address), str(e.reason), e.since, e.source, e.topic) for e in entries
        ]
        with self._lock:
            try:
                self._db.execute("BEGIN IMMEDIATE")
                before = self._db.total_changes
                self._db.executemany(
                    "INSERT INTO suppressions (channel, address, reason, since, source, topic) VALUES (?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (channel, address, reason) DO UPDATE SET since = excluded.since,"
                    " source = excluded.source, topic = excluded.topic WHERE excluded.since < suppressions.since",
                    rows,
                )
                added = self._db.total_changes - before
                self._db.execute("COMMIT")
            except sqlite3.Error as error:
                self._db.execute("ROLLBACK")
                raise SuppressionError(f"cannot write the suppression list {self.path}: {error}") from None
        return added

    def remove(self, channel: str, address: str, *, force: bool = False) -> bool:
        key = normalise(channel, address)
        with self._lock:
            reasons = {
                row[0]
                for row in self._db.execute(
                    "SELECT reason FROM suppressions WHERE channel = ? AND address = ?", (channel, key)
                )
            }
            if Reason.COMPLAINT in reasons and not force:
                raise SuppressionError(
                    f"{channel} address complained: removing it needs --force (mailing a complainer again risks the "
                    "account)"
                )
            deleted = self._db.execute(
                "DELETE FROM suppressions WHERE channel = ? AND address = ?", (channel, key)
            ).rowcount
        return deleted > 0

    def lookup(self, channel: str, addresses: Iterable[str]) -> Mapping[str, Suppression]:
        wanted = {normalise(channel, address): address for address in addresses}
        keys = list(wanted)
        found: dict[str, Suppression] = {}
        with self._lock:
            for start in range(0, len(keys), LOOKUP_CHUNK):
                chunk = keys[start : start + LOOKUP_CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = self._db.execute(
                    "SELECT channel, address, reason, since, source, topic FROM suppressions"  # noqa: S608
                    f" WHERE channel = ? AND address IN ({marks})",
                    (channel, *chunk),
                ).fetchall()
                for row in rows:
                    entry = Suppression(row[0], row[1], Reason(row[2]), row[3], row[4], row[5])
                    original = wanted[entry.address]
                    current = found.get(original)
                    if current is None or STRENGTH.index(entry.reason) < STRENGTH.index(current.reason):
                        found[original] = entry
        return found

    def entries(self, channel: str | None = None) -> Iterator[Suppression]:
        query = "SELECT channel, address, reason, since, source, topic FROM suppressions"
        parameters: tuple[str, ...] = ()
        if channel is not None:
            query += " WHERE channel = ?"
            parameters = (channel,)
        with self._lock:
            rows = self._db.execute(query + " ORDER BY channel, address, reason", parameters).fetchall()
        for row in rows:
            yield Suppression(row[0], row[1], Reason(row[2]), row[3], row[4], row[5])

    def close(self) -> None:
        with self._lock:
            self._db.close()


def open_sqlite(target: str, clients: Callable[[str], Any], read_only: bool) -> SqliteSuppressionList:
    return SqliteSuppressionList(target, read_only=read_only)
