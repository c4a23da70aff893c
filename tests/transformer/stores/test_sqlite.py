"""The SQLite backend: its `[store]` model, the reader following swapped files, the snapshot writer, the stats."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from campaign_tools.catalog.records import read_jsonl
from tests.campaign_tools.catalog.test_sources import jsonl
from tests.conftest import write_catalog
from transformer.errors import ConfigError
from transformer.stores.base import CatalogLoadError, LoadOptions, Record
from transformer.stores.sqlite import SqliteItemStore, SqliteStoreConfig, write_snapshot


def test_relative_paths_resolve_against_the_config_and_only_local_files_are_bundled() -> None:
    local = SqliteStoreConfig(kind="sqlite", path="data/c.db")
    assert local.resolved(Path("/srv/app")).path == "/srv/app/data/c.db"
    assert local.bundled_file() == "data/c.db"
    absolute = SqliteStoreConfig(kind="sqlite", path="/var/c.db")
    assert absolute.resolved(Path("/srv/app")) == absolute
    in_s3 = SqliteStoreConfig(kind="sqlite", path="s3://bucket/c.db")
    assert in_s3.resolved(Path("/srv/app")) == in_s3
    assert in_s3.bundled_file() is None
    assert (local.describe(), in_s3.location) == ("catalog data/c.db", "s3://bucket/c.db")


def test_load_then_read_through_the_store_config(tmp_path: Path) -> None:
    store = SqliteStoreConfig(kind="sqlite", path=str(tmp_path / "c.db"), key="sku")
    lines = [jsonl({"sku": "a", "n": 1}), jsonl({"sku": "b"}), jsonl({"sku": "a", "n": 2})]
    summary = store.load(read_jsonl(lines, "sku"), LoadOptions(source="items.jsonl"))
    assert (summary.records, summary.loaded, summary.added, summary.duplicates) == (3, 2, 2, 1)
    with store.reading() as reader:
        assert reader.get_many(["a", "zz"]) == {"a": {"sku": "a", "n": 2}}
    stats = store.stats()
    assert stats.figures["items"] == 2
    assert (stats.figures["key_field"], stats.figures["source"]) == ("sku", "items.jsonl")
    assert stats.lines[:2] == [f"catalog    {tmp_path / 'c.db'}", "items      2"]


def test_a_merge_keeps_other_items_and_an_empty_snapshot_is_refused(tmp_path: Path) -> None:
    store = SqliteStoreConfig(kind="sqlite", path=str(tmp_path / "c.db"))
    store.load(read_jsonl([jsonl({"id": "a"}), jsonl({"id": "b"})], "id"), LoadOptions())
    merged = store.load(read_jsonl([jsonl({"id": "b", "v": 2}), jsonl({"id": "c"})], "id"), LoadOptions(merge=True))
    assert (merged.added, merged.replaced, merged.purged, merged.total) == (1, 1, 0, 3)
    with pytest.raises(CatalogLoadError, match="refusing to replace the catalog with an empty one"):
        store.load(iter(()), LoadOptions())
    assert store.load(iter(()), LoadOptions(allow_empty=True)).purged == 3


def test_the_reader_follows_a_swapped_file_and_refuses_what_is_not_a_catalog(tmp_path: Path) -> None:
    catalog = write_catalog(tmp_path / "c.db", [{"id": "a", "v": 1}])
    reader = SqliteItemStore(catalog)
    write_catalog(tmp_path / "c.db", [{"id": "a", "v": 2}])
    assert reader.get_many(["a"]) == {"a": {"id": "a", "v": 2}}
    (tmp_path / "notes.db").write_text("my notes", encoding="utf-8")
    with pytest.raises(ConfigError, match="is not a pinrec SQLite catalog"):
        SqliteItemStore(tmp_path / "notes.db")
    with pytest.raises(ConfigError, match="does not exist"):
        SqliteItemStore(tmp_path / "none.db")


def test_an_exception_mid_stream_leaves_the_previous_snapshot_serving(tmp_path: Path) -> None:
    catalog = tmp_path / "c.db"
    write_snapshot(read_jsonl([jsonl({"id": "old"})], "id"), catalog, key="id", source="first")
    reader = SqliteItemStore(catalog)

    def failing() -> Iterator[Record]:
        yield from read_jsonl([jsonl({"id": f"n{n}"}) for n in range(20_000)], "id")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_snapshot(failing(), catalog, key="id", source="second")
    assert reader.get_many(["old", "n1"]) == {"old": {"id": "old"}}
    assert sorted(os.listdir(tmp_path)) == ["c.db"]  # the half-built file was removed
