"""Reading a segment: Pinpoint Endpoint records from JSON Lines or CSV, streamed, with skips counted by reason.

JSON Lines: one endpoint object per line, as Pinpoint exports them (`Id`, `ChannelType`, `Address`, `OptOut`,
`EndpointStatus`, `User{UserId, UserAttributes}`, `Attributes`, `Metrics`, `Location`, `Demographic`, ...).

CSV (a header row, then one endpoint per row) flattens that shape with dotted column names:
- `Id`, `ChannelType`, `Address`, `OptOut`, `EndpointStatus`, `EffectiveDate`, `CreationDate`, `User.UserId`;
- `User.UserAttributes.<Name>` and `Attributes.<Name>`: list values, split on the list separator (default `|`);
- `Metrics.<Name>`: numbers; `Location.<Field>` (Latitude and Longitude numbers) and `Demographic.<Field>`.
An empty cell means the field is absent. Any other column is refused when the header is read.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, BinaryIO, Literal, TextIO, cast

from campaign_tools.channels.base import Channel, ComposeError
from campaign_tools.send.json_lines import MAX_LINE_CHARACTERS, MalformedLine, read_json_lines, value_problem
from transformer.errors import PinrecError
from transformer.files import READ_BUFFER_BYTES, SourceError, decompressed, is_text, open_binary, read_lines

SegmentFormat = Literal["jsonl", "csv"]
DEFAULT_LIST_SEPARATOR = "|"
MAX_ENDPOINT_ID_BYTES = 1024
"""The longest Id a ledger can key (DynamoDB's limit on a sort key)."""
SNIFF_BYTES = 64
BOM = b"\xef\xbb\xbf"
MALFORMED_EXAMPLES = 20
"""How many malformed rows are reported by line; all of them are counted."""

_STRING_FIELDS = ("Id", "ChannelType", "Address", "OptOut", "EndpointStatus", "EffectiveDate", "CreationDate")
_LIST_MAPS = ("Attributes",)
_CSV_NUMBER_FIELDS = {"Location.Latitude", "Location.Longitude"}


class SkipReason(StrEnum):
    OPTED_OUT = "opted_out"
    INACTIVE = "inactive"
    OTHER_CHANNEL = "other_channel"
    NO_ADDRESS = "no_address"
    INVALID_ADDRESS = "invalid_address"
    """The channel's validator refuses the Address (see `Channel.check_address`)."""


@dataclass(frozen=True, slots=True)
class SegmentEndpoint:
    line: int
    endpoint_id: str
    endpoint: dict[str, Any]
    """The endpoint as it goes into the transformer event: the record without `Id`."""


@dataclass
class SegmentStats:
    rows: int = 0
    eligible: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    malformed: int = 0
    malformed_examples: list[tuple[int, str]] = field(default_factory=list)

    def malformed_row(self, line: int, reason: str) -> None:
        self.malformed += 1
        if len(self.malformed_examples) < MALFORMED_EXAMPLES:
            self.malformed_examples.append((line, reason))


class MalformedRow(ValueError):
    """One row is not an endpoint; the message says why without quoting the row."""


def _check_string(record: Mapping[str, Any], key: str) -> None:
    value = record.get(key)
    if value is not None and not isinstance(value, str):
        raise MalformedRow(f"{key} must be a string")
    if isinstance(value, str) and not is_text(value):
        raise MalformedRow(f"{key} is not UTF-8 text")


def _check_list_map(value: object, where: str) -> None:
    if value is None:
        return
    if not isinstance(value, Mapping):
        raise MalformedRow(f"{where} must be an object of string lists")
    for name, values in value.items():
        if not isinstance(values, list) or not all(isinstance(item, str) and is_text(item) for item in values):
            raise MalformedRow(f"{where}.{name} must be a list of strings")


def check_endpoint(record: object) -> tuple[str, dict[str, Any]]:
    """The endpoint id and the endpoint without `Id`, if `record` has Pinpoint's Endpoint shape."""
    if not isinstance(record, dict):
        raise MalformedRow(f"an endpoint must be a JSON object, got {type(record).__name__}")
    for key in _STRING_FIELDS:
        _check_string(record, key)
    endpoint_id = record.get("Id")
    if not endpoint_id or not endpoint_id.strip():
        raise MalformedRow("no Id")
    if len(endpoint_id.encode("utf-8")) > MAX_ENDPOINT_ID_BYTES:
        raise MalformedRow(f"Id is longer than {MAX_ENDPOINT_ID_BYTES:,} bytes")
    for key in _LIST_MAPS:
        _check_list_map(record.get(key), key)
    user = record.get("User")
    if user is not None:
        if not isinstance(user, Mapping):
            raise MalformedRow("User must be an object")
        _check_string(user, "UserId")
        _check_list_map(user.get("UserAttributes"), "User.UserAttributes")
    metrics = record.get("Metrics")
    if metrics is not None and (
        not isinstance(metrics, Mapping)
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in metrics.values())
    ):
        raise MalformedRow("Metrics must be an object of numbers")
    for key in ("Location", "Demographic"):
        if record.get(key) is not None and not isinstance(record[key], Mapping):
            raise MalformedRow(f"{key} must be an object")
    endpoint = {key: value for key, value in record.items() if key != "Id"}
    return endpoint_id, endpoint


