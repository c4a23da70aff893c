"""Reading and writing the files pinrec works with, wherever they are: a local path, `s3://bucket/key`, or `-`
(standard input). Gzip is recognised by its magic bytes, never by the name, and everything streams: memory stays
constant whatever the size of the file. boto3 is imported only when an `s3://` address is used.
"""

from __future__ import annotations

import contextlib
import gzip
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO, Protocol, TextIO, cast

from transformer.aws import AwsOptions, error_code
from transformer.errors import PinrecError

S3_SCHEME = "s3://"
STDIN = "-"
GZIP_MAGIC = b"\x1f\x8b"
READ_BUFFER_BYTES = 1 << 20
_ABSENT_CODES = frozenset({"404", "NoSuchKey", "NotFound"})
_LINE_ENDINGS = ("\n", "\r")


class SourceError(PinrecError):
    """A file cannot be opened or read; the message names it and says why."""


def is_s3_url(location: str) -> bool:
    return location.startswith(S3_SCHEME)


def split_s3_url(url: str) -> tuple[str, str]:
    """`s3://bucket/key` -> (bucket, key); SourceError when it is not one object's address."""
    bucket, _, key = url.removeprefix(S3_SCHEME).partition("/")
    if not is_s3_url(url) or not bucket or not key:
        raise SourceError(f"{url!r} is not an s3://bucket/key address")
    return bucket, key


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


def s3_client(options: AwsOptions | None = None) -> Any:
    from transformer.aws import client

    return client("s3", options)


def _open_s3(url: str, client: Any) -> io.BufferedReader:
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, key = split_s3_url(url)
    try:
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
    except ClientError as error:
        raise SourceError(f"cannot read {url}: {error_code(error)}") from None
    except BotoCoreError as error:
        raise SourceError(f"cannot read {url}: {error}") from None
    return io.BufferedReader(BodyStream(body), READ_BUFFER_BYTES)


def _open_local(path: str) -> io.BufferedReader:
    try:
        return io.BufferedReader(io.FileIO(path, "rb"), READ_BUFFER_BYTES)
    except FileNotFoundError:
        raise SourceError(f"{path} not found") from None
    except IsADirectoryError:
        raise SourceError(f"{path} is a directory, not a file") from None
    except OSError as error:
        raise SourceError(f"cannot read {path}: {error.strerror}") from None


@contextlib.contextmanager
def open_binary(
    location: str, *, aws: AwsOptions | None = None, client: Any | None = None
) -> Iterator[io.BufferedReader]:
    """The raw bytes of a local file, an S3 object (through `client`, else one made for `aws`) or standard input."""
    if location == STDIN:
        yield sys.stdin.buffer  # type: ignore[misc]  # a BufferedReader in practice
        return
    stream = _open_s3(location, client or s3_client(aws)) if is_s3_url(location) else _open_local(location)
    with stream:
        yield stream


def decompressed(buffered: io.BufferedReader) -> tuple[BinaryIO, bool]:
    """The stream's content, gunzipped when it starts with the gzip magic bytes; and whether it was."""
    if buffered.peek(2)[:2] == GZIP_MAGIC:
        return cast(BinaryIO, gzip.GzipFile(fileobj=buffered, mode="rb")), True
    return buffered, False


@contextlib.contextmanager
def open_text(
    location: str, *, aws: AwsOptions | None = None, client: Any | None = None, keep_undecodable: bool = True
) -> Iterator[TextIO]:
    """Stream a (possibly gzipped) file as UTF-8 text with its line endings; a BOM is dropped.

    With `keep_undecodable`, bytes that are not UTF-8 come through as lone surrogates, so a reader can report the
    one line that holds them and go on (see `is_text`); otherwise they raise UnicodeDecodeError while reading.
    """
    with open_binary(location, aws=aws, client=client) as raw:
        binary, _ = decompressed(raw)
        errors = "surrogateescape" if keep_undecodable else "strict"
        text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors=errors, newline="")
        try:
            yield text
        except (gzip.BadGzipFile, EOFError, OSError) as error:
            raise SourceError(f"cannot read {location}: {error}") from None


def read_lines(text: TextIO, max_characters: int) -> Iterator[str | None]:
    """The lines of `text` with their endings; a line longer than `max_characters` is read past in pieces and comes
    out as None, so one endless line never has to fit in memory."""
    while True:
        line = text.readline(max_characters + 1)
        if not line:
            return
        if len(line) <= max_characters or line.endswith(_LINE_ENDINGS):
            yield line
            continue
        while (rest := text.readline(READ_BUFFER_BYTES)) and not rest.endswith(_LINE_ENDINGS):
            pass
        yield None


def is_text(value: str) -> bool:
    """False when `value` holds bytes that were not UTF-8 in the source (kept as lone surrogates)."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def download_object(url: str, destination: Path, *, aws: AwsOptions | None = None, client: Any | None = None) -> bool:
    """Copy an S3 object to `destination`; False when there is no such object."""
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, key = split_s3_url(url)
    try:
        (client or s3_client(aws)).download_file(bucket, key, str(destination))
    except ClientError as error:
        if error_code(error) in _ABSENT_CODES:
            return False
        raise SourceError(f"cannot read {url}: {error_code(error)}") from None
    except BotoCoreError as error:
        raise SourceError(f"cannot read {url}: {error}") from None
    return True


def upload_object(path: Path, url: str, *, aws: AwsOptions | None = None, client: Any | None = None) -> None:
    """Put a local file at `url`; S3 replaces an object whole, so readers see the old bytes or the new ones."""
    from boto3.exceptions import S3UploadFailedError
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, key = split_s3_url(url)
    try:
        (client or s3_client(aws)).upload_file(str(path), bucket, key)
    except (ClientError, BotoCoreError, S3UploadFailedError) as error:
        raise SourceError(f"cannot write {url}: {error_code(error)}") from None
