"""Terminal output helpers: progress that appears only on a terminal, plain tables, and JSON that always prints."""

from __future__ import annotations

import json
import re
import sys
import time
from collections.abc import Sequence
from typing import Any, TextIO

_SURROGATE = re.compile("[\ud800-\udfff]")
"""A UTF-16 surrogate code point: valid in a JSON string (as an escape) and in a Python str, but no UTF-8 stream can
write it."""


class Progress:
    """Prints a self-overwriting `items, rate` line on a terminal at most every `interval` seconds."""

    def __init__(self, label: str, stream: TextIO | None = None, interval: float = 0.5) -> None:
        self._label = label
        self._stream = stream if stream is not None else sys.stderr
        self._interval = interval
        self._started = time.monotonic()
        self._last = 0.0
        self._enabled = self._stream.isatty()
        self._shown = False

    def __call__(self, count: int) -> None:
        if not self._enabled:
            return
        now = time.monotonic()
        if now - self._last < self._interval:
            return
        self._last = now
        rate = count / max(now - self._started, 1e-9)
        self._stream.write(f"\r{self._label}: {count:,} items ({rate:,.0f}/s)")
        self._stream.flush()
        self._shown = True

    def done(self) -> None:
        if self._shown:
            self._stream.write("\n")
            self._stream.flush()


def table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max([len(header), *(len(row[i]) for row in cells)]) for i, header in enumerate(headers)]
    lines = ["  ".join(header.ljust(width) for header, width in zip(headers, widths, strict=True))]
    lines.append("  ".join("-" * width for width in widths))
    lines += ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in cells]
    return "\n".join(line.rstrip() for line in lines)


def json_text(data: Any, *, indent: int | None = 2, compact: bool = False) -> str:
    """`data` as JSON text that any UTF-8 stream or file can take, whatever strings it holds: characters as
    themselves, except surrogates (a lone one can come from any JSON input), written as their `\\uXXXX` escapes,
    which read back as the same string. Values JSON has no form for are written as their `str`. `compact`: one line
    without spaces (JSON Lines)."""
    separators = (",", ":") if compact else None
    text = json.dumps(data, indent=None if compact else indent, separators=separators, ensure_ascii=False, default=str)
    return _SURROGATE.sub(lambda found: f"\\u{ord(found.group()):04x}", text)


def print_json(data: Any, *, file: TextIO | None = None, indent: int | None = 2) -> None:
    """Print `data` as JSON (`json_text`) on `file` (default: standard output). On a stream that cannot encode
    some character (not UTF-8), every non-ASCII character is escaped instead: the same JSON, never an error."""
    stream = file if file is not None else sys.stdout
    text = json_text(data, indent=indent)
    try:
        text.encode(stream.encoding or "utf-8", errors=stream.errors or "strict")
    except (UnicodeError, LookupError, AttributeError):
        text = json.dumps(data, indent=indent, ensure_ascii=True, default=str)
    print(text, file=stream)
