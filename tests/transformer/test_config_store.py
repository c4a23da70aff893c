"""The `[store]` section: a union on `kind`, with errors that name the key."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from transformer.config import parse_config
from transformer.errors import ConfigError
from transformer.stores.dynamodb import DynamoDbStoreConfig
from transformer.stores.sqlite import SqliteStoreConfig

ATTRIBUTES = {"Name": {"field": "name"}}


def parse(store: dict[str, Any], base: Path = Path("/srv/app")) -> Any:
    return parse_config({"store": store, "attributes": ATTRIBUTES}, base_dir=base).store


def test_dynamodb_store_settings() -> None:
    store = parse({"kind": "dynamodb", "table": "pinrec-catalog", "region": "eu-west-1"})
    assert store == DynamoDbStoreConfig(kind="dynamodb", table="pinrec-catalog", key="id", region="eu-west-1")
    assert store.endpoint_url is None


def test_sqlite_paths_resolve_against_the_config_but_s3_urls_stay() -> None:
    assert parse({"kind": "sqlite", "path": "catalog.db"}).path == "/srv/app/catalog.db"
    s3 = parse({"kind": "sqlite", "path": "s3://bucket/catalogs/main.db", "refresh_seconds": 30})
    assert s3 == SqliteStoreConfig(kind="sqlite", path="s3://bucket/catalogs/main.db", refresh_seconds=30)


@pytest.mark.parametrize(
    ("store", "message"),
    [
        ({"kind": "redis", "path": "x"}, "store.kind: must be one of 'sqlite', 'dynamodb'"),
        ({"path": "catalog.db"}, "store.kind: must be one of 'sqlite', 'dynamodb'"),
        ({"kind": "dynamodb"}, "store.table: Field required"),
        ({"kind": "dynamodb", "table": "no spaces"}, "store.table: String should match pattern"),
        ({"kind": "dynamodb", "table": "t12", "path": "x.db"}, "store.path: unknown key"),
        ({"kind": "dynamodb", "table": "t12", "endpoint_url": "localhost"}, "store.endpoint_url"),
        ({"kind": "sqlite", "path": "s3://bucket"}, "store.path: an S3 catalog path must be s3://BUCKET/KEY"),
        ({"kind": "sqlite", "path": "s3://bucket/dir/"}, "store.path: an S3 catalog path must be s3://BUCKET/KEY"),
        ({"kind": "sqlite", "path": "https://x/y.db"}, "store.path: path must be a local file or s3://BUCKET/KEY"),
        ({"kind": "sqlite", "path": "c.db", "refresh_seconds": 0}, "store.refresh_seconds"),
    ],
)
def test_store_errors_name_the_key(store: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match="invalid configuration") as raised:
        parse(store)
    assert message in str(raised.value)
