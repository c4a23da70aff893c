"""`--outbox DIR`: every message written as a file, exactly as it would be delivered.

Each channel decides its file (email: an RFC 5322 `.eml`; SMS and push: the JSON request their provider would get).
Files are `DIR/<campaign>/<endpoint>.<ext>` with both ids percent-encoded, written to a temporary file and renamed
into place: re-delivering after a crash overwrites the same file, so an endpoint never has two messages (the outbox
is idempotent), and with the same bytes: the file's modification time is when it was first written, and a
re-delivery keeps it as the message's creation time (an email's `Date`).

A killed run cannot remove its temporary file (`.tmp-*`): the first delivery of a run into a campaign folder removes
those older than the run. Files are not fsynced (that halves the throughput): the outbox survives the process being
killed at any point; after a power cut, files written in the last seconds may be missing although the ledger says
sent.

A write error that every further message would meet too (a read-only folder or file system, no space, over quota)
stops the run after that message; any other is that message's failure, retried by the next run.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import os
import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from campaign_tools.channels.base import Delivered, DeliveryError, Message, Sender

MAX_NAME_LENGTH = 200
DEFAULT_OUTBOX = "pinrec-outbox"
TEMPORARY_PREFIX = ".tmp-"
FATAL_ERRNOS = {
    errno.EROFS: "outbox_read_only",
    errno.EACCES: "outbox_not_writable",
    errno.EPERM: "outbox_not_writable",
    errno.ENOSPC: "outbox_full",
    errno.EDQUOT: "outbox_full",
}
"""Write errors of the folder or file system rather than of one file: the run stops on the first."""


def file_name(identifier: str) -> str:
    """A file name that only `identifier` maps to: percent-encoded, dots encoded too; long ones end in a hash."""
    name = quote(identifier, safe="").replace(".", "%2E")
    if len(name) > MAX_NAME_LENGTH:
        digest = hashlib.sha256(identifier.encode("utf-8")).hexdigest()
        name = f"{name[: MAX_NAME_LENGTH - 65]}~{digest}"
    return name


WRITE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_CLOEXEC", 0)
FILE_MODE = 0o600
"""The outbox holds people's addresses and messages: readable by their owner only."""


def write_atomically(path: str, data: bytes, modified: float, temporary: str) -> None:
    """`path` holds `data` whole (or keeps what it held), with `modified` as its modification time. `temporary` is a
    name in the same folder that only this writer uses (one per thread); it is written first, then renamed."""
    try:
        handle = os.open(temporary, WRITE_FLAGS, FILE_MODE)
    except FileNotFoundError:
        os.makedirs(os.path.dirname(path), exist_ok=True)
        handle = os.open(temporary, WRITE_FLAGS, FILE_MODE)
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(handle, view) :]
            os.utime(handle, (modified, modified))
        finally:
            os.close(handle)
        os.replace(temporary, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(temporary)
        raise


def remove_leftovers(folder: str | os.PathLike[str], before: float) -> int:
    """Remove the temporary files in `folder` last written before `before` (left by killed runs); how many."""
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except FileNotFoundError:
        return 0
    for entry in entries:
        if not entry.name.startswith(TEMPORARY_PREFIX):
            continue
        try:
            if entry.stat(follow_symlinks=False).st_mtime < before:
                os.unlink(entry.path)
                removed += 1
        except FileNotFoundError:
            continue
    return removed


def delivery_error(error: OSError) -> DeliveryError:
    reason = FATAL_ERRNOS.get(error.errno or 0)
    detail = error.strerror or type(error).__name__
    if reason is not None:
        return DeliveryError(reason, fatal=True, detail=detail)
    return DeliveryError("outbox_write_failed", detail=detail)


class OutboxDeliverer:
    idempotent = True
    concurrent = False
    """Writing files is local work: the pipeline delivers in one thread (`--workers` does not apply)."""

    def __init__(
        self, directory: str | os.PathLike[str], sender: Sender, *, clock: Callable[[], float] = time.time
    ) -> None:
        self.directory = Path(directory)
        self.sender = sender
        self._clock = clock
        self._started = clock()
        self._folders: dict[str, tuple[str, str]] = {}
        self._lock = threading.Lock()
        self._token = secrets.token_hex(6)
        """Names this deliverer's temporary files apart from any other run's writing to the same folders."""

    def describe(self) -> str:
        return f"outbox {self.directory}"

    def _folder(self, campaign_id: str) -> tuple[str, str]:
        """(folder name, folder path) of a campaign; the first delivery into it removes killed runs' leftovers."""
        known = self._folders.get(campaign_id)
        if known is not None:
            return known
        with self._lock:
            if campaign_id not in self._folders:
                folder_name = file_name(campaign_id)
                folder = os.path.join(self.directory, folder_name)
                remove_leftovers(folder, self._started)
                self._folders[campaign_id] = (folder_name, folder)
            return self._folders[campaign_id]

    def deliver(self, campaign_id: str, endpoint_id: str, message: Message) -> Delivered:
        now = int(self._clock())
        written = self.sender.outbox_file(message, campaign_id, endpoint_id, now)
        name = f"{file_name(endpoint_id)}.{written.extension}"
        try:
            folder_name, folder = self._folder(campaign_id)
            path = os.path.join(folder, name)
            created = _first_written(path) or now
            if created != now:
                written = self.sender.outbox_file(message, campaign_id, endpoint_id, created)
            temporary = os.path.join(
                folder, f"{TEMPORARY_PREFIX}{self._token}-{threading.get_ident():x}.{written.extension}"
            )
            write_atomically(path, written.data, created, temporary)
        except OSError as error:
            raise delivery_error(error) from None
        return Delivered(f"{folder_name}{os.sep}{name}")


def _first_written(path: str) -> int | None:
    """When an earlier delivery wrote `path` (its modification time), or None when there is no such file."""
    try:
        return int(os.stat(path).st_mtime)
    except FileNotFoundError:
        return None
