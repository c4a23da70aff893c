"""The catalog backends by `kind`: one entry per backend, its module imported only when that kind is used.

Adding a backend takes its module (a `StoreConfig` subclass with reader, writer and stats; see
`transformer.stores.base`) and one entry in `BACKENDS`. The configuration's `[store]` table, `--store KIND:LOCATION`
and every `pinrec catalog` command find it here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from transformer.errors import PinrecError
from transformer.stores.base import StoreConfig


@dataclass(frozen=True, slots=True)
class Backend:
    model: Callable[[], type[StoreConfig]]
    """Imports the backend's module and returns its `[store]` model; called only when the kind is used."""
    location: str
    """What `--store KIND:LOCATION` names for this kind (PATH, TABLE), for help and messages."""
    option: bool = True
    """False: a `[store]` kind only, which `--store` cannot name (nothing to load into: profile items)."""


def _sqlite() -> type[StoreConfig]:
    from transformer.stores.sqlite import SqliteStoreConfig

    return SqliteStoreConfig


def _dynamodb() -> type[StoreConfig]:
    from transformer.stores.dynamodb import DynamoDbStoreConfig

    return DynamoDbStoreConfig


def _profile_items() -> type[StoreConfig]:
    from transformer.stores.profile_items import ProfileItemsStoreConfig

    return ProfileItemsStoreConfig


BACKENDS: dict[str, Backend] = {
    "sqlite": Backend(_sqlite, "PATH"),
    "dynamodb": Backend(_dynamodb, "TABLE"),
    "profile-items": Backend(_profile_items, "", option=False),
}


def store_option_forms() -> str:
    """`sqlite:PATH or dynamodb:TABLE`: the forms `--store` takes."""
    return _one_of([f"{kind}:{backend.location}" for kind, backend in BACKENDS.items() if backend.option])


def _one_of(words: list[str]) -> str:
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


class _Kind(BaseModel):
    """A `[store]` table's `kind` checked alone, so a kind no backend has is reported as `kind: must be one of ...`."""

    model_config = ConfigDict(extra="allow", frozen=True)

    kind: str = Field(default="", validate_default=True)

    @field_validator("kind", mode="before")
    @classmethod
    def _known(cls, kind: object) -> object:
        if not isinstance(kind, str) or kind not in BACKENDS:
            raise ValueError(f"must be one of {', '.join(repr(known) for known in BACKENDS)}")
        return kind


def store_config(data: object) -> StoreConfig:
    """Validate a `[store]` table with the model of its `kind`: pydantic's ValidationError, with locations within
    the table, lists every problem (ValueError when `data` is not a table at all)."""
    if isinstance(data, StoreConfig):
        return data
    if not isinstance(data, Mapping):
        raise ValueError("Input should be a valid dictionary or object to extract fields from")
    kind = _Kind.model_validate(data).kind
    return BACKENDS[kind].model().model_validate(data)


def parse_store_option(value: str, key: str = "id") -> StoreConfig:
    """The store `--store KIND:LOCATION` names."""
    kind, separator, location = value.partition(":")
    if not separator or not location:
        raise PinrecError(f"--store {value!r}: expected {store_option_forms()}")
    backend = BACKENDS.get(kind)
    if backend is None or not backend.option:
        options = [known for known, each in BACKENDS.items() if each.option]
        raise PinrecError(f"--store {value!r}: unknown store kind {kind!r} (expected {_one_of(options)})")
    try:
        return backend.model().from_location(location, key)
    except ValidationError as error:
        problems = "; ".join(f"{'.'.join(map(str, problem['loc']))}: {problem['msg']}" for problem in error.errors())
        raise PinrecError(f"--store {value!r}: {problems.replace('Value error, ', '')}") from None
