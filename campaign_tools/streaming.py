"""Streaming building blocks shared by every source reader: S3 bodies as buffered streams, `s3://` addresses,
and gzip recognised by its magic bytes rather than the file name."""

from __future__ import annotations

import gzip
import io
from typing import Any, BinaryIO, Protocol

GZIP_MAGIC = b"\x1f\x8b"


class _Readable(Protocol):
    def read(self, size: int = -1) -> bytes: ...


class BodyStream(io.RawIOBase):
    """Adapts anything with `read(n)` (an S3 StreamingBody) to a raw stream, so it can be buffered and peeked."""

    def __init__(self, body: _Readable) -> None:
        self._body = body

    def readable(self) -> bool:
        return True

    def close(self) -> None:
        if not self.closed:
            closer = getattr(self._body, "close", None)
            if callable(closer):
                closer()
        super().close()

    def readinto(self, buffer: Any) -> int:
        view = memoryview(buffer)
        chunk = self._body.read(len(view))
        view[: len(chunk)] = chunk
        return len(chunk)


def split_s3_uri(uri: str) -> tuple[str, str]:
    """`s3://bucket/key` -> (bucket, key); ValueError when either part is missing."""
    bucket, _, key = uri.removeprefix("s3://").partition("/")
    if not bucket or not key:
        raise ValueError(f"{uri!r} is not an s3://BUCKET/KEY address")
    return bucket, key


def decompressed(buffered: io.BufferedReader) -> tuple[BinaryIO, bool]:
    """The stream's content, gunzipped when it starts with the gzip magic bytes; and whether it was."""
    if buffered.peek(2)[:2] == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=buffered, mode="rb"), True  # type: ignore[return-value]
    return buffered, False  # type: ignore[return-value]
