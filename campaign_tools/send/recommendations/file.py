"""`file:PATH`: item ids per id from a JSON Lines file (local, S3, gzip), read once into a temporary index.

A line is either `{"id": "ep-1", "items": ["P1", "P2"]}` or a line of Amazon Personalize batch inference output, as
each recipe type writes it (every line ends with `"error": null` unless it failed):

- USER_PERSONALIZATION and POPULAR_ITEMS: `{"input": {"userId": "u-1"}, "output": {"recommendedItems": [...],
  "scores": [...]}, "error": null}`, keyed by the user id;
- PERSONALIZED_RANKING: the same with `input.itemList`; `output.recommendedItems` is the re-ranked list;
- RELATED_ITEMS (similar items): `{"input": {"itemId": "105"}, "output": {"recommendedItems": [...]}, ...}`, keyed
  by the item id (so it reaches the endpoints whose id, or user id with `--id-type user`, is that item id).

A line whose `error` is set (not null) is counted as an error line and skipped; a line that is not usable (see
json_lines) is counted as malformed with its number. A file with no usable line at all stops the run before
anything is sent.
"""

from __future__ import annotations

import json
import sqlite3
import tempfile
import threading
import weakref
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from campaign_tools.send.json_lines import MalformedLine, read_json_lines
from campaign_tools.send.recommendations.base import (
    IdType,
    Lookup,
    RecommendationError,
    SourceKind,
    SourceOptions,
    check_per_message,
    recommendation_key,
    usable_items,
)
from campaign_tools.send.segments import MALFORMED_EXAMPLES, SegmentEndpoint
from transformer.files import open_text

ERROR_LINE = "error"
INDEX_SCHEMA = "CREATE TABLE items (key TEXT PRIMARY KEY NOT NULL, items TEXT NOT NULL) WITHOUT ROWID"
INDEX_PRAGMAS = ("PRAGMA journal_mode=OFF", "PRAGMA synchronous=OFF", "PRAGMA cache_size=-4000")
"""A scratch index, rebuilt by every run: no journal, no syncing; a 4 MB page cache (a bigger one builds no faster, and stays in the peak)."""
INSERT = "INSERT INTO items (key, items) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET items = excluded.items"
INSERT_ROWS = 10_000
LOOKUP_KEYS = 500


@dataclass
class FileStats:
    lines: int = 0
    ids: int = 0
    error_lines: int = 0
    malformed: int = 0
    malformed_examples: list[tuple[int, str]] = field(default_factory=list)


