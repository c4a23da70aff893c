"""The send ledger in a local SQLite file (WAL): one row per (campaign, endpoint), one transaction per change; the
campaign records and the delivery events in their own tables."""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from campaign_tools.events.model import DeliveryEvent
from campaign_tools.send.ledgers.base import (
    CampaignRecord,
    Claim,
    ClaimPolicy,
    LedgerError,
    LedgerKind,
    LedgerRow,
    LedgerSummary,
    MessageEvent,
    RecordedEvents,
    State,
    decide,
)
from transformer.sqlite_wal import connect_wal

SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    campaign_id TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sent', 'failed', 'skipped')),
    reason TEXT,
    attempts INTEGER NOT NULL DEFAULT 0,
    message_id TEXT,
    run_id TEXT,
    claimed_at REAL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL,
    PRIMARY KEY (campaign_id, endpoint_id)
) WITHOUT ROWID
"""
CAMPAIGNS_SCHEMA = """
CREATE TABLE IF NOT EXISTS campaigns (
    campaign_id TEXT PRIMARY KEY NOT NULL,
    binding TEXT NOT NULL,
    created_at REAL NOT NULL,
    updated_at REAL NOT NULL
) WITHOUT ROWID
"""
EVENTS_SCHEMA = (
    """
CREATE TABLE IF NOT EXISTS events (
    event_id TEXT PRIMARY KEY NOT NULL,
    campaign_id TEXT NOT NULL,
    endpoint_id TEXT NOT NULL,
    message_id TEXT,
    channel TEXT NOT NULL,
    kind TEXT NOT NULL,
    occurred_at REAL NOT NULL,
    subtype TEXT,
    detail TEXT,
    link TEXT,
    topic TEXT,
    recorded_at REAL NOT NULL
) WITHOUT ROWID
""",
    "CREATE INDEX IF NOT EXISTS events_by_message ON events (campaign_id, endpoint_id)",
    "CREATE INDEX IF NOT EXISTS messages_by_message_id ON messages (message_id) WHERE message_id IS NOT NULL",
)
INSERT_EVENT = (
    "INSERT INTO events (event_id, campaign_id, endpoint_id, message_id, channel, kind, occurred_at, subtype, detail,"
    " link, topic, recorded_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (event_id) DO NOTHING"
)
CLAIM = (
    "INSERT INTO messages (campaign_id, endpoint_id, state, attempts, run_id, claimed_at, created_at, updated_at)"
    " VALUES (?, ?, 'pending', 1, ?, ?, ?, ?)"
    " ON CONFLICT (campaign_id, endpoint_id) DO UPDATE SET state = 'pending', reason = NULL,"
    " attempts = attempts + 1, run_id = excluded.run_id, claimed_at = excluded.claimed_at,"
    " updated_at = excluded.updated_at"
)
MARK_SENT = (
    "UPDATE messages SET state = 'sent', reason = NULL, message_id = ?, updated_at = ?"
    " WHERE campaign_id = ? AND endpoint_id = ? AND state = 'pending'"
)
SQLITE_HEADER = b"SQLite format 3\x00"
BIND_UNLESS_BOUND = (
    "INSERT INTO campaigns (campaign_id, binding, created_at, updated_at) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (campaign_id) DO NOTHING"
)
BIND_REPLACING = (
    "INSERT INTO campaigns (campaign_id, binding, created_at, updated_at) VALUES (?, ?, ?, ?)"
    " ON CONFLICT (campaign_id) DO UPDATE SET binding = excluded.binding, updated_at = excluded.updated_at"
)


class SqliteLedger:
    """Thread-safe (one connection behind a lock), WAL. Every committed change survives the process being killed.

    `durable=True` (synchronous=FULL: each commit reaches the disk) is for deliveries that cannot be undone (SES,
    SMS, push): a claim survives a power cut too. Without it (synchronous=NORMAL, for the idempotent outbox) a power
    cut may lose the last changes, and the outbox simply writes those files again."""

    def __init__(self, path: str | os.PathLike[str], *, durable: bool = True, read_only: bool = False) -> None:
        self.path = Path(path)
        if read_only and not self.path.is_file():
            raise LedgerError(f"no such ledger: {self.path}")
        try:
            self._connection = self._open_read_only() if read_only else self._open_for_writing(durable)
        except (sqlite3.Error, OSError) as error:
            raise LedgerError(f"cannot open the send ledger {self.path}: {error}") from None
        self._lock = threading.Lock()

    def _open_for_writing(self, durable: bool) -> sqlite3.Connection:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        return connect_wal(
            self.path,
            synchronous="FULL" if durable else "NORMAL",
            statements=(SCHEMA, CAMPAIGNS_SCHEMA, *EVENTS_SCHEMA),
        )

    def _open_read_only(self) -> sqlite3.Connection:
        # A read-only connection to a WAL database creates its -wal and -shm files and cannot remove them. With no
        # run writing (no -wal file: the last one closed cleanly) the file is read as immutable, creating nothing;
        # during a run it shares the run's -wal and -shm, as any reader does.
        writing = self.path.with_name(f"{self.path.name}-wal").exists()
        uri = f"{self.path.resolve().as_uri()}?mode=ro" + ("" if writing else "&immutable=1")
        return sqlite3.connect(uri, uri=True, isolation_level=None, check_same_thread=False, timeout=30)

    def describe(self) -> str:
        return f"sqlite:{self.path}"

    def close(self) -> None:
        with self._lock:
            self._connection.close()

    @contextmanager
    def _locked(self, doing: str) -> Iterator[sqlite3.Connection]:
        """The connection, behind the lock; any SQLite error becomes a LedgerError saying what was being done."""
        with self._lock:
            try:
                yield self._connection
            except sqlite3.Error as error:
                raise LedgerError(f"cannot {doing} the send ledger {self.path}: {error}") from None

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """One write transaction (BEGIN IMMEDIATE ... COMMIT), rolled back when anything in it fails."""
        with self._locked("write") as connection:
            connection.execute("BEGIN IMMEDIATE")
            try:
                yield connection
                connection.execute("COMMIT")
            except BaseException:
                connection.execute("ROLLBACK")
                raise

    def _write(self, sql: str, parameters: tuple[object, ...]) -> int:
        with self._locked("write") as connection:
            return connection.execute(sql, parameters).rowcount

    def campaign_record(self, campaign_id: str) -> CampaignRecord | None:
        with self._locked("read") as connection:
            row = connection.execute(
                "SELECT binding, created_at, updated_at FROM campaigns WHERE campaign_id = ?", (campaign_id,)
            ).fetchone()
        return CampaignRecord(campaign_id, *row) if row else None

    def bind_campaign(self, campaign_id: str, binding: str, now: float, *, replace: bool = False) -> CampaignRecord:
        with self._transaction() as connection:
            connection.execute(BIND_REPLACING if replace else BIND_UNLESS_BOUND, (campaign_id, binding, now, now))
            row = connection.execute(
                "SELECT binding, created_at, updated_at FROM campaigns WHERE campaign_id = ?", (campaign_id,)
            ).fetchone()
        return CampaignRecord(campaign_id, *row)

    def claim(self, campaign_id: str, endpoint_id: str, now: float, policy: ClaimPolicy) -> Claim:
        return self.claim_many(campaign_id, [endpoint_id], now, policy)[endpoint_id]

    def claim_many(
        self, campaign_id: str, endpoint_ids: Sequence[str], now: float, policy: ClaimPolicy
    ) -> dict[str, Claim]:
        outcomes: dict[str, Claim] = {}
        with self._transaction() as connection:
            for endpoint_id in endpoint_ids:
                row = connection.execute(
                    "SELECT state, claimed_at FROM messages WHERE campaign_id = ? AND endpoint_id = ?",
                    (campaign_id, endpoint_id),
                ).fetchone()
                outcome = decide(State(row[0]) if row else None, row[1] if row else None, now, policy)
                if outcome is Claim.CLAIMED:
                    connection.execute(CLAIM, (campaign_id, endpoint_id, policy.run_id, now, now, now))
                outcomes[endpoint_id] = outcome
        return outcomes

    def mark_sent(self, campaign_id: str, endpoint_id: str, message_id: str, now: float) -> None:
        self.mark_sent_many(campaign_id, [(endpoint_id, message_id)], now)

    def mark_sent_many(self, campaign_id: str, sent: Sequence[tuple[str, str]], now: float) -> None:
        with self._transaction() as connection:
            connection.executemany(
                MARK_SENT, [(message_id, now, campaign_id, endpoint_id) for endpoint_id, message_id in sent]
            )

    def mark_failed(self, campaign_id: str, endpoint_id: str, reason: str, now: float) -> None:
        self._write(
            "UPDATE messages SET state = 'failed', reason = ?, updated_at = ?"
            " WHERE campaign_id = ? AND endpoint_id = ? AND state = 'pending'",
            (reason, now, campaign_id, endpoint_id),
        )

    def mark_skipped(self, campaign_id: str, endpoint_id: str, reason: str, now: float) -> None:
        self._write(
            "INSERT INTO messages (campaign_id, endpoint_id, state, reason, created_at, updated_at)"
            " VALUES (?, ?, 'skipped', ?, ?, ?)"
            " ON CONFLICT (campaign_id, endpoint_id) DO UPDATE SET state = 'skipped', reason = excluded.reason,"
            " updated_at = excluded.updated_at WHERE state IN ('skipped', 'failed')",
            (campaign_id, endpoint_id, reason, now, now),
        )

    def sent_among(self, campaign_id: str, endpoint_ids: list[str]) -> set[str]:
        if not endpoint_ids:
            return set()
        marks = ",".join("?" * len(endpoint_ids))
        with self._locked("read") as connection:
            rows = connection.execute(
                f"SELECT endpoint_id FROM messages WHERE campaign_id = ? AND state = 'sent'"  # noqa: S608
                f" AND endpoint_id IN ({marks})",
                (campaign_id, *endpoint_ids),
            ).fetchall()
        return {row[0] for row in rows}

    def summary(self, campaign_id: str, now: float, lease_seconds: float) -> LedgerSummary:
        summary = LedgerSummary(campaign_id)
        with self._locked("read") as connection:
            rows = connection.execute(
                "SELECT state, reason, claimed_at, updated_at FROM messages WHERE campaign_id = ?", (campaign_id,)
            )
            for state, reason, claimed_at, updated_at in rows:
                summary.add(state, reason, claimed_at, updated_at)
                if state == State.PENDING:
                    summary.add_pending(claimed_at, now, lease_seconds)
        return summary

    def rows(self, campaign_id: str, state: State) -> Iterator[LedgerRow]:
        with self._locked("read") as connection:
            found = connection.execute(
                "SELECT endpoint_id, state, reason, attempts, updated_at FROM messages"
                " WHERE campaign_id = ? AND state = ? ORDER BY endpoint_id",
                (campaign_id, str(state)),
            ).fetchall()
        for endpoint_id, row_state, reason, attempts, updated_at in found:
            yield LedgerRow(endpoint_id, row_state, reason, attempts, updated_at)

    def record_events(self, events: Sequence[DeliveryEvent], now: float) -> RecordedEvents:
        recorded = duplicates = unknown = 0
        with self._transaction() as connection:
            for event in events:
                owner = self._owner(event)
                if owner is None:
                    unknown += 1
                    continue
                inserted = connection.execute(
                    INSERT_EVENT,
                    (
                        event.event_id, *owner, event.message_id, str(event.channel), str(event.kind),
                        event.occurred_at, event.subtype, event.detail, event.link, event.topic, now,
                    ),
                ).rowcount  # fmt: skip
                recorded += inserted
                duplicates += 1 - inserted
        return RecordedEvents(recorded, duplicates, unknown)

    def _owner(self, event: DeliveryEvent) -> tuple[str, str] | None:
        """The (campaign, endpoint) row an event belongs to: named by its tags, else found by its message id."""
        if event.campaign_id is not None and event.endpoint_id is not None:
            found = self._connection.execute(
                "SELECT campaign_id, endpoint_id FROM messages WHERE campaign_id = ? AND endpoint_id = ?",
                (event.campaign_id, event.endpoint_id),
            ).fetchone()
            if found:
                return found[0], found[1]
        if event.message_id is None:
            return None
        found = self._connection.execute(
            "SELECT campaign_id, endpoint_id FROM messages WHERE message_id = ? LIMIT 1", (event.message_id,)
        ).fetchone()
        return (found[0], found[1]) if found else None

    def events(self, campaign_id: str) -> Iterator[MessageEvent]:
        with self._locked("read") as connection:
            found = connection.execute(
                "SELECT campaign_id, endpoint_id, event_id, channel, kind, occurred_at, message_id, subtype,"
                " detail, link, topic FROM events WHERE campaign_id = ? ORDER BY occurred_at, event_id",
                (campaign_id,),
            ).fetchall()
        for row in found:
            yield MessageEvent(*row)

    def latest_event_at(self, campaign_id: str) -> float | None:
        """When the campaign's latest stored event occurred (reconciliation's evidence that events flow)."""
        with self._locked("read") as connection:
            row = connection.execute(
                "SELECT MAX(occurred_at) FROM events WHERE campaign_id = ?", (campaign_id,)
            ).fetchone()
        return float(row[0]) if row and row[0] is not None else None

    def accepted_among(self, campaign_id: str, endpoint_ids: Sequence[str]) -> dict[str, str | None]:
        accepted: dict[str, str | None] = {}
        with self._locked("read") as connection:
            for start in range(0, len(endpoint_ids), 500):
                chunk = list(endpoint_ids[start : start + 500])
                marks = ",".join("?" * len(chunk))
                for endpoint_id, message_id in connection.execute(
                    f"SELECT endpoint_id, MAX(message_id) FROM events WHERE campaign_id = ?"  # noqa: S608
                    f" AND endpoint_id IN ({marks}) GROUP BY endpoint_id",
                    (campaign_id, *chunk),
                ):
                    accepted[endpoint_id] = message_id
        return accepted


def _open(target: str, clients: Callable[[str], Any], durable: bool) -> SqliteLedger:
    return SqliteLedger(target, durable=durable)


def _open_existing(target: str, clients: Callable[[str], Any]) -> SqliteLedger:
    return SqliteLedger(target, read_only=True)


def _check(target: str, clients: Callable[[str], Any]) -> list[str]:
    """The file, when there, is a SQLite database this process may write; otherwise its folder can hold one."""
    path = Path(target)
    if path.exists():
        if not path.is_file():
            return ["is not a file"]
        if not os.access(path, os.R_OK | os.W_OK):
            return ["the file is not writable"]
        with path.open("rb") as handle:
            header = handle.read(len(SQLITE_HEADER))
        if header and header != SQLITE_HEADER:
            return ["the file is not a SQLite database"]
    folder = path.absolute().parent
    while not folder.exists():
        folder = folder.parent
    if not folder.is_dir():
        return [f"cannot create it: {folder} is a file"]
    if not os.access(folder, os.W_OK | os.X_OK):
        return [f"the folder {folder} is not writable (SQLite writes its journal beside the file)"]
    return []


KIND = LedgerKind("sqlite", "sqlite:PATH", _open, open_existing=_open_existing, check=_check)
