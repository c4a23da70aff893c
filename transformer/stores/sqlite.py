"""Embedded catalog: a read-only SQLite file holding one JSON document per item."""

from __future__ import annotations

import json
import os
import sqlite3
from collections.abc import Collection
from pathlib import Path

from transformer.errors import CatalogUnavailableError, ConfigError
from transformer.stores.base import Item
from transformer.stores.sqlite_schema import MAX_PARAMETERS_PER_QUERY, SCHEMA_VERSION


def open_catalog_readonly(path: Path) -> sqlite3.Connection:
    """Open a catalog file read-only; raise ConfigError when it is missing or not a pinrec catalog."""
    if not path.is_file():
        raise ConfigError(f"store.path: catalog file {path} does not exist (create it with 'pinrec catalog load')")
    # immutable=1: a catalog file never changes in place (loads swap in a new file), so skip locking.
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    try:
        row = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
    except sqlite3.DatabaseError:
        connection.close()
        raise ConfigError(f"store.path: {path} is not a pinrec SQLite catalog") from None
    if row is None or row[0] != SCHEMA_VERSION:
        connection.close()
        found = row[0] if row else "none"
        raise ConfigError(f"store.path: {path} has catalog schema {found}, expected {SCHEMA_VERSION}")
    return connection


class SqliteItemStore:
    """Reads items from a catalog file, reopening it when a load has swapped a new file into place."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = Path(path)
        self._connection = open_catalog_readonly(self._path)
        self._identity = self._file_identity()

    def _file_identity(self) -> tuple[int, int]:
        stat = os.stat(self._path)
        return stat.st_ino, stat.st_mtime_ns

    def _current_connection(self) -> sqlite3.Connection:
        try:
            identity = self._file_identity()
        except OSError:
            return self._connection  # keep serving the file we hold open
        if identity != self._identity:
            fresh = open_catalog_readonly(self._path)
            self._connection.close()
            self._connection, self._identity = fresh, identity
        return self._connection

    def get_many(self, ids: Collection[str], *, deadline: float | None = None) -> dict[str, Item]:
        ordered = list(ids)
        found: dict[str, Item] = {}
        try:
            connection = self._current_connection()
            for start in range(0, len(ordered), MAX_PARAMETERS_PER_QUERY):
                chunk = ordered[start : start + MAX_PARAMETERS_PER_QUERY]
                placeholders = ",".join("?" * len(chunk))
                rows = connection.execute(f"SELECT id, doc FROM items WHERE id IN ({placeholders})", chunk)  # noqa: S608
                for item_id, document in rows:
                    found[item_id] = json.loads(document)
        except (sqlite3.Error, ConfigError) as error:
            raise CatalogUnavailableError(f"SQLite catalog {self._path} failed: {error}") from None
        return found

    def close(self) -> None:
        self._connection.close()
