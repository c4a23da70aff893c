"""Zip files so that the same inputs give the same bytes: sorted entries, fixed timestamps and permissions."""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import zipfile
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from transformer.errors import PinrecError

FIXED_TIMESTAMP = (1980, 1, 1, 0, 0, 0)  # the earliest time a zip entry can hold
REGULAR_FILE_MODE = 0o100644  # rw-r--r--: Lambda needs files readable, not writable or executable
UNIX = 3
SKIPPED_DIRECTORIES = frozenset({"__pycache__"})
SKIPPED_SUFFIXES = (".pyc", ".pyo")


class PackageError(PinrecError):
    """The deployment package could not be built; the message says which input and why."""


@dataclass(frozen=True)
class ZipEntry:
    arcname: str
    source: Path


@dataclass(frozen=True)
class ZipSummary:
    path: Path
    files: int
    zipped_bytes: int
    unzipped_bytes: int
    code_sha256: str  # base64 SHA-256, as Lambda reports CodeSha256

    def to_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "files": self.files,
            "zipped_bytes": self.zipped_bytes,
            "unzipped_bytes": self.unzipped_bytes,
            "code_sha256": self.code_sha256,
        }


def tree_entries(root: Path, prefix: str = "", skip_top: Iterable[str] = ()) -> list[ZipEntry]:
    """Every file under `root` (no __pycache__ or compiled files) as entries under `prefix`."""
    skipped_top = set(skip_top)
    entries = []
    for directory, subdirectories, files in os.walk(root):
        relative_directory = Path(directory).relative_to(root)
        subdirectories[:] = [
            name
            for name in subdirectories
            if name not in SKIPPED_DIRECTORIES and not (relative_directory == Path() and name in skipped_top)
        ]
        for name in files:
            if name.endswith(SKIPPED_SUFFIXES) or (relative_directory == Path() and name in skipped_top):
                continue
            relative = (relative_directory / name).as_posix()
            entries.append(ZipEntry(f"{prefix}{relative}", Path(directory) / name))
    return entries


def write_zip(entries: Iterable[ZipEntry], out: Path) -> ZipSummary:
    """Write the entries to `out` (atomically: built aside, then renamed) and summarise the result."""
    ordered = sorted(entries, key=lambda entry: entry.arcname)
    duplicates = sorted(name for name, count in Counter(e.arcname for e in ordered).items() if count > 1)
    if duplicates:
        raise PackageError(f"two inputs would both be {', '.join(duplicates[:5])} in the zip")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(f".{out.name}.partial")
    unzipped = 0
    try:
        with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
            for entry in ordered:
                size = entry.source.stat().st_size
                unzipped += size
                info = zipfile.ZipInfo(entry.arcname, date_time=FIXED_TIMESTAMP)
                info.compress_type = zipfile.ZIP_DEFLATED
                info.create_system = UNIX
                info.external_attr = REGULAR_FILE_MODE << 16
                info.file_size = size
                with entry.source.open("rb") as source, archive.open(info, "w", force_zip64=size > 2**31) as target:
                    shutil.copyfileobj(source, target, 1024 * 1024)
        os.replace(partial, out)
    except OSError as error:
        partial.unlink(missing_ok=True)
        raise PackageError(f"cannot write {out}: {error.strerror or error}") from None
    digest = hashlib.sha256()
    with out.open("rb") as built:
        for block in iter(lambda: built.read(1024 * 1024), b""):
            digest.update(block)
    return ZipSummary(
        path=out,
        files=len(ordered),
        zipped_bytes=out.stat().st_size,
        unzipped_bytes=unzipped,
        code_sha256=base64.b64encode(digest.digest()).decode("ascii"),
    )
