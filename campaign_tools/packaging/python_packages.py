"""Zip entries selected by Python package: a package's code ships, folders of data beside it never do."""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Iterable
from pathlib import Path

from campaign_tools.packaging.reproducible_zip import SKIPPED_SUFFIXES, PackageError, ZipEntry

PACKAGE_MARKER = "__init__.py"


def package_dir(name: str) -> Path:
    """The folder of the regular package `name` (dotted), as this interpreter imports it."""
    spec = importlib.util.find_spec(name)
    if spec is None or spec.origin is None or Path(spec.origin).name != PACKAGE_MARKER:
        raise PackageError(f"{name} is not a Python package with an {PACKAGE_MARKER}, so it cannot be packaged")
    return Path(spec.origin).parent


def _package_tree(name: str) -> list[ZipEntry]:
    """Every file of the package and of its sub-packages; a sub-folder without __init__.py is data and is left out."""
    root = package_dir(name)
    prefix = name.replace(".", "/")
    entries = []
    for directory, subdirectories, files in os.walk(root):
        folder = Path(directory)
        subdirectories[:] = [child for child in subdirectories if (folder / child / PACKAGE_MARKER).is_file()]
        relative = folder.relative_to(root).as_posix()
        arcdir = prefix if relative == "." else f"{prefix}/{relative}"
        entries += [
            ZipEntry(f"{arcdir}/{file}", folder / file) for file in files if not file.endswith(SKIPPED_SUFFIXES)
        ]
    return entries


def _parent_markers(name: str) -> list[ZipEntry]:
    """The __init__.py of each package above `name`, without which the selected sub-package does not import."""
    parts = name.split(".")
    parents = [".".join(parts[:depth]) for depth in range(1, len(parts))]
    return [
        ZipEntry(f"{parent.replace('.', '/')}/{PACKAGE_MARKER}", package_dir(parent) / PACKAGE_MARKER)
        for parent in parents
    ]


def package_entries(names: Iterable[str]) -> list[ZipEntry]:
    """The zip entries of the named packages (dotted names): all their files and their sub-packages', never
    __pycache__ or compiled files, plus their parent packages' __init__.py."""
    selected: dict[str, ZipEntry] = {}
    for name in names:
        for entry in [*_parent_markers(name), *_package_tree(name)]:
            selected.setdefault(entry.arcname, entry)
    return list(selected.values())
