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
        from transformer.stores.sqlite import SqliteItemStore

        return SqliteItemStore(store.path)
    raise AssertionError(f"unhandled store kind {store.kind!r}")  # the config schema admits no other
