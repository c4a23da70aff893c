"""Which catalog a command works on: `--store sqlite:PATH|dynamodb:TABLE`, or the `[store]` of a config file."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path

from transformer.config import SqliteStoreConfig, load_config
from transformer.errors import PinrecError

STORE_KINDS = ("sqlite", "dynamodb")


@dataclass(frozen=True, slots=True)
class CatalogTarget:
    kind: str
    location: str
    """A SQLite file path or s3://BUCKET/KEY, or a DynamoDB table name."""
    key: str = "id"
    region: str | None = None
    endpoint_url: str | None = None

    @property
    def path(self) -> Path:
        return Path(self.location)

    @property
    def in_s3(self) -> bool:
        return self.kind == "sqlite" and self.location.startswith("s3://")

    def describe(self) -> str:
        return f"DynamoDB table {self.location}" if self.kind == "dynamodb" else f"catalog {self.location}"


def parse_store_option(value: str, key: str = "id") -> CatalogTarget:
    kind, separator, location = value.partition(":")
    if not separator or not location:
        raise PinrecError(f"--store {value!r}: expected sqlite:PATH or dynamodb:TABLE")
    if kind not in STORE_KINDS:
        raise PinrecError(f"--store {value!r}: unknown store kind {kind!r} (expected sqlite or dynamodb)")
    return CatalogTarget(kind, location, key)


def resolve_target(
    store: str | None,
    config: str | None,
    key: str | None = None,
    *,
    region: str | None = None,
    endpoint_url: str | None = None,
) -> CatalogTarget:
    """The target named by --store, else by the configuration; --key, --region, --endpoint-url override."""
    if store is not None:
        target = parse_store_option(store, key or "id")
    else:
        settings = load_config(config).store
        if isinstance(settings, SqliteStoreConfig):
            target = CatalogTarget("sqlite", settings.path, key or settings.key)
        else:
            target = CatalogTarget(
                "dynamodb", settings.table, key or settings.key, settings.region, settings.endpoint_url
            )
    return replace(target, region=region or target.region, endpoint_url=endpoint_url or target.endpoint_url)
