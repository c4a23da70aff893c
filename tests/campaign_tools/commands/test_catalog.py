"""`pinrec catalog load|get|stats` on SQLite: full snapshots, atomic swaps, errors that name the line."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from campaign_tools.cli import main
from transformer.stores.sqlite import SqliteItemStore


def _jsonl(path: Path, items: list[dict]) -> Path:
    path.write_text("".join(json.dumps(item) + "\n" for item in items), encoding="utf-8")
    return path


def _load(source: Path, catalog: Path, *extra: str) -> int:
    return main(["catalog", "load", str(source), "--store", f"sqlite:{catalog}", *extra])


def test_load_is_a_full_snapshot(tmp_path, capsys):
    catalog = tmp_path / "catalog.db"
    assert _load(_jsonl(tmp_path / "a.jsonl", [{"id": "1", "n": "a"}, {"id": "2", "n": "b"}]), catalog) == 0
    second = _jsonl(tmp_path / "b.jsonl", [{"id": "2", "n": "B"}, {"id": 3, "n": "c", "price": 1.5}])
    assert _load(second, catalog, "--allow-shrink") == 0  # item 1 of 2 goes: told to
    out = capsys.readouterr().out
    assert "loaded 2 items" in out
    assert "1 added, 1 replaced, 1 purged, 0 rejected; it now holds 2 items" in out
    store = SqliteItemStore(catalog)
    assert store.get_many(["1", "2", "3"]) == {"2": {"id": "2", "n": "B"}, "3": {"id": "3", "n": "c", "price": 1.5}}


def test_duplicate_ids_last_wins_and_are_reported(tmp_path, capsys):
    catalog = tmp_path / "catalog.db"
    items = [{"id": "1", "v": 1}, {"id": "2", "v": 1}, {"id": "1", "v": 2}, {"id": "1", "v": 3}]
    assert _load(_jsonl(tmp_path / "a.jsonl", items), catalog) == 0
    assert "2 duplicate ids in the source; the last record of each won (e.g. 1)" in capsys.readouterr().out
    assert SqliteItemStore(catalog).get_many(["1"]) == {"1": {"id": "1", "v": 3}}


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (['{"id": "1"}', '{"id": "2",}'], "line 2: not valid JSON"),
        (['{"id": "1"}', "", '["id"]'], "line 3: expected a JSON object, got list"),
        (['{"id": "1"}', '{"sku": "2"}'], "line 2: the key field 'id' is missing"),
        (['{"id": ""}'], "line 1: the key field 'id' must be a non-empty string or an integer"),
        (['{"id": 1.5}'], "line 1: the key field 'id' must be a non-empty string or an integer"),
        ([""], "the source holds no items; refusing to replace the catalog with an empty one"),
    ],
)
def test_a_bad_source_fails_and_the_previous_catalog_keeps_serving(tmp_path, capsys, lines, message):
    catalog = tmp_path / "catalog.db"
    assert _load(_jsonl(tmp_path / "good.jsonl", [{"id": "keep", "n": 1}]), catalog) == 0
    before = catalog.read_bytes()
    bad = tmp_path / "bad.jsonl"
    bad.write_text("\n".join(lines) + "\n", encoding="utf-8")
    assert _load(bad, catalog) == 1
    assert f"pinrec: error: {message}" in capsys.readouterr().err.replace(f"{bad}: ", "")
    assert catalog.read_bytes() == before
    assert [path.name for path in tmp_path.iterdir() if path.name.startswith(".catalog.db")] == []


def test_refuses_to_overwrite_a_file_that_is_not_a_catalog(tmp_path, capsys):
    precious = tmp_path / "notes.db"
    precious.write_text("my notes", encoding="utf-8")
    assert _load(_jsonl(tmp_path / "a.jsonl", [{"id": "1"}]), precious) == 1
    assert "is not a pinrec catalog; refusing to replace it" in capsys.readouterr().err
    assert precious.read_text() == "my notes"


def test_non_utf8_source_is_rejected(tmp_path, capsys):
    source = tmp_path / "latin1.jsonl"
    source.write_bytes('{"id": "caf\xe9"}\n'.encode("latin-1"))
    assert _load(source, tmp_path / "c.db") == 1
    assert "not UTF-8 text near line 1 (invalid continuation byte); nothing was changed" in capsys.readouterr().err


def test_a_killed_load_leaves_the_previous_catalog_serving(tmp_path):
    catalog = tmp_path / "catalog.db"
    assert _load(_jsonl(tmp_path / "good.jsonl", [{"id": "old", "n": 1}]), catalog) == 0
    reader = SqliteItemStore(catalog)
    fifo = tmp_path / "stream.jsonl"
    os.mkfifo(fifo)
    loader = subprocess.Popen(
        [sys.executable, "-m", "campaign_tools.cli", "catalog", "load", str(fifo), "--store", f"sqlite:{catalog}"],
        stderr=subprocess.PIPE,
    )
    with open(fifo, "w", encoding="utf-8") as writer:
        for index in range(20_000):
            writer.write(json.dumps({"id": f"new-{index}"}) + "\n")
        writer.flush()
        time.sleep(0.3)  # the loader is mid-stream, waiting for more lines
        loader.send_signal(signal.SIGKILL)
    loader.wait(timeout=10)
    assert loader.returncode == -signal.SIGKILL
    assert reader.get_many(["old", "new-1"]) == {"old": {"id": "old", "n": 1}}
    assert SqliteItemStore(catalog).get_many(["old", "new-1"]) == {"old": {"id": "old", "n": 1}}
    abandoned = list(tmp_path.glob(".catalog.db.loading-*"))
    assert len(abandoned) == 1, "the killed loader's half-built file is left aside, never swapped in"
    assert _load(_jsonl(tmp_path / "next.jsonl", [{"id": "next"}]), catalog, "--allow-shrink") == 0
    assert list(tmp_path.glob(".catalog.db.loading-*")) == [], "the next load removes it"


def test_a_running_reader_sees_a_new_snapshot_after_the_swap(tmp_path):
    catalog = tmp_path / "catalog.db"
    assert _load(_jsonl(tmp_path / "a.jsonl", [{"id": "1", "n": "old"}]), catalog) == 0
    reader = SqliteItemStore(catalog)
    assert reader.get_many(["1"]) == {"1": {"id": "1", "n": "old"}}
    assert _load(_jsonl(tmp_path / "b.jsonl", [{"id": "1", "n": "new"}]), catalog) == 0
    assert reader.get_many(["1"]) == {"1": {"id": "1", "n": "new"}}


def test_get_and_stats(tmp_path, capsys):
    catalog = tmp_path / "catalog.db"
    _load(_jsonl(tmp_path / "a.jsonl", [{"id": "1", "n": "x"}, {"id": "2", "n": "y"}]), catalog)
    capsys.readouterr()
    assert main(["catalog", "get", "2", "missing", "--store", f"sqlite:{catalog}"]) == 1
    captured = capsys.readouterr()
    assert json.loads(captured.out) == {"id": "2", "n": "y"}
    assert "not in the catalog: missing" in captured.err
    assert main(["catalog", "stats", "--store", f"sqlite:{catalog}"]) == 0
    out = capsys.readouterr().out
    assert "items      2" in out
    assert "a.jsonl" in out


def test_load_uses_the_store_and_key_of_a_config(tmp_path):
    (tmp_path / "pinrec.toml").write_text(
        '[store]\nkind = "sqlite"\npath = "data/cat.db"\nkey = "sku"\n[attributes.Title]\nfield = "name"\n',
        encoding="utf-8",
    )
    source = _jsonl(tmp_path / "a.jsonl", [{"sku": "S-1", "name": "Boot"}])
    assert main(["catalog", "load", str(source), "--config", str(tmp_path / "pinrec.toml")]) == 0
    assert SqliteItemStore(tmp_path / "data" / "cat.db").get_many(["S-1"]) == {"S-1": {"sku": "S-1", "name": "Boot"}}


def test_store_option_is_validated(tmp_path, capsys):
    assert main(["catalog", "stats", "--store", "postgres:x"]) == 1
    assert "unknown store kind 'postgres'" in capsys.readouterr().err


def test_summaries_as_json(tmp_path, capsys):
    catalog = tmp_path / "catalog.db"
    source = _jsonl(tmp_path / "a.jsonl", [{"id": "1", "n": "x"}, {"id": "2"}, {"id": "1", "n": "y"}])
    assert _load(source, catalog, "--output", "json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["store"] == {"kind": "sqlite", "location": str(catalog)}
    assert {name: summary[name] for name in ("records", "loaded", "added", "purged", "total", "duplicates")} == {
        "records": 3,
        "loaded": 2,
        "added": 2,
        "purged": 0,
        "total": 2,
        "duplicates": 1,
    }
    assert summary["duplicate_examples"] == ["1"]
    assert summary["seconds"] >= 0 and summary["records_per_second"] >= 0
    assert main(["catalog", "get", "1", "9", "--store", f"sqlite:{catalog}", "--output", "json"]) == 1
    assert json.loads(capsys.readouterr().out) == {"items": [{"id": "1", "n": "y"}], "missing": ["9"], "damaged": {}}
    assert main(["catalog", "stats", "--store", f"sqlite:{catalog}", "--output", "json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert stats["items"] == 2 and stats["key_field"] == "id" and stats["source"] == str(source)
    assert stats["size_bytes"] == catalog.stat().st_size


def test_load_settings_report_every_problem_at_once(tmp_path):
    from campaign_tools.catalog.load import CatalogLoadSettings
    from campaign_tools.catalog.target import resolve_target
    from transformer.stores.base import CatalogLoadError

    target = resolve_target(f"sqlite:{tmp_path / 'c.db'}", None)
    with pytest.raises(CatalogLoadError) as raised:
        CatalogLoadSettings(source="a.jsonl", target=target, format="jsonl", string_columns=("sku",), concurrency=0)
    assert str(raised.value).splitlines() == [
        "invalid catalog load:",
        "  - --concurrency must be at least 1",
        "  - --string-columns applies to CSV sources only",
    ]


def test_load_catalog_is_the_library_call_behind_the_command(tmp_path):
    from campaign_tools.catalog.load import CatalogLoadSettings, load_catalog
    from campaign_tools.catalog.target import resolve_target

    source = tmp_path / "a.jsonl"
    source.write_text('{"id": "a"}\nnot json\n{"id": "b"}\n', encoding="utf-8")
    target = resolve_target(f"sqlite:{tmp_path / 'c.db'}", None)
    rejected: list[str] = []
    summary = load_catalog(
        CatalogLoadSettings(source=str(source), target=target, skip_invalid=True),
        on_reject=lambda problem: rejected.append(str(problem)),
    )
    assert (summary.loaded, summary.rejected) == (2, 1)
    assert rejected == [f"{source}: line 2: not valid JSON (Expecting value at column 1)"]
    assert SqliteItemStore(tmp_path / "c.db").get_many(["a", "b"]) == {"a": {"id": "a"}, "b": {"id": "b"}}
