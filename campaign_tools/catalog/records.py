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
import sys
from collections.abc import Collection, Iterable, Iterator
from typing import Any

import orjson

from transformer.stores.base import CatalogLoadError, InvalidRecord, Record, Reject

MAX_CSV_FIELD_CHARS = 16 * 1024 * 1024
HUGE = float(2**63)
JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?")
MAX_NESTING_DEPTH = 100
"""Deepest nesting of objects and lists an item may have; JSON parsers (the transformer's too) give up near 1,000."""
MAX_INTEGER_DIGITS = sys.get_int_max_str_digits() or 4300
"""Longest integer an item may hold: Python, so the transformer reading the catalog, refuses longer ones."""


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
        raise InvalidRecord(line_number, f"the key field {key!r} is missing")
    raw_id = item[key]
    try:
        item_id = normalise_item_id(raw_id)
    except ValueError as error:
        raise InvalidRecord(line_number, f"the key field {key!r} {error}") from None
    if item_id is not raw_id or text is None:
        item[key] = item_id
        text = _serialised(item)
    return Record(line_number, item_id, item, text)


def _serialised(item: dict[str, Any]) -> str:
    try:
        return orjson.dumps(item).decode()
    except orjson.JSONEncodeError:  # an integer beyond 64 bits, which only the standard library writes
        return json.dumps(item, ensure_ascii=False, separators=(",", ":"))


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INTEGER_DIGITS:
        raise ValueError(f"a number has more than {MAX_INTEGER_DIGITS:,} digits")
    return int(text)


def _unpaired_surrogate(item: Any) -> bool:
    """True when a string of `item` holds half a UTF-16 pair (JSON's `\\ud800`), which is not Unicode text."""
    try:
        json.dumps(item, ensure_ascii=False).encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def _shape(item: dict[str, Any]) -> tuple[int, bool]:
    """How deeply objects and lists nest in `item`, and whether some number in it is a float of 2**63 or more (what
    orjson makes of a huge integer): one pass, level by level, without recursion."""
    depth, huge = 0, False
    level: list[Any] = [item]
    while level and depth <= MAX_NESTING_DEPTH:
        depth += 1
        below = []
        for container in level:
            for value in container.values() if type(container) is dict else container:
                kind = type(value)
                if kind is float:
                    huge = huge or value >= HUGE or value <= -HUGE
                elif kind is dict or kind is list:
                    below.append(value)
        level = below
    return depth, huge


def _strict_json(line_number: int, text: str) -> Any:
    """The standard library's parser: exact big integers, and messages with columns."""
    try:
        item = json.loads(text, parse_constant=_reject_constant, parse_float=finite_float, parse_int=_bounded_int)
    except json.JSONDecodeError as error:
        raise InvalidRecord(line_number, f"not valid JSON ({error.msg} at column {error.colno})") from None
    except ValueError as error:
        raise InvalidRecord(line_number, str(error)) from None
    except RecursionError:
        raise InvalidRecord(line_number, f"nested more than {MAX_NESTING_DEPTH} levels deep") from None
    return item


def parse_json_line(line_number: int, text: str, key: str) -> Record:
    # orjson is ~3x faster, but reads integers beyond 64 bits as floats: a line holding a number that large,
    # and every line orjson rejects (for an exact message), goes through the standard library instead.
    # The standard library also reads half surrogate pairs (`\\ud800`), which orjson refuses: its lines are checked.
    strict = False
    try:
        item = orjson.loads(text)
    except orjson.JSONDecodeError:
        item, strict = _strict_json(line_number, text), True
    if not isinstance(item, dict):
        raise InvalidRecord(line_number, f"expected a JSON object, got {type(item).__name__}")
    depth, huge = _shape(item)
    if depth > MAX_NESTING_DEPTH:
        raise InvalidRecord(line_number, f"nested more than {MAX_NESTING_DEPTH} levels deep")
    if huge:
        item, strict = _strict_json(line_number, text), True
    if strict and _unpaired_surrogate(item):
        raise InvalidRecord(line_number, "a string holds half a UTF-16 surrogate pair (\\ud800-\\udfff), not text")
    return _record(line_number, item, key, text)


def read_jsonl(lines: Iterable[str], key: str, on_reject: Reject | None = None, source: str = "") -> Iterator[Record]:
    """Parse JSON Lines, skipping blank lines; a bad line raises InvalidRecord naming `source` and the line, or goes
    to on_reject."""
    for line_number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            yield parse_json_line(line_number, line.rstrip("\r\n"), key)
        except InvalidRecord as problem:
            if on_reject is None:
                raise problem.named(source) from None
            on_reject(problem.named(source))


def typed_cell(text: str) -> Any:
    """A CSV cell's value under the module's typing rule (empty cells are handled by the caller); ValueError for a
    number no catalog can hold."""
    match = JSON_NUMBER.fullmatch(text)
    if match is not None:
        if not (match.group(1) or match.group(2)):
            return _bounded_int(text)
        value = float(text)
        return value if math.isfinite(value) else text
    if text in ("true", "false"):
        return text == "true"
    return text


def _csv_header(reader: Any, key: str, string_columns: Collection[str], source: str) -> list[str] | None:
    where = f"{source}: line 1" if source else "line 1"
    try:
        header = next(reader, None)
    except csv.Error as error:
        raise CatalogLoadError(f"{where}: the CSV header is malformed ({error})") from None
    if header is None:
        return None
    header = [name.strip() for name in header]
    if not all(header):
        raise CatalogLoadError(f"{where}: the CSV header has an empty column name")
    if len(set(header)) != len(header):
        raise CatalogLoadError(f"{where}: the CSV header repeats a column name")
    if key not in header:
        raise CatalogLoadError(f"{where}: the CSV header has no key column {key!r}")
    unknown = set(string_columns) - set(header)
    if unknown:
        raise CatalogLoadError(f"--string-columns names columns the CSV does not have: {', '.join(sorted(unknown))}")
    return header


def _csv_item(line: int, header: list[str], row: list[str], text_columns: Collection[str]) -> dict[str, Any]:
    if len(row) > len(header):
        raise InvalidRecord(line, f"{len(row)} fields, the header has {len(header)}")
    item: dict[str, Any] = {}
    for name, cell in zip(header, row, strict=False):
        if cell == "":
            continue
        try:
            item[name] = cell if name in text_columns else typed_cell(cell)
        except ValueError as error:
            raise InvalidRecord(line, f"column {name!r}: {error}") from None
    return item


def read_csv(
    lines: Iterable[str],
    key: str,
    on_reject: Reject | None = None,
    string_columns: Collection[str] = (),
    source: str = "",
) -> Iterator[Record]:
    """Parse CSV with a header row; each row becomes one item, cells typed by the module's rule. A bad row raises
    InvalidRecord naming `source` and the line, or goes to on_reject."""
    csv.field_size_limit(MAX_CSV_FIELD_CHARS)
    reader = csv.reader(lines, strict=True)
    header = _csv_header(reader, key, string_columns, source)
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
            problem = InvalidRecord(reader.line_num, f"malformed CSV ({error})").named(source)
            if on_reject is None:
                raise problem from None
            on_reject(problem)
        except InvalidRecord as problem:
            if on_reject is None:
                raise problem.named(source) from None
            on_reject(problem.named(source))