def skip_reason(endpoint: Mapping[str, Any], channel: Channel) -> SkipReason | None:
    if endpoint.get("OptOut") == "ALL":
        return SkipReason.OPTED_OUT
    if endpoint.get("EndpointStatus") == "INACTIVE":
        return SkipReason.INACTIVE
    if endpoint.get("ChannelType") not in channel.endpoint_types:
        return SkipReason.OTHER_CHANNEL
    address = endpoint.get("Address")
    if not isinstance(address, str) or not address.strip():
        return SkipReason.NO_ADDRESS
    try:
        channel.check_address(address)
    except ComposeError:
        return SkipReason.INVALID_ADDRESS
    return None


def _jsonl_records(text: TextIO) -> Iterator[tuple[int, object]]:
    for number, value in read_json_lines(text):
        yield number, MalformedRow(value.reason) if isinstance(value, MalformedLine) else value


def _number(text: str, column: str) -> float | int:
    try:
        value = float(text)
    except ValueError:
        raise MalformedRow(f"{column} must be a number") from None
    if not math.isfinite(value):
        raise MalformedRow(f"{column} must be a finite number")
    return int(value) if value.is_integer() and "." not in text and "e" not in text.lower() else value


class CsvLayout:
    """How each CSV column maps into the Endpoint shape, checked once from the header."""

    def __init__(self, header: list[str], separator: str) -> None:
        if not separator:
            raise SourceError("the CSV list separator must not be empty")
        self.separator = separator
        self.columns: list[tuple[str, tuple[str, ...]]] = []
        problems = []
        for column in header:
            path = tuple(column.strip().split(".", 2)) if column.strip() else ()
            if not self._known(path):
                problems.append(column or "(empty)")
            self.columns.append((column, path))
        if problems:
            raise SourceError(
                f"CSV columns not in the Endpoint shape: {', '.join(problems)} (expected e.g. Id, ChannelType, "
                "Address, User.UserId, User.UserAttributes.<Name>, Attributes.<Name>, Metrics.<Name>, "
                "Location.<Field>, Demographic.<Field>)"
            )
        if ("Id",) not in {path for _, path in self.columns}:
            raise SourceError("the CSV header has no Id column")

    @staticmethod
    def _known(path: tuple[str, ...]) -> bool:
        if len(path) == 1:
            return path[0] in _STRING_FIELDS
        if len(path) >= 2 and path[0] in ("Attributes", "Metrics", "Location", "Demographic"):
            return len(path) == 2 or path[0] == "Attributes"
        if path[:2] == ("User", "UserId"):
            return len(path) == 2
        return len(path) == 3 and path[:2] == ("User", "UserAttributes")

    def record(self, row: list[str]) -> dict[str, Any]:
        if len(row) != len(self.columns):
            raise MalformedRow(f"{len(row)} cells where the header has {len(self.columns)}")
        record: dict[str, Any] = {}
        for (column, path), cell in zip(self.columns, row, strict=True):
            if not is_text(cell):
                raise MalformedRow(f"{column} is not UTF-8 text")
            if cell == "":
                continue
            if len(path) == 1:
                record[path[0]] = cell
            elif path[0] == "Attributes":
                record.setdefault("Attributes", {})[".".join(path[1:])] = cell.split(self.separator)
            elif path[0] == "User":
                user = record.setdefault("User", {})
                if path[1] == "UserId":
                    user["UserId"] = cell
                else:
                    user.setdefault("UserAttributes", {})[path[2]] = cell.split(self.separator)
            elif path[0] == "Metrics":
                record.setdefault("Metrics", {})[path[1]] = _number(cell, column)
            elif column in _CSV_NUMBER_FIELDS:
                record.setdefault(path[0], {})[path[1]] = _number(cell, column)
            else:
                record.setdefault(path[0], {})[path[1]] = cell
        return record


def _csv_records(text: TextIO, separator: str) -> Iterator[tuple[int, object]]:
    overlong: list[int] = []

    def lines() -> Iterator[str]:
        for number, line in enumerate(read_lines(text, MAX_LINE_CHARACTERS), start=1):
            if line is None:
                overlong.append(number)
            yield "\n" if line is None else line

    reader = csv.reader(lines(), strict=True)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error as error:
        raise SourceError(f"the CSV header cannot be read: {error}") from None
    layout = CsvLayout(header, separator)
    while True:
        problem: MalformedRow | None = None
        try:
            row = next(reader, None)
        except csv.Error as error:
            row, problem = [], MalformedRow(f"CSV: {error}")
        while overlong:
            yield overlong.pop(0), MalformedRow(f"longer than {MAX_LINE_CHARACTERS:,} characters")
        if problem is not None:
            yield reader.line_num, problem
            continue
        if row is None:
            return
        if not row or all(cell == "" for cell in row):
            continue
        try:
            yield reader.line_num, layout.record(row)
        except MalformedRow as invalid:
            yield reader.line_num, invalid


