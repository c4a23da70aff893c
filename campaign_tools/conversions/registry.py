"""Every conversions store `--conversions KIND:TARGET` can name. Adding one is a module beside sqlite.py and one line
here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from campaign_tools.conversions.base import ConversionStore
from campaign_tools.conversions.sqlite import open_sqlite
from campaign_tools.send.settings import DEFAULT_LEDGER
from transformer import specs

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
    return specs.usage(KINDS)


def check_spec(spec: str) -> str:
    specs.kind_of(spec, KINDS, "--conversions")
    return spec


def open_conversions(spec: str, clients: Callable[[str], Any], *, read_only: bool = False) -> ConversionStore:
    kind, target = specs.kind_of(spec, KINDS, "--conversions")
    return kind.open(target, clients, read_only)
