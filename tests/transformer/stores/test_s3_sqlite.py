"""A SQLite catalog hosted in S3 (moto over loopback): fetched at cold start, refreshed on change, never lost."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import config_for, write_catalog
from tests.store_fixtures import aws, client, create_bucket  # noqa: F401
from tests.transformer.stores.test_dynamodb import FakeClock
from transformer.aws import AwsOptions
from transformer.errors import ConfigError
from transformer.service import Transformer
from transformer.stores.s3_sqlite import S3SqliteItemStore, s3_client

REFRESH = 60.0


def publish(endpoint: str, bucket: str, key: str, path: Path) -> None:
    client("s3", endpoint).put_object(Bucket=bucket, Key=key, Body=path.read_bytes())


def catalog_file(tmp_path: Path, name: str, items: list[dict[str, Any]]) -> Path:
    return write_catalog(tmp_path / name, items)


@pytest.fixture
def published(aws: str, tmp_path: Path) -> tuple[str, str]:  # noqa: F811
    bucket = create_bucket(aws)
    publish(aws, bucket, "catalogs/main.db", catalog_file(tmp_path, "v1.db", [{"id": "a", "name": "first"}]))
    return bucket, f"s3://{bucket}/catalogs/main.db"


def open_store(endpoint: str, url: str, tmp_path: Path, clock: FakeClock) -> S3SqliteItemStore:
    return S3SqliteItemStore(
        url,
        refresh_seconds=REFRESH,
        client=s3_client(AwsOptions(endpoint_url=endpoint)),
        directory=tmp_path / "tmp",
        clock=clock,
    )


def test_cold_start_fetches_the_catalog(aws: str, published: tuple[str, str], tmp_path: Path) -> None:  # noqa: F811
    _, url = published
    store = open_store(aws, url, tmp_path, FakeClock())
    assert store.local_path.is_file()
    assert store.get_many(["a", "zz"]) == {"a": {"id": "a", "name": "first"}}


def test_a_changed_object_is_swapped_in_after_the_refresh_interval(
    aws: str,  # noqa: F811
    published: tuple[str, str],
    tmp_path: Path,
) -> None:
    bucket, url = published
    clock = FakeClock()
    store = open_store(aws, url, tmp_path, clock)
    publish(aws, bucket, "catalogs/main.db", catalog_file(tmp_path, "v2.db", [{"id": "a", "name": "second"}]))
    assert store.get_many(["a"])["a"]["name"] == "first"  # not due yet: no check at all
    clock.now += REFRESH + 1
    store.get_many(["a"])  # due: the check runs, the download starts in the background
    store.wait_for_refresh(10)
    assert store.refreshes == 1
    assert store.get_many(["a"])["a"]["name"] == "second"
    clock.now += REFRESH + 1
    store.get_many(["a"])  # unchanged object: nothing downloaded
    store.wait_for_refresh(10)
    assert store.refreshes == 1


def test_a_bad_new_object_keeps_the_last_good_catalog_serving(
    aws: str,  # noqa: F811
    published: tuple[str, str],
    tmp_path: Path,
) -> None:
    bucket, url = published
    clock = FakeClock()
    store = open_store(aws, url, tmp_path, clock)
    client("s3", aws).put_object(Bucket=bucket, Key="catalogs/main.db", Body=b"this is not a sqlite file" * 100)
    clock.now += REFRESH + 1
    store.get_many(["a"])
    store.wait_for_refresh(10)
    assert store.failed_refreshes == 1
    assert store.get_many(["a"])["a"]["name"] == "first"
    assert sorted(os.listdir(store.local_path.parent)) == ["catalog.db"]  # no half-downloaded leftovers


def test_a_deleted_object_keeps_the_last_good_catalog_serving(
    aws: str,  # noqa: F811
    published: tuple[str, str],
    tmp_path: Path,
) -> None:
    bucket, url = published
    clock = FakeClock()
    store = open_store(aws, url, tmp_path, clock)
    client("s3", aws).delete_object(Bucket=bucket, Key="catalogs/main.db")
    clock.now += REFRESH + 1
    assert store.get_many(["a"])["a"]["name"] == "first"
    assert store.failed_refreshes == 1


def test_a_missing_object_fails_the_cold_start_clearly(aws: str, tmp_path: Path) -> None:  # noqa: F811
    bucket = create_bucket(aws)
    with pytest.raises(ConfigError, match=r"cannot fetch the catalog s3://.*(NoSuchKey|404)"):
        open_store(aws, f"s3://{bucket}/nothing.db", tmp_path, FakeClock())


def test_the_transformer_serves_an_s3_catalog_from_config(
    aws: str,  # noqa: F811
    published: tuple[str, str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    _, url = published
    monkeypatch.setenv("AWS_ENDPOINT_URL", aws)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    config = config_for(tmp_path / "unused", {"Name": {"field": "name"}})
    config = config.model_copy(update={"store": config.store.model_copy(update={"path": url})})
    response = Transformer(config).handle({"Endpoints": {"e": {"RecommendationItems": ["a"]}}})
    assert response["e"]["Recommendations"] == {"Name": ["first"]}


def test_the_check_is_postponed_when_the_invocation_is_short_of_time(
    aws: str,  # noqa: F811
    published: tuple[str, str],
    tmp_path: Path,
) -> None:
    bucket, url = published
    clock = FakeClock()
    store = open_store(aws, url, tmp_path, clock)
    publish(aws, bucket, "catalogs/main.db", catalog_file(tmp_path, "v2.db", [{"id": "a", "name": "second"}]))
    clock.now += REFRESH + 1
    store.get_many(["a"], deadline=clock.now + 1.0)  # too little time left: no check on this request
    assert not store.refresh_running
    store.wait_for_refresh(10)
    assert store.refreshes == 0
    store.get_many(["a"], deadline=clock.now + 14.0)
    store.wait_for_refresh(10)
    assert store.refreshes == 1
    assert store.get_many(["a"])["a"]["name"] == "second"


def test_an_s3_catalog_loaded_through_a_configuration_serves_its_values_until_another_load_replaces_it(
    aws: str,  # noqa: F811
    published: tuple[str, str],
    tmp_path: Path,
) -> None:
    import json

    from campaign_tools.catalog.records import read_jsonl
    from transformer.precompute import attributes_fingerprint
    from transformer.stores.base import LoadOptions, Precomputed

    bucket, url = published
    config = config_for(tmp_path / "unused", {"Name": {"field": "name", "max_length": 3}})
    config = config.model_copy(update={"store": config.store.model_copy(update={"path": url})})
    options = LoadOptions(attributes=config.attributes, aws=AwsOptions(endpoint_url=aws), allow_shrink=True)
    config.store.load(read_jsonl([json.dumps({"id": "a", "name": "first"})], "id"), options)
    fingerprint = attributes_fingerprint(config.attributes)
    clock = FakeClock()
    store = open_store(aws, url, tmp_path, clock)
    assert store.get_precomputed(["a", "zz"], fingerprint) == {"a": Precomputed(("fir",))}
    publish(aws, bucket, "catalogs/main.db", catalog_file(tmp_path, "v2.db", [{"id": "a", "name": "second"}]))
    clock.now += REFRESH + 1
    store.get_precomputed(["a"], fingerprint)  # due: the check runs, the download starts in the background
    store.wait_for_refresh(10)
    assert store.get_precomputed(["a"], fingerprint) == {"a": {"id": "a", "name": "second"}}  # no values: rendered
    store.close()
