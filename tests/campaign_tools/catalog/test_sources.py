"""`pinrec catalog load` sources and formats: JSONL, CSV, gzip by content, stdin, S3; bad input named by line."""

from __future__ import annotations

import gzip
import io
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from campaign_tools.cli import main
from tests.store_fixtures import aws, client, create_bucket  # noqa: F401
from transformer.stores.sqlite import SqliteItemStore


def load(*arguments: str) -> int:
    return main(["catalog", "load", *arguments])


def items_in(catalog: Path) -> dict[str, Any]:
    store = SqliteItemStore(catalog)
    try:
        connection = store._connection
        return {row[0]: json.loads(row[1]) for row in connection.execute("SELECT id, doc FROM items")}
    finally:
        store.close()


def jsonl(*items: dict[str, Any]) -> str:
    return "".join(json.dumps(item) + "\n" for item in items)


def test_jsonl_keeps_value_types(tmp_path: Path) -> None:
    source = tmp_path / "items.jsonl"
    source.write_text(jsonl({"id": 7, "price": 19.99, "n": 3, "ok": True, "tags": ["a"], "dims": {"w": 1.5}}))
    assert load(str(source), "--store", f"sqlite:{tmp_path / 'c.db'}") == 0
    assert items_in(tmp_path / "c.db") == {
        "7": {"id": "7", "price": 19.99, "n": 3, "ok": True, "tags": ["a"], "dims": {"w": 1.5}}
    }


def test_gzip_is_recognised_by_content_not_name(tmp_path: Path) -> None:
    source = tmp_path / "export.bin"
    source.write_bytes(gzip.compress(b"id,name\nA1,Lamp\n"))
    assert load(str(source), "--source-format", "csv", "--store", f"sqlite:{tmp_path / 'c.db'}") == 0
    assert items_in(tmp_path / "c.db") == {"A1": {"id": "A1", "name": "Lamp"}}


def test_the_earlier_format_flag_still_works(tmp_path: Path) -> None:
    source = tmp_path / "export.bin"
    source.write_bytes(b"id,name\nA1,Lamp\n")
    assert load(str(source), "--format", "csv", "--store", f"sqlite:{tmp_path / 'c.db'}") == 0
    assert items_in(tmp_path / "c.db") == {"A1": {"id": "A1", "name": "Lamp"}}


def test_format_is_sniffed_when_the_name_says_nothing(tmp_path: Path) -> None:
    (tmp_path / "a").write_bytes(gzip.compress(jsonl({"id": "x"}).encode()))
    (tmp_path / "b").write_text("id,n\ny,2\n")
    assert load(str(tmp_path / "a"), "--store", f"sqlite:{tmp_path / 'a.db'}") == 0
    assert load(str(tmp_path / "b"), "--store", f"sqlite:{tmp_path / 'b.db'}") == 0
    assert items_in(tmp_path / "a.db") == {"x": {"id": "x"}}
    assert items_in(tmp_path / "b.db") == {"y": {"id": "y", "n": 2}}


def test_stdin_source(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    data = gzip.compress(jsonl({"id": "s1"}, {"id": "s2"}).encode())
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BufferedReader(io.BytesIO(data))))
    assert load("-", "--store", f"sqlite:{tmp_path / 'c.db'}") == 0
    assert set(items_in(tmp_path / "c.db")) == {"s1", "s2"}


def test_s3_source_streams_from_the_bucket(aws: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:  # noqa: F811
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws)
    bucket = create_bucket(aws)
    body = gzip.compress(jsonl(*({"id": f"i{n}", "n": n} for n in range(3000))).encode())
    client("s3", aws).put_object(Bucket=bucket, Key="exports/items.jsonl.gz", Body=body)
    assert load(f"s3://{bucket}/exports/items.jsonl.gz", "--store", f"sqlite:{tmp_path / 'c.db'}") == 0
    assert len(items_in(tmp_path / "c.db")) == 3000
    assert load(f"s3://{bucket}/missing.jsonl", "--store", f"sqlite:{tmp_path / 'c.db'}") == 1


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (jsonl({"id": "a"}) + '{"id": "b", "name": }\n', "line 2: not valid JSON"),
        (jsonl({"id": "a"}, {"name": "no id"}), "line 2: the key field 'id' is missing"),
        (jsonl({"id": "a"}) + '{"id": "b", "price": NaN}\n', "line 2: NaN is not a number"),
        (jsonl({"id": "a"}) + "[1, 2]\n", "line 2: expected a JSON object"),
        (jsonl({"id": "a"}, {"id": ""}), "line 2: the key field 'id' must be a non-empty string"),
    ],
)
def test_a_bad_record_fails_the_load_naming_its_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    source = tmp_path / "items.jsonl"
    source.write_text(content)
    assert load(str(source), "--store", f"sqlite:{tmp_path / 'c.db'}") == 1
    assert message in capsys.readouterr().err
    assert not (tmp_path / "c.db").exists()


