"""The DynamoDB backend: reader and writer over loopback (moto), and stubbed fault paths moto cannot produce."""

from __future__ import annotations

import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import boto3
import pytest
from boto3.dynamodb.types import TypeSerializer
from botocore.stub import Stubber

from campaign_tools.catalog.records import read_jsonl
from tests.campaign_tools.catalog.test_sources import jsonl
from tests.conftest import config_for
from tests.fakes import FakeClock
from tests.store_fixtures import REGION, aws, client, create_table  # noqa: F401
from transformer.attributes import scalar_text
from transformer.aws import AwsOptions
from transformer.config import parse_config
from transformer.errors import CatalogUnavailableError
from transformer.service import Transformer
from transformer.stores.base import CatalogLoadError, Record
from transformer.stores.dynamodb import (
    LOAD_VERSION_ATTRIBUTE,
    DynamoDbItemStore,
    DynamoDbLoader,
    number_from_decimal,
    to_dynamodb_value,
)

SERIALIZE = TypeSerializer().serialize


def put_items(endpoint: str, table: str, items: list[dict[str, Any]]) -> None:
    dynamodb = client("dynamodb", endpoint)
    for item in items:
        dynamodb.put_item(TableName=table, Item={name: SERIALIZE(value) for name, value in item.items()})


def stubbed_store(clock: FakeClock, **options: Any) -> tuple[DynamoDbItemStore, Stubber]:
    dynamodb = boto3.session.Session().client(
        "dynamodb", region_name=REGION, aws_access_key_id="x", aws_secret_access_key="x"
    )
    stubber = Stubber(dynamodb)
    store = DynamoDbItemStore(
        "items", client=dynamodb, sleep=clock.sleep, clock=clock, jitter=lambda: 1.0, concurrency=1, **options
    )
    return store, stubber


def request_for(ids: list[str]) -> dict[str, Any]:
    return {"RequestItems": {"items": {"Keys": [{"id": {"S": item_id}} for item_id in ids]}}}


def answer(found: list[str], unprocessed: list[str] = ()) -> dict[str, Any]:  # type: ignore[assignment]
    response: dict[str, Any] = {
        "Responses": {"items": [{"id": {"S": item_id}, "price": {"N": "19.99"}} for item_id in found]}
    }
    if unprocessed:
        response["UnprocessedKeys"] = {"items": {"Keys": [{"id": {"S": item_id}} for item_id in unprocessed]}}
    return response


def test_numbers_come_back_as_the_values_that_were_loaded() -> None:
    assert number_from_decimal(Decimal("19.99")) == 19.99
    assert scalar_text(number_from_decimal(Decimal("19.99"))) == "19.99"
    assert number_from_decimal(Decimal("42")) == 42
    assert isinstance(number_from_decimal(Decimal("42")), int)
    assert scalar_text(number_from_decimal(Decimal("89.0"))) == "89"
    assert number_from_decimal(Decimal("0.1")) + number_from_decimal(Decimal("0.2")) == 0.1 + 0.2
    assert number_from_decimal(Decimal("12345678901234567890")) == 12345678901234567890


def test_reads_a_batch_over_http_in_chunks_of_at_most_100(aws: str) -> None:  # noqa: F811
    table = create_table(aws)
    items = [
        {"id": f"p{n}", "name": f"Product {n}", "price": Decimal("19.99"), "stock": n, LOAD_VERSION_ATTRIBUTE: "v1"}
        for n in range(240)
    ]
    items[0].update(tags={"b", "a"}, dims={"w": Decimal("1.5"), "h": 2}, sizes=[Decimal("38"), Decimal("38.5")])
    put_items(aws, table, items)
    store = DynamoDbItemStore(table, aws=AwsOptions(region=REGION, endpoint_url=aws))
    wanted = [f"p{n}" for n in range(240)] + ["absent-1", "absent-2"]
    try:
        found = store.get_many(wanted)
    finally:
        store.close()
    assert store.calls == 3  # 242 unique keys -> 100 + 100 + 42
    assert set(found) == {f"p{n}" for n in range(240)}
    assert found["p7"] == {"id": "p7", "name": "Product 7", "price": 19.99, "stock": 7}
    assert found["p0"]["tags"] == ["a", "b"]
    assert found["p0"]["dims"] == {"w": 1.5, "h": 2}
    assert found["p0"]["sizes"] == [38, 38.5]
    assert all(LOAD_VERSION_ATTRIBUTE not in item for item in found.values())


