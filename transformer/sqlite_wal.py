"""Opening a SQLite file that several connections share in WAL mode (the send ledger, and the limits and engagement
tables kept beside it), safely when they open it at the same moment.

Switching a new file to WAL, or creating its tables while another connection holds a write transaction, may answer
"database is locked" at once instead of waiting on the busy timeout (SQLite refuses to wait where waiting could
deadlock). The opening is therefore retried, with a short growing pause, until the timeout."""

from __future__ import annotations

import os
import sqlite3
import time
from collections.abc import Sequence

BUSY_TIMEOUT_SECONDS = 30.0


def _busy(error: sqlite3.OperationalError) -> bool:
    text = str(error).lower()
    return "locked" in text or "busy" in text


def connect_wal(
    path: str | os.PathLike[str],
    *,
    synchronous: str = "FULL",
    statements: Sequence[str] = (),
    timeout: float = BUSY_TIMEOUT_SECONDS,
) -> sqlite3.Connection:
    """An autocommit connection (usable from any thread) in WAL mode with `synchronous`, after `statements` (the
    file's `CREATE ... IF NOT EXISTS`) ran; retried while the file is locked, up to `timeout` seconds."""
    deadline = time.monotonic() + timeout
    pause = 0.005
    while True:
        connection = sqlite3.connect(path, isolation_level=None, check_same_thread=False, timeout=timeout)
        try:
            connection.execute("PRAGMA journal_mode=WAL")
            connection.execute(f"PRAGMA synchronous={synchronous}")
            for statement in statements:
                connection.execute(statement)
        except sqlite3.OperationalError as error:
            connection.close()
            if not _busy(error) or time.monotonic() >= deadline:
                raise
            time.sleep(pause)
            pause = min(pause * 2, 0.25)
            continue
        except BaseException:
            connection.close()
            raise
        return connection
