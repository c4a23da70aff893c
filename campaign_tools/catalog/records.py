"""Reading catalog records: one JSON object per line, each carrying the item id in its key field."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from transformer.errors import PinrecError


class CatalogLoadError(PinrecError):
    """A catalog source cannot be loaded; nothing was changed."""


@dataclass(frozen=True, slots=True)
class Record:
    line: int
    item_id: str
    item: dict[str, Any]
    text: str
    """The item as compact JSON, ready to store."""


def normalise_item_id(value: object) -> str:
    """Item ids are strings; integer ids (common in exported catalogs) become their decimal text."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValueError("must be a non-empty string or an integer")


def parse_json_line(line_number: int, text: str, key: str) -> Record:
    try:
        item = json.loads(text)
    except json.JSONDecodeError as error:
        raise CatalogLoadError(f"line {line_number}: not valid JSON ({error.msg} at column {error.colno})") from None
    if not isinstance(item, dict):
        raise CatalogLoadError(f"line {line_number}: expected a JSON object, got {type(item).__name__}")
    if key not in item:
        raise CatalogLoadError(f"line {line_number}: the key field {key!r} is missing")
    try:
        item_id = normalise_item_id(item[key])
    except ValueError as error:
        raise CatalogLoadError(f"line {line_number}: the key field {key!r} {error}") from None
    item[key] = item_id
    return Record(line_number, item_id, item, json.dumps(item, ensure_ascii=False, separators=(",", ":")))


def read_jsonl(lines: Iterable[str], key: str) -> Iterator[Record]:
    """Parse JSON Lines, skipping blank lines; the first bad line raises CatalogLoadError naming it."""
    for line_number, line in enumerate(lines, start=1):
        if line.strip():
            yield parse_json_line(line_number, line, key)