def test_duplicate_ids_are_requested_once(aws: str) -> None:  # noqa: F811
    table = create_table(aws)
    put_items(aws, table, [{"id": "a", "n": 1}])
    store = DynamoDbItemStore(table, aws=AwsOptions(region=REGION, endpoint_url=aws))
    assert store.get_many(["a", "a", "b", "a"]) == {"a": {"id": "a", "n": 1}}
    assert store.calls == 1


def test_transformer_resolves_through_a_dynamodb_config(aws: str, tmp_path: Any) -> None:  # noqa: F811
    table = create_table(aws)
    put_items(aws, table, [{"id": "m1", "title": "Arrival", "price": Decimal("19.99")}])
    config = parse_config(
        {
            "store": {"kind": "dynamodb", "table": table, "region": REGION, "endpoint_url": aws},
            "attributes": {"Title": {"field": "title"}, "Price": {"field": "price"}},
        },
        base_dir=tmp_path,
    )
    store = config.store.open_store()
    assert isinstance(store, DynamoDbItemStore)
    response = Transformer(config, store=store).handle({"Endpoints": {"e1": {"RecommendationItems": ["m1", "nope"]}}})
    assert response == {
        "e1": {"RecommendationItems": ["m1", "nope"], "Recommendations": {"Title": ["Arrival"], "Price": ["19.99"]}}
    }


def test_unprocessed_keys_are_retried_with_growing_backoff() -> None:
    clock = FakeClock()
    store, stubber = stubbed_store(clock)
    stubber.add_response("batch_get_item", answer(["a"], unprocessed=["b", "c"]), request_for(["a", "b", "c"]))
    stubber.add_response("batch_get_item", answer(["b"], unprocessed=["c"]), request_for(["b", "c"]))
    stubber.add_response("batch_get_item", answer(["c"]), request_for(["c"]))
    with stubber:
        found = store.get_many(["a", "b", "c"], deadline=clock.now + 10)
        stubber.assert_no_pending_responses()
    assert set(found) == {"a", "b", "c"}
    assert found["c"]["price"] == 19.99
    assert clock.slept == [0.025, 0.05]  # full jitter drawn at its maximum: base * 2**attempt


def test_throttling_is_retried_then_succeeds() -> None:
    clock = FakeClock()
    store, stubber = stubbed_store(clock)
    for code in ("ProvisionedThroughputExceededException", "ThrottlingException", "InternalServerError"):
        stubber.add_client_error("batch_get_item", service_error_code=code, http_status_code=400)
    stubber.add_response("batch_get_item", answer(["a"]), request_for(["a"]))
    with stubber:
        assert store.get_many(["a"], deadline=clock.now + 10) == {"a": {"id": "a", "price": 19.99}}
    assert store.calls == 4
    assert clock.slept == [0.025, 0.05, 0.1]


def test_unprocessed_keys_forever_raise_before_the_deadline() -> None:
    clock = FakeClock()
    store, stubber = stubbed_store(clock, backoff_cap=0.5)
    for _ in range(40):
        stubber.add_response("batch_get_item", answer([], unprocessed=["a"]), request_for(["a"]))
    started = clock.now
    with stubber, pytest.raises(CatalogUnavailableError, match="out of time"):
        store.get_many(["a"], deadline=started + 3.0)
    assert clock.now - started < 3.0  # never slept past the deadline
    assert 5 <= store.calls < 40
    assert max(clock.slept) <= 0.5


def test_throttling_that_never_ends_raises_clearly() -> None:
    clock = FakeClock()
    store, stubber = stubbed_store(clock)
    for _ in range(40):
        stubber.add_client_error("batch_get_item", service_error_code="ProvisionedThroughputExceededException")
    with stubber, pytest.raises(CatalogUnavailableError, match="ProvisionedThroughputExceededException"):
        store.get_many(["a"], deadline=clock.now + 2.0)


