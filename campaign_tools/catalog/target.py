"""Which catalog a command works on: `--store sqlite:PATH`, or the `[store]` of a configuration file."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from transformer.config import load_config
from transformer.errors import PinrecError


@dataclass(frozen=True, slots=True)
class CatalogTarget:
    kind: str
    location: str
    key: str = "id"

    @property
    def path(self) -> Path:
        return Path(self.location)


def parse_store_option(value: str, key: str = "id") -> CatalogTarget:
    kind, separator, location = value.partition(":")
    if not separator or not location:
        raise PinrecError(f"--store {value!r}: expected sqlite:PATH")
    if kind != "sqlite":
        raise PinrecError(f"--store {value!r}: unknown store kind {kind!r} (expected sqlite)")
    return CatalogTarget(kind, location, key)


def resolve_target(store: str | None, config: str | None, key: str | None = None) -> CatalogTarget:
    if store is not None:
        return parse_store_option(store, key or "id")
    settings = load_config(config).store
    return CatalogTarget(settings.kind, settings.path, key or settings.key)
