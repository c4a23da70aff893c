"""An experiment, not part of pinrec: what the SQLite hot and steady figures would be if the whole-batch response
(`transformer.enrich._all_known`'s dicts and lists) were built by a C extension (`builder.c`, ~100 lines).

pinrec ships no native code: the Lambda package is pinrec's Python source plus manylinux wheels of its dependencies
(`campaign_tools.packaging`), and a C extension would need its own wheels per Lambda architecture and Python version.
This measures what that would buy, so the decision can be taken on figures (bench/RESULTS.md, "Issue 16, fourth
round"). `python -m bench.native_builder` compiles it with this machine's C compiler and Python headers.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import shutil
import subprocess
import sysconfig
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType
from typing import Any

from transformer import enrich
from transformer.attributes import ItemValues
from transformer.items import ItemReason

SOURCE = Path(__file__).with_name("builder.c")


class NoCompiler(RuntimeError):
    """This machine cannot build the extension (no C compiler, or no Python headers)."""


def compile_builder(work: Path) -> Path:
    """The extension, compiled into `work`: its library file."""
    compiler = shutil.which("cc") or shutil.which("gcc")
    include = Path(sysconfig.get_paths()["include"])
    if compiler is None or not (include / "Python.h").exists():
        raise NoCompiler(f"needs a C compiler and {include / 'Python.h'}")
    work.mkdir(parents=True, exist_ok=True)
    library = work / f"native_builder{importlib.machinery.EXTENSION_SUFFIXES[0]}"
    command = [compiler, "-O2", "-shared", "-fPIC", f"-I{include}", str(SOURCE), "-o", str(library)]
    result = subprocess.run(command, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise NoCompiler(result.stderr.strip()[-2000:])
    return library


def load_builder(library: Path) -> ModuleType:
    """The compiled extension, imported from its library file."""
    spec = importlib.util.spec_from_file_location("native_builder", library)
    if spec is None or spec.loader is None:
        raise NoCompiler(f"cannot import {library}")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def native_all_known(builder: ModuleType) -> Any:
    """`_all_known` with the response built by `builder`: the same contract (tests/bench/test_native_builder.py)."""

    def all_known(
        endpoints: Mapping[str, Any],
        batch: Any,
        values: Mapping[str, ItemValues | ItemReason],
        policy: enrich.Policy,
    ) -> enrich.Enrichment | None:
        bodies, id_lists, unique_ids = batch
        if min(map(len, id_lists)) < policy.min_items or type(values) is not dict:
            return None
        copies = builder.build(bodies, id_lists, values, tuple(policy.attribute_names), enrich.RECOMMENDATIONS)
        if copies is None:
            return None
        requested = sum(map(len, id_lists))
        return enrich.Enrichment(
            response=dict(zip(endpoints, copies, strict=True)),
            endpoints_in=len(bodies),
            items_requested=requested,
            items_resolved=requested,
            unique_ids=len(unique_ids),
        )

    return all_known


def use_native_builder(library: Path) -> None:
    """From now on in this process, `transformer.enrich.enrich` builds well-formed batches with the extension."""
    enrich._all_known = native_all_known(load_builder(library))
