"""Reading catalog records from JSON Lines or CSV, each carrying the item id in its key field.

CSV values are typed by one rule: a cell that is a JSON number (`12`, `-3.5`, `1e3`; not `012` or `1,5`)
becomes a number, `true` and `false` become booleans, an empty cell leaves the field out (so an attribute's
default applies), and everything else stays text. Columns named in `string_columns`, and the key column,
always stay text.
"""

from __future__ import annotations

import csv
import json
import math
import re
from collections.abc import Collection, Iterable, Iterator
from typing import Any

import orjson

from transformer.stores.base import CatalogLoadError, InvalidRecord, Record, Reject

MAX_CSV_FIELD_CHARS = 16 * 1024 * 1024
HUGE = float(2**63)
JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def normalise_item_id(value: object) -> str:
    """Item ids are strings; integer ids (common in exported catalogs) become their decimal text."""
    if isinstance(value, str) and value:
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    raise ValueError("must be a non-empty string or an integer")


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number a catalog can hold")


def finite_float(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"{text} is out of range for a number")
    return value


def _record(line_number: int, item: dict[str, Any], key: str, text: str | None = None) -> Record:
    """A record of `item`; `text` is its JSON source when that can be stored as it is."""
    if key not in item:
        raise InvalidRecord(f"line {line_number}: the key field {key!r} is missing")
    raw_id = item[key]
    try:
        item_id = normalise_item_id(raw_id)
    except ValueError as error:
        raise InvalidRecord(f"line {line_number}: the key field {key!r} {error}") from None
    if item_id is not raw_id or text is None:
        item[key] = item_id
        text = orjson.dumps(item).decode()
    return Record(line_number, item_id, item, text)


def _holds_huge_float(item: dict[str, Any]) -> bool:
    """True when some number in `item` is a float of 2**63 or more (what orjson makes of a huge integer)."""
    pending: list[Any] = [item]
    while pending:
        container = pending.pop()
        for value in container.values() if type(container) is dict else container:
            kind = type(value)
            if kind is float:
                if value >= HUGE or value <= -HUGE:
                    return True
            elif kind is dict or kind is list:
                pending.append(value)
    return False


def _strict_json(line_number: int, text: str) -> Any:
    """The standard library's parser: exact big integers, and messages with columns."""
    try:
        return json.loads(text, parse_constant=_reject_constant, parse_float=finite_float)
    except json.JSONDecodeError as error:
        raise InvalidRecord(f"line {line_number}: not valid JSON ({error.msg} at column {error.colno})") from None
    except ValueError as error:
        raise InvalidRecord(f"line {line_number}: {error}") from None


def parse_json_line(line_number: int, text: str, key: str) -> Record:
    # orjson is ~3x faster, but reads integers beyond 64 bits as floats: a line holding a number that large,
    # and every line orjson rejects (for an exact message), goes through the standard library instead.
    try:
        item = orjson.loads(text)
    except orjson.JSONDecodeError:
        item = _strict_json(line_number, text)
    else:
        if type(item) is dict and _holds_huge_float(item):
            item = _strict_json(line_number, text)
    if not isinstance(item, dict):
        raise InvalidRecord(f"line {line_number}: expected a JSON object, got {type(item).__name__}")
    return _record(line_number, item, key, text)


def read_jsonl(lines: Iterable[str], key: str, on_reject: Reject | None = None) -> Iterator[Record]:
    """Parse JSON Lines, skipping blank lines; a bad line raises InvalidRecord naming it, or goes to on_reject."""
    for line_number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield parse_json_line(line_number, line.rstrip("\r\n"), key)
        except InvalidRecord as problem:
            if on_reject is None:
                raise
            on_reject(problem)


def typed_cell(text: str) -> Any:
    """A CSV cell's value under the module's typing rule (empty cells are handled by the caller)."""
    match = JSON_NUMBER.fullmatch(text)
    if match is not None:
        if not (match.group(1) or match.group(2)):
            return int(text)
        value = float(text)
        return value if math.isfinite(value) else text
    if text in ("true", "false"):
        return text == "true"
    return text


def _csv_header(reader: Any, key: str, string_columns: Collection[str]) -> list[str] | None:
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise CatalogLoadError(f"line 1: the CSV header is malformed ({error})") from None
    if header is None:
        return None
    header = [name.strip() for name in header]
    if not all(header):
        raise CatalogLoadError("line 1: the CSV header has an empty column name")
    if len(set(header)) != len(header):
        raise CatalogLoadError("line 1: the CSV header repeats a column name")
    if key not in header:
        raise CatalogLoadError(f"line 1: the CSV header has no key column {key!r}")
    unknown = set(string_columns) - set(header)
    if unknown:
        raise CatalogLoadError(f"--string-columns names columns the CSV does not have: {', '.join(sorted(unknown))}")
    return header


def _csv_item(line: int, header: list[str], row: list[str], text_columns: Collection[str]) -> dict[str, Any]:
    if len(row) > len(header):
        raise InvalidRecord(f"line {line}: {len(row)} fields, the header has {len(header)}")
    return {
        name: cell if name in text_columns else typed_cell(cell)
        for name, cell in zip(header, row, strict=False)
        if cell != ""
    }


def read_csv(
    lines: Iterable[str],
    key: str,
    on_reject: Reject | None = None,
    string_columns: Collection[str] = (),
) -> Iterator[Record]:
    """Parse CSV with a header row; each row becomes one item, cells typed by the module's rule."""
    csv.field_size_limit(MAX_CSV_FIELD_CHARS)
    reader = csv.reader(lines, strict=True)
    header = _csv_header(reader, key, string_columns)
    if header is None:
        return
    text_columns = {key, *string_columns}
    while True:
        try:
            row = next(reader)
            if not any(cell.strip() for cell in row):
                continue
            yield _record(reader.line_num, _csv_item(reader.line_num, header, row, text_columns), key)
        except StopIteration:
            return
        except csv.Error as error:
            problem = InvalidRecord(f"line {reader.line_num}: malformed CSV ({error})")
            if on_reject is None:
                raise problem from None
            on_reject(problem)
        except InvalidRecord as problem:
            if on_reject is None:
                raise
            on_reject(problem)
