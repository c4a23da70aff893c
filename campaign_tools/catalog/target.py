"""Which catalog a command works on: `--store KIND:LOCATION`, or the `[store]` of a config file."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from transformer.aws import AwsOptions
from transformer.config import load_config
from transformer.stores.base import CatalogLoadError, StoreConfig
from transformer.stores.registry import parse_store_option

if TYPE_CHECKING:
    from transformer.config import AttributeConfig


@dataclass(frozen=True, slots=True)
class CatalogTarget:
    store: StoreConfig
    """The configured backend: its reader, writer and stats."""
    aws: AwsOptions = field(default_factory=AwsOptions)
    """A command's --region, --profile, --endpoint-url; the store's own settings fill what is None here."""
    attributes: Mapping[str, AttributeConfig] | None = None
    """The configuration's `[attributes.*]` tables when the target came from a configuration: a load stores each
    item's values for them (`transformer.precompute`)."""

    @property
    def key(self) -> str:
        return self.store.key

    def describe(self) -> str:
        return self.store.describe()


def resolve_target(
    store: str | None,
    config: str | None,
    key: str | None = None,
    aws: AwsOptions | None = None,
) -> CatalogTarget:
    """The target named by --store, else by the configuration (with its attribute tables, outside offers mode);
    --key overrides the configured id field."""
    attributes = None
    if store is not None:
        settings = parse_store_option(store, key or "id")
    else:
        loaded = load_config(config)
        settings, attributes = loaded.store, (loaded.attributes if loaded.offers is None else None)
        if key:
            settings = settings.model_copy(update={"key": key})
    return CatalogTarget(settings, aws or AwsOptions(), attributes)


@contextlib.contextmanager
def sdk_errors() -> Iterator[None]:
    """An AWS SDK error raised before any request (a --profile missing from the AWS config files, no region) as a
    one-line CatalogLoadError; backends report the errors of their requests themselves."""
    try:
        yield
    except Exception as error:
        from botocore.exceptions import BotoCoreError  # on this error path only: a local catalog never loads it

        if not isinstance(error, BotoCoreError):
            raise
        raise CatalogLoadError(f"AWS: {error}") from None
