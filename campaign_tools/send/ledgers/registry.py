"""Every send ledger `--ledger KIND:TARGET` can name. Adding one is a module beside sqlite.py and one line here."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from campaign_tools.send.ledgers import dynamodb, sqlite
from campaign_tools.send.ledgers.base import Ledger, LedgerKind
from transformer import specs

KINDS: tuple[LedgerKind, ...] = (
    sqlite.KIND,
    dynamodb.KIND,
)


def usage() -> str:
    return specs.usage(KINDS)


def check_spec(spec: str) -> str:
    """`spec` when it names a known ledger kind and a target; PinrecError otherwise."""
    _kind(spec)
    return spec


def _kind(spec: str) -> tuple[LedgerKind, str]:
    return specs.kind_of(spec, KINDS, "--ledger")


def open_ledger(spec: str, clients: Callable[[str], Any], *, durable: bool = True, read_only: bool = False) -> Ledger:
    """The ledger `spec` names; `durable`: every commit reaches the disk before delivery goes on; `read_only`: for
    reading an existing ledger (`pinrec send status`), which creates nothing and fails when there is none."""
    kind, target = _kind(spec)
    if read_only and kind.open_existing is not None:
        return kind.open_existing(target, clients)
    return kind.open(target, clients, durable)


def check_ledger(spec: str, clients: Callable[[str], Any]) -> list[str]:
    """Why the ledger `spec` names cannot be used, each problem naming it; nothing is created or written."""
    kind, target = _kind(spec)
    return [f"ledger {spec}: {problem}" for problem in kind.check(target, clients)]
