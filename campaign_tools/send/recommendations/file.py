"""`file:PATH`: item ids per id from a JSON Lines file (local, S3, gzip), read once.

A line is either `{"id": "ep-1", "items": ["P1", "P2"]}` or a line of Amazon Personalize batch inference output,
`{"input": {"userId": "u-1"}, "output": {"recommendedItems": [...], "scores": [...]}}`; error lines
(`{"input": {...}, "error": "..."}`) are counted and skipped.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from campaign_tools.send.recommendations.base import (
    IdType,
    Lookup,
    SourceKind,
    SourceOptions,
    check_per_message,
    recommendation_key,
    usable_items,
)
from campaign_tools.send.segments import MALFORMED_EXAMPLES, SegmentEndpoint
from transformer.files import is_text, open_text


@dataclass
class FileStats:
    lines: int = 0
    ids: int = 0
    error_lines: int = 0
    malformed: int = 0
    malformed_examples: list[tuple[int, str]] = field(default_factory=list)


class FileRecommendations:
    """Item ids per id from a JSON Lines file, read once into memory: the ids and, shared, the item ids
    (about 200 bytes per id with 5 items)."""

    def __init__(self, path: str, id_type: IdType, per_message: int, **open_options: Any) -> None:
        self.path = path
        self.id_type = id_type
        self.per_message = check_per_message(per_message)
        self.stats = FileStats()
        self._items: dict[str, tuple[str, ...]] = {}
        with open_text(path, **open_options) as lines:
            self._read(lines)

    def describe(self) -> str:
        return f"file {self.path}"

    def report(self) -> list[str]:
        stats = self.stats
        lines = [f"  recommendations file: {stats.ids:,} ids, {stats.error_lines:,} batch inference error lines"]
        if stats.malformed:
            examples = "; ".join(f"line {line}: {reason}" for line, reason in stats.malformed_examples)
            lines.append(f"  malformed recommendation lines: {stats.malformed:,} skipped ({examples})")
        return lines

    def _malformed(self, line: int, reason: str) -> None:
        self.stats.malformed += 1
        if len(self.stats.malformed_examples) < MALFORMED_EXAMPLES:
            self.stats.malformed_examples.append((line, reason))

    def _read(self, lines: Iterable[str]) -> None:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            self.stats.lines += 1
            if not is_text(line):
                self._malformed(number, "not UTF-8 text")
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as error:
                self._malformed(number, f"not JSON ({error.msg} at column {error.colno})")
                continue
            parsed = self._parse(record)
            if isinstance(parsed, str):
                if parsed == "error":
                    self.stats.error_lines += 1
                else:
                    self._malformed(number, parsed)
                continue
            key, items = parsed
            # Item ids repeat across users (a catalog is far smaller than a segment): share one string each.
            self._items[key] = tuple(sys.intern(item) for item in items)
        self.stats.ids = len(self._items)

    def _parse(self, record: object) -> tuple[str, list[str]] | str:
        """(id, items), or "error" for a batch inference error line, or why the line is malformed."""
        if not isinstance(record, dict):
            return "a line must be a JSON object"
        if "input" in record:
            source = record["input"]
            key = source.get("userId") if isinstance(source, dict) else None
            if not isinstance(key, str) or not key:
                return "batch inference line without input.userId"
            if "error" in record:
                return "error"
            output = record.get("output")
            items = output.get("recommendedItems") if isinstance(output, dict) else None
        else:
            key, items = record.get("id"), record.get("items")
            if not isinstance(key, str) or not key:
                return 'a line needs "id" (simple form) or "input" (batch inference output)'
        if not isinstance(items, list) or not all(isinstance(item, str) for item in items):
            return "the item ids must be a list of strings"
        return key, items

    def lookup(self, endpoints: Sequence[SegmentEndpoint]) -> Lookup:
        found: dict[str, list[str]] = {}
        missing: dict[str, str] = {}
        for segment_endpoint in endpoints:
            key = recommendation_key(segment_endpoint, self.id_type)
            if key is None:
                missing[segment_endpoint.endpoint_id] = "no_user_id"
                continue
            items = usable_items(list(self._items.get(key, ())), self.per_message)
            if items:
                found[segment_endpoint.endpoint_id] = items
            else:
                missing[segment_endpoint.endpoint_id] = "no_recommendations"
        return Lookup(found, missing)


def _open(target: str, options: SourceOptions, clients: Callable[[str], Any]) -> FileRecommendations:
    return FileRecommendations(
        target, options.id_type, options.per_message, client=clients("s3") if target.startswith("s3://") else None
    )


KIND = SourceKind("file", "file:PATH", _open)
