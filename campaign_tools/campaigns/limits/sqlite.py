"""Limits in a SQLite file (the ledger's by default): one row per reservation in the `cap_reservations` table, and
each batch of reservations checked and written in one `BEGIN IMMEDIATE` transaction, which takes the file's write
lock first: another process reserving on the same file waits, then sees these rows."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Sequence
from pathlib import Path

from campaign_tools.campaigns.limits.base import Caps, Counts, Refusal, counted, refusal
from campaign_tools.send.ledgers.base import LedgerError
from transformer.sqlite_wal import connect_wal

SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS cap_reservations (
    endpoint_id TEXT NOT NULL,
    unit_id TEXT NOT NULL,
    campaign_id TEXT NOT NULL,
    reserved_at REAL NOT NULL,
    PRIMARY KEY (endpoint_id, unit_id)
) WITHOUT ROWID
""",
)
BUSY_TIMEOUT_SECONDS = 60


class SqliteLimits:
    """Thread-safe (one connection behind a lock); processes share the file through SQLite's locks."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            self._connection = connect_wal(self.path, statements=SCHEMA, timeout=BUSY_TIMEOUT_SECONDS)
        except (sqlite3.Error, OSError) as error:
            raise LedgerError(f"cannot open the limits in {self.path}: {error}") from None
        self._lock = threading.Lock()

    def describe(self) -> str:
        return f"sqlite:{self.path}"

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    def _history(self, endpoint_id: str) -> list[tuple[str, float]]:
        rows = self._connection.execute(
            "SELECT campaign_id, reserved_at FROM cap_reservations WHERE endpoint_id = ?", (endpoint_id,)
        )
        return [(str(campaign), float(at)) for campaign, at in rows]

    def reserve(
        self, unit_id: str, campaign_id: str, endpoint_ids: Sequence[str], caps: Caps, at: float
    ) -> dict[str, Refusal | None]:
        found: dict[str, Refusal | None] = {}
        with self._lock:
            try:
                self._connection.execute("BEGIN IMMEDIATE")
                try:
                    for endpoint_id in endpoint_ids:
                        if endpoint_id in found:
                            continue
                        found[endpoint_id] = self._reserve_one(unit_id, campaign_id, endpoint_id, caps, at)
                    self._connection.execute("COMMIT")
                except BaseException:
                    self._connection.execute("ROLLBACK")
                    raise
            except sqlite3.Error as error:
                raise LedgerError(f"cannot reserve limits in {self.path}: {error}") from None
        return found

    def _reserve_one(self, unit_id: str, campaign_id: str, endpoint_id: str, caps: Caps, at: float) -> Refusal | None:
        held = self._connection.execute(
            "SELECT 1 FROM cap_reservations WHERE endpoint_id = ? AND unit_id = ?", (endpoint_id, unit_id)
        ).fetchone()
        if held is not None:
            return None
        refused = refusal(counted(self._history(endpoint_id), campaign_id, at), caps)
        if refused is None:
            self._connection.execute(
                "INSERT INTO cap_reservations (endpoint_id, unit_id, campaign_id, reserved_at) VALUES (?, ?, ?, ?)",
                (endpoint_id, unit_id, campaign_id, at),
            )
        return refused

    def release(self, unit_id: str, endpoint_ids: Sequence[str]) -> None:
        if not endpoint_ids:
            return
        with self._lock:
            try:
                self._connection.execute("BEGIN IMMEDIATE")
                self._connection.executemany(
                    "DELETE FROM cap_reservations WHERE endpoint_id = ? AND unit_id = ?",
                    [(endpoint_id, unit_id) for endpoint_id in endpoint_ids],
                )
                self._connection.execute("COMMIT")
            except sqlite3.Error as error:
                if self._connection.in_transaction:
                    self._connection.execute("ROLLBACK")
                raise LedgerError(f"cannot release limits in {self.path}: {error}") from None

    def counts(self, campaign_id: str, endpoint_id: str, at: float) -> Counts:
        with self._lock:
            return counted(self._history(endpoint_id), campaign_id, at)
