"""Every suppression list `--suppression KIND:TARGET` can name. Adding one is a module beside sqlite.py and one line
here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from campaign_tools.suppression.base import SuppressionList
from campaign_tools.suppression.dynamodb import open_dynamodb
from campaign_tools.suppression.sqlite import open_sqlite
from transformer import specs

DEFAULT_SUPPRESSION = "sqlite:pinrec-suppression.db"


@dataclass(frozen=True)
class SuppressionKind:
    kind: str
    usage: str
    open: Callable[[str, Callable[[str], Any], bool], SuppressionList]
    """(target, AWS client factory, read_only) -> the list."""


KINDS: tuple[SuppressionKind, ...] = (
    SuppressionKind("sqlite", "sqlite:PATH", open_sqlite),
    SuppressionKind("dynamodb", "dynamodb:TABLE", open_dynamodb),
)


def usage() -> str:
    return specs.usage(KINDS)


def check_spec(spec: str) -> str:
    specs.kind_of(spec, KINDS, "--suppression")
    return spec


def open_suppression(spec: str, clients: Callable[[str], Any], *, read_only: bool = False) -> SuppressionList:
    kind, target = specs.kind_of(spec, KINDS, "--suppression")
    return kind.open(target, clients, read_only)
