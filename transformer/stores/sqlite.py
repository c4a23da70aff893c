"""The SQLite catalog: one read-only file holding one JSON document per item.

- `[store] kind = "sqlite"`: `SqliteStoreConfig`; a `path` of `s3://BUCKET/KEY` is the same catalog held in S3,
  whose reader, writer and stats live in `transformer.stores.s3_sqlite` (imported only for such a path).
- Reader: `SqliteItemStore`, which reopens the file when a load has swapped a new one into place.
- Writer: `write_snapshot`, which builds the new catalog beside the old one and renames it over the old one only
  once complete, so readers see the old catalog or the new one, never a mix.
- Stats: `sqlite_stats`.
- Precomputed attribute values (`transformer.precompute`): a load given the `[attributes.*]` tables also fills the
  `attribute_values` table (one JSON array per item) and records their fingerprint in `meta`; readers that predate
  it ignore the extra table, and the reader serves it only for a configuration with the same fingerprint.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import sqlite3
import time
from collections.abc import Collection, Iterable, Iterator
from datetime import UTC, datetime
from itertools import islice
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, field_validator

from transformer import files
from transformer.aws import AwsOptions
from transformer.errors import CatalogUnavailableError, ConfigError
from transformer.items import encodable
from transformer.precompute import LoadProjection, decode_many
from transformer.stores.base import (
    CatalogLoadError,
    CatalogStats,
    DamagedDocument,
    ItemStore,
    LoadOptions,
    LoadSummary,
    Precomputed,
    Progress,
    Record,
    StoreConfig,
    Stored,
    check_shrink,
    decode_document,
)

# The on-disk layout, shared by the writer and the reader.
SCHEMA_VERSION = "1"
CREATE_STATEMENTS = (
    "CREATE TABLE items (id TEXT PRIMARY KEY NOT NULL, doc TEXT NOT NULL) WITHOUT ROWID",
    "CREATE TABLE meta (key TEXT PRIMARY KEY NOT NULL, value TEXT NOT NULL) WITHOUT ROWID",
)
VALUES_TABLE = "CREATE TABLE attribute_values (id TEXT PRIMARY KEY NOT NULL, vals TEXT NOT NULL) WITHOUT ROWID"
"""Created only by a load given the attribute tables; the `attributes_fingerprint` meta row says for which."""
FINGERPRINT_META = "attributes_fingerprint"
TABLES = {"items": ["id", "doc"], "meta": ["key", "value"]}
PAGE_PRAGMAS = ("page_count", "page_size")
"""Each table's columns, as CREATE_STATEMENTS makes them (the reader's schema check)."""
MAX_PARAMETERS_PER_QUERY = 900
"""SQLite builds before 3.32 cap bound parameters at 999."""
BATCH_SIZE = 5_000
"""Records inserted per executemany while building a snapshot."""


class SqliteStoreConfig(StoreConfig):
    kind: Literal["sqlite"]
    path: str = Field(
        min_length=1,
        description="SQLite catalog file, or s3://bucket/key; relative paths are relative to the config",
    )
    key: str = Field(default="id", min_length=1, description="item field holding the item id")
    refresh_seconds: float = Field(
        default=60, gt=0, description="for an s3:// path: how often a container checks S3 for a newer catalog"
    )

    @field_validator("path")
    @classmethod
    def _s3_path_names_an_object(cls, value: str) -> str:
        if files.is_s3_url(value):
            try:
                _, key = files.split_s3_url(value)
            except files.SourceError:
                key = ""
            if not key or key.endswith("/"):
                raise ValueError("an S3 catalog path must be s3://BUCKET/KEY naming one object")
        elif "://" in value:
            raise ValueError("path must be a local file or s3://BUCKET/KEY")
        return value

    @classmethod
    def from_location(cls, location: str, key: str) -> Self:
        return cls(kind="sqlite", path=location, key=key)

    @property
    def location(self) -> str:
        return self.path

    @property
    def in_s3(self) -> bool:
        return files.is_s3_url(self.path)

    def resolved(self, base_dir: Path) -> Self:
        if self.in_s3 or Path(self.path).is_absolute():
            return self
        return self.model_copy(update={"path": str(Path(base_dir) / self.path)})

    def bundled_file(self) -> str | None:
        return None if self.in_s3 else self.path

    def open_store(self, aws: AwsOptions | None = None) -> ItemStore:
        if self.in_s3:
            from transformer.stores.s3_sqlite import S3SqliteItemStore

            return S3SqliteItemStore(self.path, refresh_seconds=self.refresh_seconds, aws=aws)
        return SqliteItemStore(self.path)

    def reading(self, aws: AwsOptions | None = None) -> contextlib.AbstractContextManager[ItemStore]:
        if self.in_s3:
            from transformer.stores.s3_sqlite import reading_copy

            return reading_copy(self.path, aws)
        return super().reading(aws)

    def load(self, records: Iterable[Record], options: LoadOptions) -> LoadSummary:
        if self.in_s3:
            from transformer.stores.s3_sqlite import load_into_object

            return load_into_object(self.path, records, options, key=self.key)
        return write_snapshot(
            records,
            Path(self.path),
            key=self.key,
            source=options.source,
            allow_empty=options.allow_empty,
            allow_shrink=options.allow_shrink,
            merge=options.merge,
            progress=options.progress,
            attributes=LoadProjection(options.attributes) if options.attributes is not None else None,
        )

    def stats(self, aws: AwsOptions | None = None, *, exact: bool = False) -> CatalogStats:
        if self.in_s3:
            from transformer.stores.s3_sqlite import stats_of_object

            return stats_of_object(self.path, aws)
        return sqlite_stats(Path(self.path), self.path)


# The reader.


def open_catalog_readonly(path: Path, name: str | None = None) -> sqlite3.Connection:
    """Open a catalog file read-only; raise ConfigError when it is missing or not a pinrec catalog (naming it
    `name`, default its path)."""
    if not path.is_file():
        raise ConfigError(f"store.path: catalog file {path} does not exist (create it with 'pinrec catalog load')")
    # immutable=1: a catalog file never changes in place (loads swap in a new file), so skip locking.
    connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro&immutable=1", uri=True, check_same_thread=False)
    try:
        _check_schema(connection, name or str(path))
    except BaseException:
        connection.close()
        raise
    return connection


def _check_schema(connection: sqlite3.Connection, path: str) -> None:
    """The pinrec schema check: the schema version, and the columns the reader reads."""
    try:
        row = connection.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()
        columns = {name: [row[1] for row in connection.execute(f"PRAGMA table_info({name})")] for name in TABLES}
    except sqlite3.DatabaseError:
        raise ConfigError(f"store.path: {path} is not a pinrec SQLite catalog") from None
    if row is None or row[0] != SCHEMA_VERSION:
        found = row[0] if row else "none"
        raise ConfigError(f"store.path: {path} has catalog schema {found}, expected {SCHEMA_VERSION}")
    if columns != TABLES:
        raise ConfigError(f"store.path: {path} is not a pinrec SQLite catalog (its tables have other columns)")


MMAP_BYTES = 1 << 31
"""Catalog bytes a reader maps into memory (SQLite caps it at its build's limit): a lookup reads the file's pages
where they are instead of copying each into SQLite's page cache, which halves a cache miss's lookup (bench/RESULTS.md).
Safe because a catalog file never changes in place: loads and refreshes rename a new file over it."""


def _open_for_lookups(path: Path) -> sqlite3.Connection:
    connection = open_catalog_readonly(path)
    connection.execute(f"PRAGMA mmap_size = {MMAP_BYTES}")
    return connection


def _values_fingerprint(connection: sqlite3.Connection) -> str | None:
    """The fingerprint of the attribute values the catalog holds, or None when it holds none."""
    try:
        tables = connection.execute("SELECT name FROM sqlite_master WHERE name = 'attribute_values'").fetchall()
        row = connection.execute("SELECT value FROM meta WHERE key = ?", (FINGERPRINT_META,)).fetchone()
    except sqlite3.DatabaseError:
        return None
    return row[0] if tables and row else None


def verify_catalog(path: Path, name: str | None = None) -> None:
    """Check a catalog file before it replaces a good one: the pinrec schema, then SQLite's `quick_check` of every
    page's structure (a file with zeroed or missing pages fails it). Raises ConfigError naming the first problem and
    the catalog (`name`, default its path)."""
    connection = open_catalog_readonly(path, name)
    try:
        pages, page_size = (connection.execute(f"PRAGMA {pragma}").fetchone()[0] for pragma in PAGE_PRAGMAS)
        problems = [row[0] for row in connection.execute("PRAGMA quick_check(1)")]
    except sqlite3.DatabaseError as error:
        problems = [str(error)]
    finally:
        connection.close()
    if problems == ["ok"] and pages * page_size != path.stat().st_size:
        problems = [f"the file holds {path.stat().st_size:,} bytes, its header {pages:,} pages of {page_size:,}"]
    if problems != ["ok"]:
        found = "; ".join(" ".join(problem.split()) for problem in problems)
        raise ConfigError(f"store.path: {name or path} is a damaged SQLite catalog ({found})")


class SqliteItemStore:
    """Reads items from a catalog file, reopening it when a load has swapped a new file into place."""

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self._path = Path(path)
        self._connection = _open_for_lookups(self._path)
        self._identity = self._file_identity()
        self._fingerprint = _values_fingerprint(self._connection)

    def _file_identity(self) -> tuple[int, int]:
        stat = os.stat(self._path)
        return stat.st_ino, stat.st_mtime_ns

    def _current_connection(self) -> sqlite3.Connection:
        try:
            identity = self._file_identity()
        except OSError:
            return self._connection  # keep serving the file we hold open
        if identity != self._identity:
            fresh = _open_for_lookups(self._path)
            fingerprint = _values_fingerprint(fresh)
            self._connection.close()
            self._connection, self._identity, self._fingerprint = fresh, identity, fingerprint
        return self._connection

    def get_precomputed(
        self, ids: Collection[str], fingerprint: str, *, deadline: float | None = None
    ) -> dict[str, Stored | Precomputed]:
        """The values the load stored when it was given the configuration with `fingerprint`; the documents of
        every other id (and of every id when the catalog was loaded for another configuration or none)."""
        ordered = [item_id for item_id in ids if encodable(item_id)]
        found: dict[str, Stored | Precomputed] = {}
        try:
            connection = self._current_connection()
            if self._fingerprint == fingerprint:
                for start in range(0, len(ordered), MAX_PARAMETERS_PER_QUERY):
                    chunk = ordered[start : start + MAX_PARAMETERS_PER_QUERY]
                    query = f"SELECT id, vals FROM attribute_values WHERE id IN ({','.join('?' * len(chunk))})"  # noqa: S608
                    found.update(decode_many(connection.execute(query, chunk).fetchall()))
        except sqlite3.Error as error:
            raise CatalogUnavailableError(f"SQLite catalog {self._path} failed: {error}") from None
        rest = [item_id for item_id in ordered if item_id not in found] if found else ordered
        if rest:
            found.update(self.get_many(rest, deadline=deadline))
        return found

    def get_many(self, ids: Collection[str], *, deadline: float | None = None) -> dict[str, Stored]:
        ordered = [item_id for item_id in ids if encodable(item_id)]
        found: dict[str, Stored] = {}
        try:
            connection = self._current_connection()
            for start in range(0, len(ordered), MAX_PARAMETERS_PER_QUERY):
                chunk = ordered[start : start + MAX_PARAMETERS_PER_QUERY]
                placeholders = ",".join("?" * len(chunk))
                as_text = f"SELECT id, doc FROM items WHERE id IN ({placeholders})"  # noqa: S608
                try:
                    rows = connection.execute(as_text, chunk).fetchall()
                except sqlite3.OperationalError:
                    # A document that is not UTF-8 fails the whole query as text: read the chunk's documents as
                    # bytes, so that row alone is damaged (the common case keeps the faster text query).
                    as_bytes = f"SELECT id, CAST(doc AS BLOB) FROM items WHERE id IN ({placeholders})"  # noqa: S608
                    rows = connection.execute(as_bytes, chunk).fetchall()
                for item_id, document in rows:
                    found[item_id] = decode_document(document)
        except (sqlite3.Error, ConfigError) as error:
            raise CatalogUnavailableError(f"SQLite catalog {self._path} failed: {error}") from None
        return found

    def sample_ids(self, count: int) -> list[str]:
        """A random sample: SQLite reads every id once to draw it (about a third of a second per million items)."""
        try:
            rows = self._current_connection().execute("SELECT id FROM items ORDER BY random() LIMIT ?", (count,))
            return [row[0] for row in rows]
        except (sqlite3.Error, ConfigError) as error:
            raise CatalogUnavailableError(f"SQLite catalog {self._path} failed: {error}") from None

    def close(self) -> None:
        self._connection.close()


# The writer.


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
    allow_shrink: bool = False,
    merge: bool = False,
    progress: Progress | None = None,
    attributes: LoadProjection | None = None,
) -> LoadSummary:
    """Replace the catalog at `path` with exactly the items in `records` (later duplicates win); with `merge`,
    keep the previous catalog's other items too (an upsert, nothing purged). A snapshot removing more than
    MAX_SHRINK_SHARE of the previous catalog's items is refused unless `allow_shrink`. With `attributes`, every
    item's values for them are stored too (`transformer.precompute`).

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
            _build(connection, records, summary, progress, attributes)
            if summary.loaded == 0 and not (allow_empty or merge):
                raise CatalogLoadError("the source holds no items; refusing to replace the catalog with an empty one")
            if previous is not None:
                _compare_with_previous(connection, previous, summary, merge=merge)
                if not merge:  # an empty source got here only through allow_empty, which empties on purpose
                    shrink_allowed = allow_shrink or summary.loaded == 0
                    check_shrink(summary.replaced + summary.purged, summary.purged, allow_shrink=shrink_allowed)
            else:
                summary.added = summary.loaded
            if attributes is not None and merge:
                _project_the_rest(connection, attributes)
            summary.total = connection.execute("SELECT count(*) FROM items").fetchone()[0]
            _write_meta(connection, key=key, source=source, items=summary.total, attributes=attributes)
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
    connection: sqlite3.Connection,
    records: Iterable[Record],
    summary: LoadSummary,
    progress: Progress | None,
    attributes: LoadProjection | None,
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
    if attributes is not None:
        connection.execute(VALUES_TABLE)
    iterator = iter(records)
    connection.execute("BEGIN")
    while batch := list(islice(iterator, BATCH_SIZE)):
        connection.executemany(insert, [(record.item_id, record.text) for record in batch])
        if attributes is not None:
            connection.executemany(_INSERT_VALUES, _values_of(batch, attributes))
        summary.records += len(batch)
        if progress is not None:
            progress(summary.records)
    connection.execute("COMMIT")
    summary.loaded = connection.execute("SELECT count(*) FROM items").fetchone()[0]
    summary.duplicates = connection.execute("SELECT count(*) FROM duplicate_ids").fetchone()[0]
    summary.duplicate_examples = [
        row[0] for row in connection.execute("SELECT DISTINCT id FROM duplicate_ids LIMIT 10")
    ]


def _values_of(records: Iterable[Record], attributes: LoadProjection) -> Iterator[tuple[str, str]]:
    """Each record's values, computed from its document as the reader decodes it (so they are the ones rendering
    that document gives, whatever the source's parser made of it)."""
    for record in records:
        item = decode_document(record.text)
        if not isinstance(item, DamagedDocument):
            yield record.item_id, attributes.values_text(item)


_INSERT_VALUES = (
    "INSERT INTO attribute_values (id, vals) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET vals = excluded.vals"
)


def _project_the_rest(connection: sqlite3.Connection, attributes: LoadProjection) -> None:
    """A merge keeps the previous catalog's other items: compute their values too, a batch at a time (a damaged
    document gets none, so the reader reports it damaged as before)."""
    connection.execute(
        "CREATE TEMP TABLE kept_ids AS SELECT id FROM items WHERE id NOT IN (SELECT id FROM attribute_values)"
    )
    connection.execute("BEGIN")
    rows = connection.execute("SELECT id, CAST(doc AS BLOB) FROM temp.kept_ids JOIN items USING (id)")
    while batch := rows.fetchmany(BATCH_SIZE):
        values = []
        for item_id, document in batch:
            item = decode_document(document)
            if not isinstance(item, DamagedDocument):
                values.append((item_id, attributes.values_text(item)))
        connection.executemany(_INSERT_VALUES, values)
    connection.execute("COMMIT")
    connection.execute("DROP TABLE temp.kept_ids")


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


def _write_meta(
    connection: sqlite3.Connection, *, key: str, source: str, items: int, attributes: LoadProjection | None
) -> None:
    rows = {
        "schema_version": SCHEMA_VERSION,
        "key_field": key,
        "source": source,
        "items": str(items),
        "loaded_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }
    if attributes is not None:
        rows[FINGERPRINT_META] = attributes.fingerprint
    connection.execute("BEGIN")
    connection.executemany("INSERT INTO meta (key, value) VALUES (?, ?)", rows.items())
    connection.execute("COMMIT")
    connection.execute("PRAGMA journal_mode = DELETE")


# Stats.


def sqlite_stats(path: Path, location: str) -> CatalogStats:
    """Items, size and the load's meta of the catalog file at `path` (`location`: how to name it)."""
    connection = open_catalog_readonly(path)
    try:
        meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
        count = connection.execute("SELECT count(*) FROM items").fetchone()[0]
    except sqlite3.Error as error:
        raise CatalogLoadError(f"cannot read catalog {location}: {error}") from None
    finally:
        connection.close()
    size = path.stat().st_size
    figures = {
        "kind": "sqlite",
        "location": location,
        "items": count,
        "size_bytes": size,
        "key_field": meta.get("key_field"),
        "source": meta.get("source"),
        "loaded_at": meta.get("loaded_at"),
    }
    lines = [
        f"catalog    {location}",
        f"items      {count:,}",
        f"size       {size:,} bytes",
        f"key field  {meta.get('key_field', '?')}",
        f"source     {meta.get('source', '?')}",
        f"loaded at  {meta.get('loaded_at', '?')}",
    ]
    return CatalogStats(figures, lines)
