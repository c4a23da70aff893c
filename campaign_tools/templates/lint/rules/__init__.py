"""One module per lint rule, each exposing `RULE`; registry.py lists them in the order they run."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from campaign_tools.templates.lint.context import LintContext
    from campaign_tools.templates.lint.report import Finding


@dataclass(frozen=True)
class Rule:
    ids: tuple[str, ...]
    """The rule ids its findings carry: one, or more for one decision reported under different names."""
    check: Callable[[LintContext], Iterable[Finding]]
