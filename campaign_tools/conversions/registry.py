"""Every conversions store `--conversions KIND:TARGET` can name. Adding one is a module beside sqlite.py and one line
here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from campaign_tools.conversions.base import ConversionStore
from campaign_tools.conversions.sqlite import open_sqlite
from campaign_tools.send.settings import DEFAULT_LEDGER
from transformer.errors import PinrecError

DEFAULT_CONVERSIONS = DEFAULT_LEDGER
"""The send ledger's default file: the conversions table sits beside the ledger's tables."""


@dataclass(frozen=True)
class ConversionsKind:
    kind: str
    usage: str
    open: Callable[[str, Callable[[str], Any], bool], ConversionStore]
    """(target, AWS client factory, read_only) -> the store."""


KINDS: tuple[ConversionsKind, ...] = (ConversionsKind("sqlite", "sqlite:PATH", open_sqlite),)


def usage() -> str:
    return " or ".join(kind.usage for kind in KINDS)


def check_spec(spec: str) -> str:
    name, _, target = spec.partition(":")
    if not target or all(kind.kind != name for kind in KINDS):
        raise PinrecError(f"--conversions must be {usage()}, got {spec!r}")
    return spec


def open_conversions(spec: str, clients: Callable[[str], Any], *, read_only: bool = False) -> ConversionStore:
    name, _, target = check_spec(spec).partition(":")
    kind = next(kind for kind in KINDS if kind.kind == name)
    return kind.open(target, clients, read_only)