def test_csv_problems_name_their_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "items.csv"
    source.write_text("id,name\na,A\nb,B,extra\n")
    assert load(str(source), "--store", f"sqlite:{tmp_path / 'c.db'}") == 1
    assert "line 3: 3 fields, the header has 2" in capsys.readouterr().err
    source.write_text("sku,name\na,A\n")
    assert load(str(source), "--store", f"sqlite:{tmp_path / 'c.db'}") == 1
    assert "no key column 'id'" in capsys.readouterr().err


def test_skip_invalid_reports_each_rejected_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "items.jsonl"
    source.write_text(jsonl({"id": "a"}) + "not json\n" + jsonl({"name": "x"}, {"id": "b"}))
    assert load(str(source), "--skip-invalid", "--store", f"sqlite:{tmp_path / 'c.db'}") == 0
    output = capsys.readouterr()
    assert f"rejected {source}: line 2: not valid JSON" in output.err
    assert f"rejected {source}: line 3: the key field 'id' is missing" in output.err
    assert "2 rejected" in output.out
    assert set(items_in(tmp_path / "c.db")) == {"a", "b"}


def test_a_truncated_gzip_fails_and_changes_nothing(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    catalog = tmp_path / "c.db"
    good = tmp_path / "good.jsonl"
    good.write_text(jsonl({"id": "old"}))
    assert load(str(good), "--store", f"sqlite:{catalog}") == 0
    data = gzip.compress(jsonl(*({"id": f"n{n}", "pad": "x" * 50} for n in range(5000))).encode())
    truncated = tmp_path / "items.jsonl.gz"
    truncated.write_bytes(data[: len(data) // 2])
    assert load(str(truncated), "--skip-invalid", "--store", f"sqlite:{catalog}") == 1
    assert "gzip data is truncated or corrupt" in capsys.readouterr().err
    assert items_in(catalog) == {"old": {"id": "old"}}


def test_non_utf8_source_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "items.jsonl"
    source.write_bytes(b'{"id": "a"}\n{"id": "\xff"}\n')
    assert load(str(source), "--store", f"sqlite:{tmp_path / 'c.db'}") == 1
    assert "not UTF-8" in capsys.readouterr().err


def test_duplicate_ids_last_wins_and_are_reported(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "items.jsonl"
    source.write_text(jsonl({"id": "a", "v": 1}, {"id": "b"}, {"id": "a", "v": 2}))
    assert load(str(source), "--store", f"sqlite:{tmp_path / 'c.db'}") == 0
    assert "1 duplicate ids in the source; the last record of each won (e.g. a)" in capsys.readouterr().out
    assert items_in(tmp_path / "c.db")["a"] == {"id": "a", "v": 2}


def test_a_sqlite_catalog_in_s3_is_built_locally_and_published(
    aws: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws)
    bucket = create_bucket(aws)
    config = tmp_path / "pinrec.toml"
    config.write_text(f'[store]\nkind = "sqlite"\npath = "s3://{bucket}/c.db"\n[attributes.N]\nfield = "n"\n')
    (tmp_path / "one.jsonl").write_text(jsonl({"id": "a", "n": 1}, {"id": "b", "n": 1}))
    (tmp_path / "two.jsonl").write_text(jsonl({"id": "b", "n": 2}))
    assert load(str(tmp_path / "one.jsonl"), "--config", str(config)) == 0
    assert load(str(tmp_path / "two.jsonl"), "--config", str(config), "--allow-shrink") == 0
    assert "0 added, 1 replaced, 1 purged" in capsys.readouterr().out
    assert main(["catalog", "get", "b", "--config", str(config)]) == 0
    assert json.loads(capsys.readouterr().out) == {"id": "b", "n": 2}
    assert main(["catalog", "stats", "--config", str(config)]) == 0
    assert "items      1" in capsys.readouterr().out


def test_json_numbers_keep_their_exact_values(tmp_path: Path) -> None:
    source = tmp_path / "items.jsonl"
    source.write_text(
        '{"id": "a", "big": 123456789012345678901234567890, "nested": {"n": [-98765432109876543210]}, '
        '"price": 19.99, "tiny": 1e-7, "large": 2.5e20}\n'
    )
    assert load(str(source), "--store", f"sqlite:{tmp_path / 'c.db'}") == 0
    item = items_in(tmp_path / "c.db")["a"]
    assert item["big"] == 123456789012345678901234567890
    assert item["nested"] == {"n": [-98765432109876543210]}
    assert (item["price"], item["tiny"], item["large"]) == (19.99, 1e-7, 2.5e20)
