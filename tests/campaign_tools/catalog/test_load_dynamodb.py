"""Loading into DynamoDB (moto over loopback): versioned snapshot, purge after a complete load, merge, exact
numbers, and failures that purge nothing while the transformer keeps resolving the previous items."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from campaign_tools.cli import main
from tests.campaign_tools.catalog.test_sources import jsonl
from tests.store_fixtures import REGION, aws, client, create_table  # noqa: F401
from transformer.attributes import scalar_text
from transformer.aws import AwsOptions
from transformer.stores.dynamodb import (
    LOAD_VERSION_ATTRIBUTE,
    DynamoDbItemStore,
)


def load(source: Path, table: str, endpoint: str, *extra: str) -> int:
    return main(["catalog", "load", str(source), "--store", f"dynamodb:{table}", "--endpoint-url", endpoint, *extra])


def scan(endpoint: str, table: str) -> dict[str, dict[str, Any]]:
    pages = client("dynamodb", endpoint).get_paginator("scan").paginate(TableName=table)
    return {item["id"]["S"]: item for page in pages for item in page["Items"]}


def store(endpoint: str, table: str) -> DynamoDbItemStore:
    return DynamoDbItemStore(table, aws=AwsOptions(region=REGION, endpoint_url=endpoint))


def test_snapshot_loads_then_purges_older_versions(
    aws: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    table = create_table(aws)
    first, second = tmp_path / "first.jsonl", tmp_path / "second.jsonl"
    first.write_text(jsonl(*({"id": f"p{n}", "price": 19.99, "v": 1} for n in range(60))))
    second.write_text(jsonl(*({"id": f"p{n}", "price": 0.1, "v": 2} for n in range(30, 90))))
    assert load(first, table, aws) == 0
    assert "60 added, 0 replaced, 0 purged" in capsys.readouterr().out
    assert load(second, table, aws, "--allow-shrink") == 0  # half the catalog goes: told to
    assert "30 added, 30 replaced, 30 purged" in capsys.readouterr().out
    items = scan(aws, table)
    assert set(items) == {f"p{n}" for n in range(30, 90)}
    assert len({item[LOAD_VERSION_ATTRIBUTE]["S"] for item in items.values()}) == 1
    found = store(aws, table).get_many(["p30", "p0"])
    assert found == {"p30": {"id": "p30", "price": 0.1, "v": 2}}
    assert scalar_text(found["p30"]["price"]) == "0.1"


def test_merge_upserts_without_purging(aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    table = create_table(aws)
    (tmp_path / "a.jsonl").write_text(jsonl({"id": "a"}, {"id": "b", "v": 1}))
    (tmp_path / "b.jsonl").write_text(jsonl({"id": "b", "v": 2}, {"id": "c"}))
    assert load(tmp_path / "a.jsonl", table, aws) == 0
    assert load(tmp_path / "b.jsonl", table, aws, "--merge") == 0
    assert "1 added, 1 replaced, 0 purged" in capsys.readouterr().out.splitlines()[-1]
    assert store(aws, table).get_many(["a", "b", "c"]) == {"a": {"id": "a"}, "b": {"id": "b", "v": 2}, "c": {"id": "c"}}


def test_duplicates_last_wins_even_within_one_write_batch(
    aws: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    table = create_table(aws)
    source = tmp_path / "dups.jsonl"
    source.write_text(jsonl({"id": "a", "v": 1}, {"id": "b"}, {"id": "a", "v": 2}, {"id": "a", "v": 3}))
    assert load(source, table, aws) == 0
    assert "2 duplicate ids in the source; the last record of each won (e.g. a, a)" in capsys.readouterr().out
    assert store(aws, table).get_many(["a"]) == {"a": {"id": "a", "v": 3}}


def test_a_malformed_record_fails_before_any_purge_and_old_items_keep_serving(
    aws: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    table = create_table(aws)
    (tmp_path / "old.jsonl").write_text(jsonl(*({"id": f"old{n}", "name": "Old"} for n in range(40))))
    assert load(tmp_path / "old.jsonl", table, aws) == 0
    bad = tmp_path / "bad.jsonl"
    bad.write_text(jsonl(*({"id": f"new{n}"} for n in range(50))) + '{"id": "x", "oops"}\n' + jsonl({"id": "z"}))
    assert load(bad, table, aws) == 1
    assert "line 51: not valid JSON" in capsys.readouterr().err
    found = store(aws, table).get_many([f"old{n}" for n in range(40)])
    assert len(found) == 40  # nothing purged: the transformer still resolves every previous item


def test_skip_invalid_rejects_items_dynamodb_cannot_hold(
    aws: str,  # noqa: F811
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    table = create_table(aws)
    source = tmp_path / "items.jsonl"
    source.write_text(
        jsonl(
            {"id": "ok"},
            {"id": "huge", "blob": "x" * 500_000},
            {"id": "r", LOAD_VERSION_ATTRIBUTE: "x"},
            {"id": "k" * 2049},
        )
    )
    assert load(source, table, aws, "--skip-invalid") == 0
    output = capsys.readouterr()
    assert f"rejected {source}: line 2: the item is larger than DynamoDB's 400 KB item limit" in output.err
    assert f"rejected {source}: line 3: the field '_pinrec_load' is reserved" in output.err
    assert f"rejected {source}: line 4: the id is longer than DynamoDB's 2048-byte key limit" in output.err
    assert set(scan(aws, table)) == {"ok"}


def test_a_table_with_the_wrong_key_is_refused(aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    table = create_table(aws, key="sku")
    (tmp_path / "a.jsonl").write_text(jsonl({"id": "a"}))
    assert load(tmp_path / "a.jsonl", table, aws) == 1
    assert "string partition key 'id'" in capsys.readouterr().err
    assert load(tmp_path / "a.jsonl", "no-such-table", aws) == 1
    assert "does not exist" in capsys.readouterr().err


def test_get_and_stats_read_dynamodb(aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    table = create_table(aws)
    (tmp_path / "a.jsonl").write_text(jsonl({"id": "a", "price": 19.99}, {"id": "b"}))
    assert load(tmp_path / "a.jsonl", table, aws) == 0
    capsys.readouterr()
    assert main(["catalog", "get", "a", "zz", "--store", f"dynamodb:{table}", "--endpoint-url", aws]) == 1
    output = capsys.readouterr()
    assert json.loads(output.out) == {"id": "a", "price": 19.99}
    assert "not in the catalog: zz" in output.err
    assert main(["catalog", "stats", "--count", "--store", f"dynamodb:{table}", "--endpoint-url", aws]) == 0
    output = capsys.readouterr().out
    assert "items      2" in output
    assert "key        id (HASH)" in output


def test_the_profile_option_reaches_the_client(
    aws: str,  # noqa: F811
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    table = create_table(aws)
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_REGION", "AWS_DEFAULT_REGION"):
        monkeypatch.delenv(name)
    (tmp_path / "config").write_text(f"[profile catalog-loader]\nregion = {REGION}\n", encoding="utf-8")
    (tmp_path / "credentials").write_text(
        "[catalog-loader]\naws_access_key_id = testing\naws_secret_access_key = testing\n", encoding="utf-8"
    )
    monkeypatch.setenv("AWS_CONFIG_FILE", str(tmp_path / "config"))
    monkeypatch.setenv("AWS_SHARED_CREDENTIALS_FILE", str(tmp_path / "credentials"))
    (tmp_path / "a.jsonl").write_text(jsonl({"id": "a"}))
    assert load(tmp_path / "a.jsonl", table, aws, "--profile", "catalog-loader") == 0
    capsys.readouterr()
    target = ["--store", f"dynamodb:{table}", "--endpoint-url", aws]
    assert main(["catalog", "get", "a", *target, "--profile", "catalog-loader"]) == 0
    assert json.loads(capsys.readouterr().out) == {"id": "a"}
    assert main(["catalog", "stats", "--count", *target, "--profile", "catalog-loader", "--output", "json"]) == 0
    stats = json.loads(capsys.readouterr().out)
    assert (stats["kind"], stats["location"], stats["items"], stats["items_exact"]) == ("dynamodb", table, 1, True)
    assert list(stats["load_versions"].values()) == [1]
    assert stats["key"] == [{"attribute": "id", "type": "HASH"}]
    for command in (["stats", *target], ["get", "a", *target], ["load", str(tmp_path / "a.jsonl"), *target]):
        assert main(["catalog", *command, "--profile", "nobody"]) == 1
        assert "pinrec: error: AWS: The config profile (nobody) could not be found" in capsys.readouterr().err
