"""SQLite snapshots: replace or merge, and an interrupted load (exception or killed process) changes nothing."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from campaign_tools.catalog.records import read_jsonl
from campaign_tools.cli import main
from tests.campaign_tools.catalog.test_sources import items_in, jsonl
from transformer.stores.sqlite import SqliteItemStore, write_snapshot


def test_snapshot_replaces_and_merge_upserts(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog = tmp_path / "c.db"
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first.write_text(jsonl({"id": "a", "v": 1}, {"id": "b", "v": 1}))
    second.write_text(jsonl({"id": "b", "v": 2}, {"id": "c", "v": 2}))
    assert main(["catalog", "load", str(first), "--store", f"sqlite:{catalog}"]) == 0
    assert main(["catalog", "load", str(second), "--store", f"sqlite:{catalog}", "--merge"]) == 0
    assert "1 added, 1 replaced, 0 purged" in capsys.readouterr().out
    assert items_in(catalog) == {"a": {"id": "a", "v": 1}, "b": {"id": "b", "v": 2}, "c": {"id": "c", "v": 2}}
    assert main(["catalog", "load", str(first), "--store", f"sqlite:{catalog}", "--allow-shrink"]) == 0
    assert "0 added, 2 replaced, 1 purged" in capsys.readouterr().out
    assert items_in(catalog) == {"a": {"id": "a", "v": 1}, "b": {"id": "b", "v": 1}}


def test_an_empty_source_never_empties_the_catalog_by_accident(tmp_path: Path) -> None:
    catalog = tmp_path / "c.db"
    (tmp_path / "one.jsonl").write_text(jsonl({"id": "a"}))
    (tmp_path / "empty.jsonl").write_text("\n")
    assert main(["catalog", "load", str(tmp_path / "one.jsonl"), "--store", f"sqlite:{catalog}"]) == 0
    assert main(["catalog", "load", str(tmp_path / "empty.jsonl"), "--store", f"sqlite:{catalog}"]) == 1
    assert set(items_in(catalog)) == {"a"}


def test_a_killed_loader_leaves_the_previous_snapshot_serving(tmp_path: Path) -> None:
    catalog = tmp_path / "c.db"
    write_snapshot(read_jsonl([jsonl({"id": "old"})], "id"), catalog, key="id", source="first")
    reader = SqliteItemStore(catalog)
    loader = subprocess.Popen(
        [sys.executable, "-m", "campaign_tools.cli", "catalog", "load", "-", "--store", f"sqlite:{catalog}"],
        stdin=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    assert loader.stdin is not None
    try:
        loader.stdin.write("".join(json.dumps({"id": f"n{n}"}) + "\n" for n in range(30_000)).encode())
        loader.stdin.flush()
        deadline = time.monotonic() + 30
        while not any(name.startswith(".c.db.loading-") for name in os.listdir(tmp_path)):
            assert time.monotonic() < deadline, "the loader never started building"
            time.sleep(0.05)
        loader.send_signal(signal.SIGKILL)  # mid-load: the source is still open
    finally:
        loader.wait(timeout=30)
        loader.stdin.close()
    assert reader.get_many(["old", "n1"]) == {"old": {"id": "old"}}
    assert SqliteItemStore(catalog).get_many(["old", "n1"]) == {"old": {"id": "old"}}


def test_a_load_through_a_configuration_stores_its_attribute_values(tmp_path: Path) -> None:
    from transformer.config import load_config
    from transformer.precompute import attributes_fingerprint
    from transformer.stores.base import Precomputed

    catalog, source, config = tmp_path / "c.db", tmp_path / "items.jsonl", tmp_path / "pinrec.toml"
    source.write_text(jsonl({"id": "a", "name": "Alpha", "price": 2.5}, {"id": "b", "price": 1}))
    config.write_text(
        f'[store]\nkind = "sqlite"\npath = "{catalog}"\n'
        '[attributes.Title]\nfield = "name"\n'
        "[attributes.Price]\ntemplate = \"{{ '%.2f' | format(item.price) }}\"\n"
    )
    assert main(["catalog", "load", str(source), "--config", str(config)]) == 0
    fingerprint = attributes_fingerprint(load_config(config).attributes)
    store = SqliteItemStore(catalog)
    assert store.get_precomputed(["a", "b"], fingerprint) == {
        "a": Precomputed(("Alpha", "2.50")),
        "b": Precomputed(None),  # no name and no default: no_value, as rendering says
    }
    assert store.get_precomputed(["a"], "another configuration") == {"a": {"id": "a", "name": "Alpha", "price": 2.5}}
    store.close()
    assert main(["catalog", "load", str(source), "--store", f"sqlite:{catalog}"]) == 0  # no configuration: none
    store = SqliteItemStore(catalog)
    assert store.get_precomputed(["a"], fingerprint) == {"a": {"id": "a", "name": "Alpha", "price": 2.5}}
    store.close()
