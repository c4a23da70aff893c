"""Opening a segment or recommendations file as text: a local path or `s3://bucket/key`, gzip detected by magic."""

from __future__ import annotations

import contextlib
import gzip
import io
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO, TextIO

from campaign_tools import streaming
from transformer.errors import PinrecError


class SourceError(PinrecError):
    """A segment or recommendations source cannot be opened or read."""


def split_s3_uri(uri: str) -> tuple[str, str]:
    try:
        return streaming.split_s3_uri(uri)
    except ValueError:
        raise SourceError(f"{uri} is not an s3://bucket/key address") from None


def _open_s3(uri: str, s3_client: Callable[[], Any]) -> BinaryIO:
    from botocore.exceptions import BotoCoreError, ClientError

    bucket, key = split_s3_uri(uri)
    try:
        body = s3_client().get_object(Bucket=bucket, Key=key)["Body"]
    except ClientError as error:
        code = error.response.get("Error", {}).get("Code", "error")
        raise SourceError(f"cannot read {uri}: {code}") from None
    except BotoCoreError as error:
        raise SourceError(f"cannot read {uri}: {error}") from None
    return io.BufferedReader(streaming.BodyStream(body), buffer_size=1 << 16)  # type: ignore[return-value]


def _default_s3_client() -> Any:
    import boto3

    return boto3.client("s3")


@contextlib.contextmanager
def open_text(source: str, s3_client: Callable[[], Any] = _default_s3_client) -> Iterator[TextIO]:
    """Stream `source` as UTF-8 text (a BOM is dropped), decompressing gzip whatever the file is called.

    Bytes that are not UTF-8 come through as lone surrogates (`surrogateescape`): see `is_text`.
    """
    try:
        raw: BinaryIO = _open_s3(source, s3_client) if source.startswith("s3://") else open(source, "rb")  # noqa: SIM115
    except FileNotFoundError:
        raise SourceError(f"{source} not found") from None
    except IsADirectoryError:
        raise SourceError(f"{source} is a directory, not a file") from None
    except OSError as error:
        raise SourceError(f"cannot read {source}: {error.strerror}") from None
    with raw:
        buffered = raw if isinstance(raw, io.BufferedReader) else io.BufferedReader(raw)  # type: ignore[arg-type]
        binary, _ = streaming.decompressed(buffered)  # type: ignore[arg-type]
        # Undecodable bytes survive as lone surrogates, so the reader can report that one row and go on.
        text = io.TextIOWrapper(binary, encoding="utf-8-sig", errors="surrogateescape", newline="")
        try:
            yield text
        except (gzip.BadGzipFile, EOFError, OSError) as error:
            raise SourceError(f"cannot read {source}: {error}") from None


def is_text(value: str) -> bool:
    """False when `value` holds bytes that were not UTF-8 in the source."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