class FileRecommendations:
    """Item ids per id from a JSON Lines file, read once, in one streaming pass, into a temporary SQLite index
    (keyed by the id; a later line of the same id replaces an earlier one), then looked up per batch of endpoints.
    Memory stays flat whatever the file's size: a 1,000,000-id file is an index of about 60 MB on disk, in the system
    temporary folder, removed when the source is closed or collected."""

    def __init__(self, path: str, id_type: IdType, per_message: int, **open_options: Any) -> None:
        self.path = path
        self.id_type = id_type
        self.per_message = check_per_message(per_message)
        self.stats = FileStats()
        self._folder = tempfile.TemporaryDirectory(prefix="pinrec-recommendations-")
        self._index = sqlite3.connect(
            Path(self._folder.name) / "index.db", isolation_level=None, check_same_thread=False
        )
        self._closer = weakref.finalize(self, _close, self._index, self._folder)
        self._lock = threading.Lock()
        for pragma in INDEX_PRAGMAS:
            self._index.execute(pragma)
        self._index.execute(INDEX_SCHEMA)
        try:
            with open_text(path, **open_options) as text:
                self._read(text)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Remove the index (also done when the source is collected or the process exits)."""
        self._closer()

    def describe(self) -> str:
        return f"file {self.path}"

    def report(self) -> list[str]:
        stats = self.stats
        lines = [f"  recommendations file: {stats.ids:,} ids, {stats.error_lines:,} batch inference error lines"]
        if stats.malformed:
            lines.append(f"  malformed recommendation lines: {stats.malformed:,} skipped{self._examples()}")
        return lines

    def _malformed(self, line: int, reason: str) -> None:
        self.stats.malformed += 1
        if len(self.stats.malformed_examples) < MALFORMED_EXAMPLES:
            self.stats.malformed_examples.append((line, reason))

    def _read(self, text: TextIO) -> None:
        rows: list[tuple[str, str]] = []
        self._index.execute("BEGIN")
        for number, record in read_json_lines(text):
            self.stats.lines += 1
            parsed = self._parse(record)
            if parsed == ERROR_LINE:
                self.stats.error_lines += 1
            elif isinstance(parsed, str):
                self._malformed(number, parsed)
            else:
                key, items = parsed
                rows.append((key, json.dumps(items)))
                if len(rows) >= INSERT_ROWS:
                    self._index.executemany(INSERT, rows)
                    rows = []
        self._index.executemany(INSERT, rows)
        self._index.execute("COMMIT")
        self.stats.ids = self._index.execute("SELECT COUNT(*) FROM items").fetchone()[0]
        if not self.stats.ids:
            raise RecommendationError(
                f"{self.path} has no usable recommendation line ({self.stats.lines:,} lines: "
                f"{self.stats.error_lines:,} batch inference error lines, {self.stats.malformed:,} malformed)"
                + self._examples()
            )

    def _examples(self) -> str:
        examples = "; ".join(f"line {line}: {reason}" for line, reason in self.stats.malformed_examples)
        return f" ({examples})" if examples else ""

    @staticmethod
    def _parse(record: object) -> tuple[str, list[str]] | str:
        """(id, items), or ERROR_LINE for a batch inference line that failed, or why the line is malformed."""
        if isinstance(record, MalformedLine):
            return record.reason
        if not isinstance(record, dict):
            return "a line must be a JSON object"
        if "input" in record:
            return _batch_inference_line(record)
        key, items = record.get("id"), record.get("items")
        if not isinstance(key, str) or not key:
            return 'a line needs "id" (simple form) or "input" (batch inference output)'
        return _checked(key, items)

    def _stored(self, keys: set[str]) -> dict[str, list[str]]:
        stored: dict[str, list[str]] = {}
        ordered = sorted(keys)
        with self._lock:
            for start in range(0, len(ordered), LOOKUP_KEYS):
                chunk = ordered[start : start + LOOKUP_KEYS]
                marks = ",".join("?" * len(chunk))
                query = f"SELECT key, items FROM items WHERE key IN ({marks})"  # noqa: S608 - placeholders only
                for key, items in self._index.execute(query, chunk):
                    stored[key] = json.loads(items)
        return stored

    def lookup(self, endpoints: Sequence[SegmentEndpoint]) -> Lookup:
        found: dict[str, list[str]] = {}
        missing: dict[str, str] = {}
        keys = {recommendation_key(segment_endpoint, self.id_type) for segment_endpoint in endpoints}
        stored = self._stored({key for key in keys if key is not None})
        for segment_endpoint in endpoints:
            key = recommendation_key(segment_endpoint, self.id_type)
            if key is None:
                missing[segment_endpoint.endpoint_id] = "no_user_id"
                continue
            items = usable_items(stored.get(key, []), self.per_message)
            if items:
                found[segment_endpoint.endpoint_id] = items
            else:
                missing[segment_endpoint.endpoint_id] = "no_recommendations"
        return Lookup(found, missing)


def _close(index: sqlite3.Connection, folder: tempfile.TemporaryDirectory[str]) -> None:
    index.close()
    folder.cleanup()


def _batch_inference_line(record: dict[str, Any]) -> tuple[str, list[str]] | str:
    if record.get("error") is not None:
        return ERROR_LINE
    source = record["input"]
    key = next(
        (source[name] for name in ("userId", "itemId") if isinstance(source, dict) and name in source),
        None,
    )
    if not isinstance(key, str) or not key:
        return "batch inference line without input.userId or input.itemId"
    output = record.get("output")
    return _checked(key, output.get("recommendedItems") if isinstance(output, dict) else None)


def _checked(key: str, items: object) -> tuple[str, list[str]] | str:
    if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
        return "the item ids must be a list of strings"
    return key, items


def _open(target: str, options: SourceOptions, clients: Callable[[str], Any]) -> FileRecommendations:
    return FileRecommendations(
        target, options.id_type, options.per_message, client=clients("s3") if target.startswith("s3://") else None
    )


KIND = SourceKind("file", "file:PATH", _open)