def format_of(source: str, explicit: SegmentFormat | None) -> SegmentFormat | None:
    """The format `explicit` or the file name tells (a `.gz` suffix looked through); None: decided by content."""
    if explicit is not None:
        return explicit
    name = source.lower().removesuffix(".gz").removesuffix(".gzip")
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if name.endswith(".csv"):
        return "csv"
    return None


def sniff_format(stream: BinaryIO) -> SegmentFormat:
    """JSON Lines when the first character that is not white space (or a BOM) is `{`, else CSV (a header row).
    Reads nothing: it peeks at the (decompressed) stream's buffer, as Pinpoint's exports carry no telling name."""
    peeked = _peek(stream).removeprefix(BOM).lstrip()
    return "jsonl" if not peeked or peeked.startswith(b"{") else "csv"


def _peek(stream: BinaryIO) -> bytes:
    peek = getattr(stream, "peek", None)
    return bytes(peek(SNIFF_BYTES)[:SNIFF_BYTES]) if callable(peek) else b""


@contextlib.contextmanager
def open_segment(
    source: str, explicit: SegmentFormat | None = None, *, client: Any | None = None
) -> Iterator[tuple[SegmentFormat, TextIO]]:
    """The segment's format (given, from its name, else from its content) and its text, gunzipped when the content
    is gzip whatever the name."""
    with open_binary(source, client=client) as raw:
        binary, _ = decompressed(raw)
        if not hasattr(binary, "peek"):
            binary = io.BufferedReader(cast(io.RawIOBase, binary), READ_BUFFER_BYTES)
        kind = format_of(source, explicit) or sniff_format(binary)
        text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")
        try:
            yield kind, text
        except (gzip.BadGzipFile, EOFError, OSError) as error:
            raise SourceError(f"cannot read {source}: {error}") from None


@contextlib.contextmanager
def segment_records(
    source: str, explicit: SegmentFormat | None = None, separator: str = "|", *, client: Any | None = None
) -> Iterator[Iterator[tuple[int, object]]]:
    """(line, record) of a segment, streamed, its format given, named or read from its content; a malformed row is
    a `MalformedRow` record."""
    with open_segment(source, explicit, client=client) as (kind, text):
        yield _csv_records(text, separator) if kind == "csv" else _jsonl_records(text)


def records_from_items(items: Iterable[object], segment_format: str, separator: str) -> Iterator[tuple[int, object]]:
    """(position, record) per item of a batch handed over whole (a Distributed Map child's `Items`). CSV items
    arrive as header -> text objects and are unflattened here."""
    for position, item in enumerate(items, start=1):
        if segment_format != "csv":
            problem = value_problem(item)
            yield position, item if problem is None else MalformedRow(problem)
            continue
        if not isinstance(item, Mapping):
            yield position, MalformedRow("a CSV item must be an object")
            continue
        try:
            layout = CsvLayout([str(key) for key in item], separator)
            yield position, layout.record(["" if value is None else str(value) for value in item.values()])
        except (MalformedRow, PinrecError) as problem:
            yield position, MalformedRow(str(problem))


SkipHook = Callable[[str, SkipReason], None]
"""Told of every skipped endpoint (id, reason), e.g. to record it in the send ledger."""


def iter_endpoints(
    records: Iterable[tuple[int, object]], channel: Channel, stats: SegmentStats, on_skip: SkipHook | None = None
) -> Iterator[SegmentEndpoint]:
    """Eligible endpoints of `records`; every other row is counted in `stats` (skipped by reason, or malformed)."""
    for line, record in records:
        stats.rows += 1
        if isinstance(record, MalformedRow):
            stats.malformed_row(line, str(record))
            continue
        try:
            endpoint_id, endpoint = check_endpoint(record)
        except MalformedRow as problem:
            stats.malformed_row(line, str(problem))
            continue
        reason = skip_reason(endpoint, channel)
        if reason is not None:
            stats.skipped[reason] += 1
            if on_skip is not None:
                on_skip(endpoint_id, reason)
            continue
        stats.eligible += 1
        yield SegmentEndpoint(line, endpoint_id, endpoint)


def read_segment(
    source: str,
    channel: Channel,
    stats: SegmentStats,
    *,
    segment_format: SegmentFormat | None = None,
    list_separator: str = DEFAULT_LIST_SEPARATOR,
    s3_client: Any | None = None,
    on_skip: SkipHook | None = None,
) -> Iterator[SegmentEndpoint]:
    """Stream the eligible endpoints of a segment file in constant memory.

    An id that repeats is yielded again: the send ledger makes sure it gets one message.
    """
    with open_segment(source, segment_format, client=s3_client) as (kind, text):
        records = _jsonl_records(text) if kind == "jsonl" else _csv_records(text, list_separator)
        yield from iter_endpoints(records, channel, stats, on_skip)
