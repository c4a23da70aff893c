"""`--outbox DIR`: every message written as a file, exactly as it would be delivered.

Each channel decides its file (email: an RFC 5322 `.eml`; SMS and push: the JSON request their provider would get).
Files are `DIR/<campaign>/<endpoint>.<ext>` with both ids percent-encoded, written to a temporary file and renamed
into place: re-delivering after a crash overwrites the same file, so an endpoint never has two messages (the outbox
is idempotent).

Files are not fsynced (that halves the throughput): the outbox survives the process being killed at any point;
after a power cut, files written in the last seconds may be missing although the ledger says sent.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path
from urllib.parse import quote

from campaign_tools.channels.base import Delivered, DeliveryError, Message, Sender

MAX_NAME_LENGTH = 200
DEFAULT_OUTBOX = "pinrec-outbox"


def file_name(identifier: str) -> str:
    """A file name that only `identifier` maps to: percent-encoded, dots encoded too; long ones end in a hash."""
    name = quote(identifier, safe="").replace(".", "%2E")
    if len(name) > MAX_NAME_LENGTH:
        digest = hashlib.sha256(identifier.encode("utf-8")).hexdigest()
        name = f"{name[: MAX_NAME_LENGTH - 65]}~{digest}"
    return name


def write_atomically(path: Path, data: bytes) -> None:
    if not path.parent.is_dir():
        path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=path.suffix)
    try:
        with os.fdopen(handle, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


class OutboxDeliverer:
    idempotent = True

    def __init__(self, directory: str | os.PathLike[str], sender: Sender) -> None:
        self.directory = Path(directory)
        self.sender = sender

    def describe(self) -> str:
        return f"outbox {self.directory}"

    def deliver(self, campaign_id: str, endpoint_id: str, message: Message) -> Delivered:
        written = self.sender.outbox_file(message, campaign_id, endpoint_id)
        path = self.directory / file_name(campaign_id) / f"{file_name(endpoint_id)}.{written.extension}"
        try:
            write_atomically(path, written.data)
        except OSError as error:
            raise DeliveryError("outbox_write_failed", detail=error.strerror or "") from None
        return Delivered(str(path.relative_to(self.directory)))
