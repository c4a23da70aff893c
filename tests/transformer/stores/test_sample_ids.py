"""`sample_ids`, the readers' way to pick catalog items for `pinrec config check` and the send's preflight: the same
behaviour from a SQLite file, a SQLite catalog in S3 and a DynamoDB table (moto's server)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from botocore.stub import Stubber

from tests.conftest import write_catalog
from tests.store_fixtures import REGION, aws, client, create_bucket, create_table  # noqa: F401
from transformer.aws import AwsOptions
from transformer.errors import CatalogUnavailableError
from transformer.stores.base import ItemStore
from transformer.stores.dynamodb import DynamoDbItemStore
from transformer.stores.s3_sqlite import S3SqliteItemStore, s3_client
from transformer.stores.sqlite import SqliteItemStore

IDS = [f"P{n:03d}" for n in range(120)]


@pytest.fixture(params=["sqlite", "s3-sqlite", "dynamodb"])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[ItemStore]:
    items = [{"id": item_id, "n": n} for n, item_id in enumerate(IDS)]
    opened: ItemStore
    if request.param == "dynamodb":
        endpoint = request.getfixturevalue("aws")
        table = create_table(endpoint)
        dynamodb = client("dynamodb", endpoint)
        for item in items:
            dynamodb.put_item(TableName=table, Item={"id": {"S": item["id"]}, "n": {"N": str(item["n"])}})
        opened = DynamoDbItemStore(table, aws=AwsOptions(region=REGION, endpoint_url=endpoint))
    else:
        catalog = write_catalog(tmp_path / "catalog.db", items)
        if request.param == "sqlite":
            opened = SqliteItemStore(catalog)
        else:
            endpoint = request.getfixturevalue("aws")
            bucket = create_bucket(endpoint)
            client("s3", endpoint).put_object(Bucket=bucket, Key="catalog.db", Body=catalog.read_bytes())
            opened = S3SqliteItemStore(
                f"s3://{bucket}/catalog.db",
                client=s3_client(AwsOptions(endpoint_url=endpoint)),
                directory=tmp_path / "local",
            )
    yield opened
    opened.close()


def test_a_sample_is_distinct_ids_of_the_catalog_at_most_as_many_as_asked(store: ItemStore) -> None:
    sample = store.sample_ids(25)
    assert len(sample) == 25 and len(set(sample)) == 25
    assert set(sample) <= set(IDS)
    assert set(store.get_many(sample)) == set(sample), "the ids read back as items"


def test_asking_for_more_than_the_catalog_holds_gives_every_id(store: ItemStore) -> None:
    assert sorted(store.sample_ids(10_000)) == IDS


def test_the_sqlite_sample_is_drawn_at_random(tmp_path: Path) -> None:
    store = SqliteItemStore(write_catalog(tmp_path / "c.db", [{"id": item_id} for item_id in IDS]))
    draws = {tuple(store.sample_ids(10)) for _ in range(5)}
    assert len(draws) > 1, "five draws of 10 out of 120 ids are not all the same"


def test_a_dynamodb_sample_pages_through_the_scan_and_reports_a_lost_table() -> None:
    dynamodb = boto3.session.Session().client(
        "dynamodb", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    store = DynamoDbItemStore("items", client=dynamodb)
    projection = {"TableName": "items", "ProjectionExpression": "#k", "ExpressionAttributeNames": {"#k": "id"}}
    with Stubber(dynamodb) as stubber:
        stubber.add_response(
            "scan",
            {"Items": [{"id": {"S": "a"}}, {"id": {"S": "b"}}], "LastEvaluatedKey": {"id": {"S": "b"}}},
            {**projection, "Limit": 3},
        )
        stubber.add_response(
            "scan", {"Items": [{"id": {"S": "c"}}]}, {**projection, "Limit": 1, "ExclusiveStartKey": {"id": {"S": "b"}}}
        )
        assert store.sample_ids(3) == ["a", "b", "c"]
        stubber.add_client_error("scan", "ResourceNotFoundException", http_status_code=400)
        with pytest.raises(CatalogUnavailableError, match="ResourceNotFoundException"):
            store.sample_ids(3)
    store.close()
