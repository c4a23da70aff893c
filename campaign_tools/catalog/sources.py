"""Opening a catalog source as a stream of text lines: a local file, `s3://bucket/key`, or `-` for stdin.

Compression is recognised by content (the gzip magic bytes), not by the file name, and everything streams:
memory stays constant whatever the size of the source.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import chain
from typing import Literal

from transformer import files
from transformer.aws import AwsOptions
from transformer.stores.base import CatalogLoadError

SourceFormat = Literal["jsonl", "csv"]
FORMAT_BY_SUFFIX: dict[str, SourceFormat] = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "jsonl", ".csv": "csv"}


def source_label(source: str) -> str:
    """How messages name a source: its path or s3:// URL as given, or "stdin"."""
    return "stdin" if source == files.STDIN else source


@dataclass(frozen=True, slots=True)
class OpenedSource:
    name: str
    format: SourceFormat
    compressed: bool
    lines: Iterable[str]
    """Text lines with their line endings (CSV needs them for quoted fields spanning lines)."""

    @property
    def label(self) -> str:
        return source_label(self.name)


@contextlib.contextmanager
def _open_binary(source: str, aws: AwsOptions | None) -> Iterator[io.BufferedReader]:
    with contextlib.ExitStack() as stack:
        try:
            binary = stack.enter_context(files.open_binary(source, aws=aws))
        except files.SourceError as error:
            raise CatalogLoadError(str(error)) from None
        yield binary


def _guarded(lines: Iterable[str], source: str) -> Iterator[str]:
    """Re-raise stream failures (truncated gzip, bad UTF-8) as load errors naming the last good line."""
    count = 0
    try:
        for line in lines:
            count += 1
            yield line
    except (EOFError, gzip.BadGzipFile, zlib.error) as error:
        raise CatalogLoadError(
            f"source {source}: the gzip data is truncated or corrupt after line {count} ({error}); nothing was changed"
        ) from None
    except UnicodeDecodeError as error:
        raise CatalogLoadError(
            f"source {source}: not UTF-8 text near line {count + 1} ({error.reason}); nothing was changed"
        ) from None


def _format_from_name(source: str) -> SourceFormat | None:
    name = source.lower().removesuffix(".gz").removesuffix(".gzip")
    for suffix, found in FORMAT_BY_SUFFIX.items():
        if name.endswith(suffix):
            return found
    return None


@contextlib.contextmanager
def open_source(
    source: str, source_format: SourceFormat | None = None, *, aws: AwsOptions | None = None
) -> Iterator[OpenedSource]:
    """Open `source` for streaming (an s3:// source through a client made for `aws`). The format is
    `source_format`, else the file name's, else sniffed: a first non-blank line starting with `{` is JSON Lines,
    anything else CSV."""
    with _open_binary(source, aws) as binary:
        stream, compressed = files.decompressed(binary)
        text = io.TextIOWrapper(stream, encoding="utf-8-sig", newline="")
        lines: Iterator[str] = _guarded(text, source_label(source))
        chosen = source_format or _format_from_name(source)
        if chosen is None:
            head: list[str] = []
            for line in lines:
                head.append(line)
                if line.strip():
                    break
            chosen = "jsonl" if head and head[-1].lstrip().startswith("{") else "csv"
            lines = chain(head, lines)
        yield OpenedSource(source, chosen, compressed, lines)
