"""Loading into DynamoDB (moto over loopback): versioned snapshot, purge after a complete load, merge, exact
numbers, and failures that purge nothing while the transformer keeps resolving the previous items."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import Stubber

from campaign_tools.catalog.dynamodb_snapshot import DynamoDbLoader, to_dynamodb_value
from campaign_tools.catalog.records import CatalogLoadError, Record, read_jsonl
from campaign_tools.cli import main
from tests.store_fixtures import REGION, aws, client, create_table  # noqa: F401
from tests.test_loader_sources import jsonl
from transformer.attributes import scalar_text
from transformer.stores.dynamodb import LOAD_VERSION_ATTRIBUTE, DynamoDbItemStore, number_from_decimal


def load(source: Path, table: str, endpoint: str, *extra: str) -> int:
    return main(["catalog", "load", str(source), "--store", f"dynamodb:{table}", "--endpoint-url", endpoint, *extra])


def scan(endpoint: str, table: str) -> dict[str, dict[str, Any]]:
    pages = client("dynamodb", endpoint).get_paginator("scan").paginate(TableName=table)
    return {item["id"]["S"]: item for page in pages for item in page["Items"]}


def store(endpoint: str, table: str) -> DynamoDbItemStore:
    return DynamoDbItemStore(table, endpoint_url=endpoint, region=REGION)


def test_floats_go_in_as_decimals_and_come_back_without_drift() -> None:
    for value in (19.99, 0.1, 1e-7, 123456.789, -0.0001, 89.0, 2.5e20):
        stored = to_dynamodb_value(value)
        assert number_from_decimal(stored) == value
    for value in (19.99, 0.1, 1e-7, 123456.789, -0.0001, 89.0):
        assert scalar_text(number_from_decimal(to_dynamodb_value(value))) == scalar_text(value)
    assert str(to_dynamodb_value(19.99)) == "19.99"
    with pytest.raises(ArithmeticError):
        to_dynamodb_value(10**40 + 1)  # more digits than DynamoDB holds: refused, never rounded


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
    assert load(second, table, aws) == 0
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


def test_an_interrupted_load_purges_nothing(aws: str) -> None:  # noqa: F811
    table = create_table(aws)
    loader = DynamoDbLoader(client("dynamodb", aws), table, "id")
    loader.load(read_jsonl([jsonl({"id": "keep", "name": "Kept"})], "id"))

    def interrupted() -> Iterator[Record]:
        yield from read_jsonl([jsonl({"id": f"n{n}"}) for n in range(100)], "id")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        loader.load(interrupted())
    assert store(aws, table).get_many(["keep"]) == {"keep": {"id": "keep", "name": "Kept"}}


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
    assert "rejected line 2: the item is larger than DynamoDB's 400 KB item limit" in output.err
    assert "rejected line 3: the field '_pinrec_load' is reserved" in output.err
    assert "rejected line 4: the id is longer than DynamoDB's 2048-byte key limit" in output.err
    assert set(scan(aws, table)) == {"ok"}


def test_a_table_with_the_wrong_key_is_refused(aws: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:  # noqa: F811
    table = create_table(aws, key="sku")
    (tmp_path / "a.jsonl").write_text(jsonl({"id": "a"}))
    assert load(tmp_path / "a.jsonl", table, aws) == 1
    assert "string partition key 'id'" in capsys.readouterr().err
    assert load(tmp_path / "a.jsonl", "no-such-table", aws) == 1
    assert "does not exist" in capsys.readouterr().err


def test_unprocessed_writes_are_retried_then_fail_clearly() -> None:
    dynamodb = boto3.session.Session().client(
        "dynamodb", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    sleeps: list[float] = []
    loader = DynamoDbLoader(dynamodb, "items", "id", concurrency=1, sleep=sleeps.append)
    put = [{"PutRequest": {"Item": {"id": {"S": "a"}}}}, {"PutRequest": {"Item": {"id": {"S": "b"}}}}]
    with Stubber(dynamodb) as stubber:
        stubber.add_response(
            "batch_write_item", {"UnprocessedItems": {"items": put[1:]}}, {"RequestItems": {"items": put}}
        )
        stubber.add_client_error("batch_write_item", service_error_code="ProvisionedThroughputExceededException")
        stubber.add_response("batch_write_item", {"UnprocessedItems": {}}, {"RequestItems": {"items": put[1:]}})
        assert loader._write_batch(put) == 2
        for _ in range(10):
            stubber.add_response("batch_write_item", {"UnprocessedItems": {"items": put}})
        with pytest.raises(CatalogLoadError, match=r"kept throttling writes.*nothing was purged"):
            loader._write_batch(put)
    assert len(sleeps) == 2 + 10


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


def test_a_failing_count_scan_is_a_clear_error_before_anything_is_written() -> None:
    dynamodb = boto3.session.Session().client(
        "dynamodb", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    table = {
        "Table": {
            "KeySchema": [{"AttributeName": "id", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "id", "AttributeType": "S"}],
        }
    }
    loader = DynamoDbLoader(dynamodb, "items", "id")
    with Stubber(dynamodb) as stubber:
        stubber.add_response("describe_table", table)
        stubber.add_client_error("scan", service_error_code="AccessDeniedException")
        with pytest.raises(CatalogLoadError, match="AccessDeniedException: counting items failed; nothing was changed"):
            loader.load(read_jsonl([jsonl({"id": "a"})], "id"))
        stubber.assert_no_pending_responses()
    assert loader.write_calls == 0
