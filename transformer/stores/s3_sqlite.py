"""A SQLite catalog held in S3 (`[store] kind = "sqlite"` with `path = "s3://BUCKET/KEY"`): the SQLite backend
with the file in S3. The reader fetches it to local disk at cold start and follows the object's changes; the writer
builds the new file locally with SQLite's writer and uploads it whole; stats read a temporary copy.

Refresh design: every `refresh_seconds` the request that finds the check due sends one HeadObject (one attempt,
0.5 s to connect and 1 s to answer; postponed when the invocation is short of time) and compares the ETag and
VersionId with the copy it holds. Only that check runs on the request path. When the object has changed, a
background thread downloads it to a temporary file beside the local copy, verifies it (the pinrec schema and SQLite's
`quick_check`), and renames it over the local copy; the SQLite store notices the new file on its next lookup and
reopens it. A failed refresh is logged and the last good file keeps serving; a version that failed verification is
not downloaded again (a later upload is). The cold-start download is verified the same way. (In Lambda a background download can be
frozen between invocations; it resumes when the container is next invoked, which delays the refresh but never a
request.)
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import secrets
import tempfile
import threading
import time
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError

from transformer import files
from transformer.aws import AwsOptions, ClientTuning, client
from transformer.errors import ConfigError
from transformer.observability import logger
from transformer.precompute import LoadProjection
from transformer.stores.base import (
    CatalogLoadError,
    CatalogStats,
    ItemStore,
    LoadOptions,
    LoadSummary,
    Precomputed,
    Record,
    Stored,
)
from transformer.stores.sqlite import SqliteItemStore, sqlite_stats, verify_catalog, write_snapshot

DOWNLOAD_CHUNK_BYTES = 1 << 20
CHECK_SKIPPED_WITHIN_SECONDS = 3.0
"""A refresh check is postponed when the invocation has less time than this left."""


def split_s3_url(url: str) -> tuple[str, str]:
    try:
        return files.split_s3_url(url)
    except files.SourceError as error:
        raise ConfigError(f"store.path: {error}") from None


@dataclass(frozen=True, slots=True)
class ObjectVersion:
    etag: str
    version_id: str | None

    @classmethod
    def of(cls, response: dict[str, Any]) -> ObjectVersion:
        return cls(response["ETag"], response.get("VersionId"))


def s3_client(aws: AwsOptions | None = None, *, for_check: bool = False) -> Any:
    """A client for downloads (retried), or for the refresh check on the request path (one short attempt)."""
    if for_check:
        tuning = ClientTuning(attempts=1, connect_timeout=0.5, read_timeout=1.0)
    else:
        tuning = ClientTuning(attempts=3, connect_timeout=1.0, read_timeout=5.0)
    return client("s3", aws, tuning)


class S3SqliteItemStore:
    """Serves a SQLite catalog held in S3 from a local copy that follows the object's changes."""

    def __init__(
        self,
        url: str,
        *,
        refresh_seconds: float = 60.0,
        aws: AwsOptions | None = None,
        client: Any | None = None,
        directory: str | os.PathLike[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.url = url
        self._bucket, self._key = split_s3_url(url)
        self._client = client if client is not None else s3_client(aws)
        self._check_client = client if client is not None else s3_client(aws, for_check=True)
        digest = hashlib.sha256(url.encode()).hexdigest()[:16]
        self.local_path = Path(directory or tempfile.gettempdir()) / f"pinrec-catalog-{digest}" / "catalog.db"
        self.local_path.parent.mkdir(parents=True, exist_ok=True)
        self._refresh_seconds = refresh_seconds
        self._clock = clock
        try:
            self.version = self._download(None)
        except (ClientError, BotoCoreError) as error:
            raise ConfigError(f"store.path: cannot fetch the catalog {url}: {_reason(error)}") from None
        self._store = SqliteItemStore(self.local_path)
        self._next_check = clock() + refresh_seconds
        self._refresher: threading.Thread | None = None
        self._rejected: ObjectVersion | None = None
        """The last version that failed verification: not downloaded again."""
        self.refreshes = 0
        self.failed_refreshes = 0

    def get_many(self, ids: Collection[str], *, deadline: float | None = None) -> dict[str, Stored]:
        self._maybe_check(deadline)
        return self._store.get_many(ids, deadline=deadline)

    def get_precomputed(
        self, ids: Collection[str], fingerprint: str, *, deadline: float | None = None
    ) -> dict[str, Stored | Precomputed]:
        self._maybe_check(deadline)
        return self._store.get_precomputed(ids, fingerprint, deadline=deadline)

    def sample_ids(self, count: int) -> list[str]:
        return self._store.sample_ids(count)

    def _maybe_check(self, deadline: float | None) -> None:
        now = self._clock()
        if now < self._next_check or self.refresh_running:
            return
        if deadline is not None and deadline - now < CHECK_SKIPPED_WITHIN_SECONDS:
            return
        self._next_check = now + self._refresh_seconds
        try:
            head = self._check_client.head_object(Bucket=self._bucket, Key=self._key)
        except (ClientError, BotoCoreError) as error:
            self.failed_refreshes += 1
            logger.warning("catalog refresh check failed; serving the current copy", extra=_log_fields(error))
            return
        latest = ObjectVersion.of(head)
        if latest not in (self.version, self._rejected):
            self._refresher = threading.Thread(
                target=self._refresh, args=(latest,), name="pinrec-catalog-refresh", daemon=True
            )
            self._refresher.start()

    @property
    def refresh_running(self) -> bool:
        return self._refresher is not None and self._refresher.is_alive()

    def wait_for_refresh(self, timeout: float | None = None) -> None:
        """Block until a running background refresh has finished (for tools and tests)."""
        if self._refresher is not None:
            self._refresher.join(timeout)

    def _refresh(self, latest: ObjectVersion) -> None:
        try:
            self.version = self._download(latest)
        except Exception as error:  # a failed refresh must never take the store down
            self.failed_refreshes += 1
            if isinstance(error, ConfigError):  # the object itself is bad: wait for a new one
                self._rejected = latest
            logger.warning("catalog refresh failed; serving the last good copy", extra=_log_fields(error))
        else:
            self.refreshes += 1
            logger.info("catalog refreshed from S3", extra={"catalog": self.url, "etag": self.version.etag})

    def _download(self, expected: ObjectVersion | None) -> ObjectVersion:
        """Fetch the object beside the local copy, verify it (schema, quick_check), then rename it into place."""
        request: dict[str, Any] = {"Bucket": self._bucket, "Key": self._key}
        if expected is not None:
            request["IfMatch"] = expected.etag
            if expected.version_id is not None:
                request["VersionId"] = expected.version_id
        temporary = self.local_path.with_name(f".download-{os.getpid()}-{secrets.token_hex(4)}.db")
        try:
            response = self._client.get_object(**request)
            with open(temporary, "wb") as handle:
                for chunk in response["Body"].iter_chunks(DOWNLOAD_CHUNK_BYTES):
                    handle.write(chunk)
                handle.flush()
                os.fsync(handle.fileno())
            verify_catalog(temporary, self.url)
            os.replace(temporary, self.local_path)
        finally:
            with contextlib.suppress(FileNotFoundError):
                temporary.unlink()
        return ObjectVersion.of(response)

    def close(self) -> None:
        self._store.close()


def _reason(error: BaseException) -> str:
    if isinstance(error, ClientError):
        details = error.response.get("Error", {})
        return f"{details.get('Code', 'error')} ({details.get('Message', '').strip() or 'no message'})"
    return str(error)


def _log_fields(error: BaseException) -> dict[str, str]:
    return {"error_type": type(error).__name__, "error": _reason(error)}


# Inspection, writer and stats for `pinrec catalog`: each works on a temporary local copy.


@contextlib.contextmanager
def _as_load_error(consequence: str = "") -> Iterator[None]:
    try:
        yield
    except files.SourceError as error:
        raise CatalogLoadError(f"{error}{consequence}") from None


@contextlib.contextmanager
def _local_copy(url: str, aws: AwsOptions | None) -> Iterator[Path]:
    """A temporary copy of the catalog object; CatalogLoadError when there is none."""
    with tempfile.TemporaryDirectory(prefix="pinrec-catalog-") as directory:
        local = Path(directory) / "catalog.db"
        with _as_load_error():
            found = files.download_object(url, local, aws=aws)
        if not found:
            raise CatalogLoadError(f"{url} does not exist (create it with 'pinrec catalog load')")
        yield local


@contextlib.contextmanager
def reading_copy(url: str, aws: AwsOptions | None) -> Iterator[ItemStore]:
    """A reader of a temporary copy of the catalog object (no refresh, nothing kept afterwards)."""
    with _local_copy(url, aws) as local:
        store = SqliteItemStore(local)
        try:
            yield store
        finally:
            store.close()


def load_into_object(url: str, records: Iterable[Record], options: LoadOptions, *, key: str) -> LoadSummary:
    """Build the catalog locally (from a copy of the current object, if any) and upload it whole: readers see the
    old object or the new one; a failed load uploads nothing."""
    with tempfile.TemporaryDirectory(prefix="pinrec-load-") as directory:
        local = Path(directory) / "catalog.db"
        with _as_load_error():
            files.download_object(url, local, aws=options.aws)
        summary = write_snapshot(
            records,
            local,
            key=key,
            source=options.source,
            allow_empty=options.allow_empty,
            allow_shrink=options.allow_shrink,
            merge=options.merge,
            progress=options.progress,
            attributes=LoadProjection(options.attributes) if options.attributes is not None else None,
        )
        with _as_load_error("; the old one still serves"):
            files.upload_object(local, url, aws=options.aws)
    return summary


def stats_of_object(url: str, aws: AwsOptions | None) -> CatalogStats:
    with _local_copy(url, aws) as local:
        return sqlite_stats(local, url)