def test_a_missing_table_fails_at_once_without_retrying() -> None:
    clock = FakeClock()
    store, stubber = stubbed_store(clock)
    stubber.add_client_error("batch_get_item", service_error_code="ResourceNotFoundException")
    with stubber, pytest.raises(CatalogUnavailableError, match="ResourceNotFoundException"):
        store.get_many(["a"], deadline=clock.now + 10)
    assert store.calls == 1
    assert clock.slept == []


def test_one_failing_chunk_fails_the_whole_lookup() -> None:
    clock = FakeClock()
    store, stubber = stubbed_store(clock)
    ids = [f"i{n}" for n in range(150)]
    stubber.add_response("batch_get_item", answer(ids[:100]), request_for(ids[:100]))
    stubber.add_client_error("batch_get_item", service_error_code="AccessDeniedException")
    with stubber, pytest.raises(CatalogUnavailableError, match="AccessDeniedException"):
        store.get_many(ids, deadline=clock.now + 10)


def test_responses_slower_than_the_budget_raise_at_the_deadline(aws: str) -> None:  # noqa: F811
    table = create_table(aws)
    put_items(aws, table, [{"id": "a"}])
    store = DynamoDbItemStore(table, aws=AwsOptions(region=REGION, endpoint_url=aws))
    release = 3.0

    def slow_send(**_: Any) -> None:
        time.sleep(release)

    store._client.meta.events.register("before-send.dynamodb.BatchGetItem", slow_send)
    started = time.monotonic()
    with pytest.raises(CatalogUnavailableError, match="did not arrive before the deadline"):
        store.get_many(["a"], deadline=started + 0.2)
    assert time.monotonic() - started < release  # the caller was released before the response came
    store.close()


def test_sqlite_config_still_opens_the_sqlite_store(make_catalog: Any) -> None:
    catalog = make_catalog([{"id": "a", "name": "A"}])
    config = config_for(catalog, {"Name": {"field": "name"}})
    assert type(config.store.open_store()).__name__ == "SqliteItemStore"


def test_ids_that_cannot_be_keys_are_absent_instead_of_failing_the_batch(aws: str) -> None:  # noqa: F811
    table = create_table(aws)
    put_items(aws, table, [{"id": "a"}])
    store = DynamoDbItemStore(table, aws=AwsOptions(region=REGION, endpoint_url=aws))
    assert store.get_many(["", "a", "x" * 3000]) == {"a": {"id": "a"}}
    assert store.get_many(["", "é" * 1500]) == {}
    assert store.calls == 1


# The writer (`pinrec catalog load` goes through it: tests/campaign_tools/catalog/test_load_dynamodb.py).


def test_floats_go_in_as_decimals_and_come_back_without_drift() -> None:
    for value in (19.99, 0.1, 1e-7, 123456.789, -0.0001, 89.0, 2.5e20):
        stored = to_dynamodb_value(value)
        assert number_from_decimal(stored) == value
    for value in (19.99, 0.1, 1e-7, 123456.789, -0.0001, 89.0):
        assert scalar_text(number_from_decimal(to_dynamodb_value(value))) == scalar_text(value)
    assert str(to_dynamodb_value(19.99)) == "19.99"
    with pytest.raises(ArithmeticError):
        to_dynamodb_value(10**40 + 1)  # more digits than DynamoDB holds: refused, never rounded


def test_an_interrupted_load_purges_nothing(aws: str) -> None:  # noqa: F811
    table = create_table(aws)
    loader = DynamoDbLoader(client("dynamodb", aws), table, "id")
    loader.load(read_jsonl([jsonl({"id": "keep", "name": "Kept"})], "id"))

    def interrupted() -> Iterator[Record]:
        yield from read_jsonl([jsonl({"id": f"n{n}"}) for n in range(100)], "id")
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        loader.load(interrupted())
    reader = DynamoDbItemStore(table, aws=AwsOptions(region=REGION, endpoint_url=aws))
    assert reader.get_many(["keep"]) == {"keep": {"id": "keep", "name": "Kept"}}


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
