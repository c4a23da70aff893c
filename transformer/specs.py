"""`KIND:TARGET` specs (`--ledger sqlite:PATH`, `--suppression dynamodb:TABLE`, `--conversions ...`): one parser for
every registry of named stores, so each says the same thing about a spec it cannot use."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, TypeVar

from transformer.errors import PinrecError


class NamedKind(Protocol):
    @property
    def kind(self) -> str: ...

    @property
    def usage(self) -> str:
        """e.g. `sqlite:PATH`"""
        ...


Kind = TypeVar("Kind", bound=NamedKind)


def usage(kinds: Sequence[NamedKind]) -> str:
    return " or ".join(kind.usage for kind in kinds)


def kind_of(spec: str, kinds: Sequence[Kind], flag: str) -> tuple[Kind, str]:
    """The kind `spec` names and its target; PinrecError naming `flag` and every usage otherwise."""
    name, _, target = spec.partition(":")
    if target:
        for kind in kinds:
            if kind.kind == name:
                return kind, target
    raise PinrecError(f"{flag} must be {usage(kinds)}, got {spec!r}")
