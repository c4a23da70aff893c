"""Which catalog a command works on: `--store KIND:LOCATION`, or the `[store]` of a config file."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field

from transformer.aws import AwsOptions
from transformer.config import load_config
from transformer.stores.base import CatalogLoadError, StoreConfig
from transformer.stores.registry import parse_store_option


@dataclass(frozen=True, slots=True)
class CatalogTarget:
    store: StoreConfig
    """The configured backend: its reader, writer and stats."""
    aws: AwsOptions = field(default_factory=AwsOptions)
    """A command's --region, --profile, --endpoint-url; the store's own settings fill what is None here."""

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
    """The target named by --store, else by the configuration; --key overrides the configured id field."""
    if store is not None:
        settings = parse_store_option(store, key or "id")
    else:
        settings = load_config(config).store
        if key:
            settings = settings.model_copy(update={"key": key})
    return CatalogTarget(settings, aws or AwsOptions())


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
