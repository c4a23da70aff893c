"""Building a SQLite catalog as a complete snapshot: written aside, validated, then swapped in atomically."""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
import time
from collections.abc import Iterable
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path

from campaign_tools.catalog.records import CatalogLoadError, Record
from campaign_tools.catalog.summary import LoadSummary, Progress
from transformer.stores.sqlite_schema import CREATE_STATEMENTS, SCHEMA_VERSION

BATCH_SIZE = 5_000


def _previous_catalog(path: Path) -> Path | None:
    if not path.is_file():
        return None
    try:
        with contextlib.closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as connection:
            connection.execute("SELECT count(*) FROM items").fetchone()
    except sqlite3.DatabaseError:
        raise CatalogLoadError(
            f"{path} exists but is not a pinrec catalog; refusing to replace it (move it away first)"
        ) from None
    return path


def _process_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def remove_abandoned_builds(path: Path) -> list[Path]:
    """Delete temporary catalogs left by loads that were killed (their process no longer exists)."""
    removed = []
    for candidate in path.parent.glob(f".{path.name}.loading-*"):
        pid_text = candidate.name.rsplit(".loading-", 1)[1].split("-", 1)[0]
        if pid_text.isdigit() and not _process_alive(int(pid_text)):
            with contextlib.suppress(FileNotFoundError):
                candidate.unlink()
            removed.append(candidate)
    return removed


def _fsync_directory(directory: Path) -> None:
    descriptor = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def write_snapshot(
    records: Iterable[Record],
    path: Path,
    *,
    key: str,
    source: str,
    allow_empty: bool = False,
    merge: bool = False,
    progress: Progress | None = None,
) -> LoadSummary:
    """Replace the catalog at `path` with exactly the items in `records` (later duplicates win); with `merge`,
    keep the previous catalog's other items too (an upsert, nothing purged).

    The new catalog is built in a temporary file beside `path` and renamed over it only once every record
    has been read and written; on any error (or interruption) the previous catalog stays in place untouched.
    """
    started = time.monotonic()
    path.parent.mkdir(parents=True, exist_ok=True)
    previous = _previous_catalog(path)
    remove_abandoned_builds(path)
    temporary = path.with_name(f".{path.name}.loading-{os.getpid()}-{secrets.token_hex(4)}")
    summary = LoadSummary()
    try:
        connection = sqlite3.connect(temporary, isolation_level=None)
        try:
            _build(connection, records, summary, progress)
            if summary.loaded == 0 and not (allow_empty or merge):
                raise CatalogLoadError("the source holds no items; refusing to replace the catalog with an empty one")
            if previous is not None:
                _compare_with_previous(connection, previous, summary, merge=merge)
            else:
                summary.added = summary.loaded
            summary.total = connection.execute("SELECT count(*) FROM items").fetchone()[0]
            _write_meta(connection, key=key, source=source, items=summary.total)
        finally:
            connection.close()
        with open(temporary, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, path)
        _fsync_directory(path.parent)
    finally:
        with contextlib.suppress(FileNotFoundError):
            temporary.unlink()
    summary.seconds = time.monotonic() - started
    return summary


def _build(
    connection: sqlite3.Connection, records: Iterable[Record], summary: LoadSummary, progress: Progress | None
) -> None:
    connection.execute("PRAGMA page_size = 16384")  # ~0.8 KB documents: fewer, fuller B-tree pages load faster
    connection.execute("PRAGMA journal_mode = OFF")
    connection.execute("PRAGMA synchronous = OFF")
    for statement in CREATE_STATEMENTS:
        connection.execute(statement)
    # A conflict on insert is a duplicate id in the source: record it in a side table, last record wins.
    connection.execute("CREATE TEMP TABLE duplicate_ids (id TEXT NOT NULL)")
    connection.execute(
        "CREATE TEMP TRIGGER note_duplicate AFTER UPDATE ON main.items "
        "BEGIN INSERT INTO duplicate_ids VALUES (new.id); END"
    )
    insert = "INSERT INTO items (id, doc) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET doc = excluded.doc"
    iterator = iter(records)
    connection.execute("BEGIN")
    while batch := list(islice(iterator, BATCH_SIZE)):
        connection.executemany(insert, [(record.item_id, record.text) for record in batch])
        summary.records += len(batch)
        if progress is not None:
            progress(summary.records)
    connection.execute("COMMIT")
    summary.loaded = connection.execute("SELECT count(*) FROM items").fetchone()[0]
    summary.duplicates = connection.execute("SELECT count(*) FROM duplicate_ids").fetchone()[0]
    summary.duplicate_examples = [
        row[0] for row in connection.execute("SELECT DISTINCT id FROM duplicate_ids LIMIT 10")
    ]


def _compare_with_previous(
    connection: sqlite3.Connection, previous: Path, summary: LoadSummary, *, merge: bool
) -> None:
    connection.execute("ATTACH DATABASE ? AS previous", (str(previous),))
    try:
        before = connection.execute("SELECT count(*) FROM previous.items").fetchone()[0]
        kept = connection.execute("SELECT count(*) FROM main.items JOIN previous.items USING (id)").fetchone()[0]
        if merge:
            connection.execute(
                "INSERT INTO main.items (id, doc) SELECT id, doc FROM previous.items WHERE true "
                "ON CONFLICT (id) DO NOTHING"
            )
    finally:
        connection.execute("DETACH DATABASE previous")
    summary.replaced = kept
    summary.added = summary.loaded - kept
    summary.purged = 0 if merge else before - kept


def _write_meta(connection: sqlite3.Connection, *, key: str, source: str, items: int) -> None:
    rows = {
        "schema_version": SCHEMA_VERSION,
        "key_field": key,
        "source": source,
        "items": str(items),
        "loaded_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    connection.execute("BEGIN")
    connection.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", rows.items())
    connection.execute("COMMIT")
    connection.execute("PRAGMA journal_mode = DELETE")
