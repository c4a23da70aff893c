"""Event records from a file: JSON Lines (one document per line, of any wrapping), a JSON array, or JSON documents
one after another (pretty-printed samples); local, `s3://` or `-`, gzip detected from the content.

Each record carries the line it starts on. A JSON Lines line that is not JSON is a malformed record of its own and
reading goes on; in an array or a run of pretty-printed documents a syntax error ends the file there (nothing after
it can be framed), counted once at its line.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from campaign_tools.events.ingest import Located
from campaign_tools.events.sources.base import Unparsed
from transformer.aws import AwsOptions
from transformer.files import is_text, open_text, read_lines

MAX_LINE_CHARACTERS = 4_194_304
"""A JSON Lines line longer than this is counted malformed without being parsed."""


def records_of(location: str, aws: AwsOptions | None = None, client: Any | None = None) -> Iterator[Located]:
    with open_text(location, aws=aws, client=client) as text:
        lines = read_lines(text, MAX_LINE_CHARACTERS)
        number, started = 0, False
        for line in lines:
            number += 1
            if line is None:
                yield Located(Unparsed("line too long"), number)
                continue
            stripped = line.strip()
            if not stripped:
                continue
            first, started = not started, True
            if first and stripped.startswith("["):
                rest = line + "".join(piece or "" for piece in lines)
                yield from _documents(rest, number, array=True)
                return
            try:
                value = json.loads(stripped)
            except (ValueError, RecursionError):
                if first and stripped.startswith("{"):
                    rest = line + "".join(piece or "" for piece in lines)
                    yield from _documents(rest, number, array=False)
                    return
                reason = "not UTF-8" if not is_text(stripped) else "not JSON"
                yield Located(Unparsed(reason), number)
                continue
            yield Located(value, number)


def _documents(text: str, first_line: int, *, array: bool) -> Iterator[Located]:
    """The documents of `text`: an array's elements, or documents one after another."""
    decoder = json.JSONDecoder()
    position, line = 0, first_line
    end = len(text)

    def skip(characters: str) -> None:
        nonlocal position, line
        while position < end and text[position] in characters:
            line += text[position] == "\n"
            position += 1

    if array:
        skip(" \t\r\n")
        position += 1  # the "["
    while True:
        skip(" \t\r\n," if array else " \t\r\n")
        if position >= end or (array and text[position] == "]"):
            if array and position >= end:
                yield Located(Unparsed("not JSON: the array is not closed"), line)
            return
        try:
            value, stop = decoder.raw_decode(text, position)
        except (ValueError, RecursionError):
            yield Located(Unparsed("not JSON" if is_text(text[position : position + 4096]) else "not UTF-8"), line)
            return
        yield Located(value, line)
        line += text.count("\n", position, stop)
        position = stop
