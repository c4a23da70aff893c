"""Item stores: where catalog items live. Only the store a configuration names is ever imported."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from transformer.config import PinrecConfig
    from transformer.stores.base import ItemStore


def open_store(config: PinrecConfig) -> ItemStore:
    """Open the configured store; imports only that store's module (and so boto3 only where needed)."""
    store = config.store
    if store.kind == "sqlite":
        if store.path.startswith("s3://"):
            from transformer.stores.s3_sqlite import S3SqliteItemStore

            return S3SqliteItemStore(store.path, refresh_seconds=store.refresh_seconds)
        from transformer.stores.sqlite import SqliteItemStore

        return SqliteItemStore(store.path)
    if store.kind == "dynamodb":
        from transformer.stores.dynamodb import DynamoDbItemStore

        return DynamoDbItemStore(store.table, store.key, region=store.region, endpoint_url=store.endpoint_url)
    raise AssertionError(f"unhandled store kind {store.kind!r}")  # the config schema admits no other
