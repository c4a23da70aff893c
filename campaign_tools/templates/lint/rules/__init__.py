"""One module per lint rule, each exposing `RULE`; registry.py lists them in the order they run."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from campaign_tools.templates.lint.context import LintContext
    from campaign_tools.templates.lint.report import Finding, Severity


@dataclass(frozen=True)
class Rule:
    ids: tuple[str, ...]
    """The rule ids its findings carry: one, or more for one decision reported under different names."""
    check: Callable[[LintContext], Iterable[Finding]]


def hazard_rule(rule_id: str, severity: Severity) -> Rule:
    """A rule that reports, at `severity`, each hazard the renderer's `lint_hazards` finds under `rule_id`."""

    def check(context: LintContext) -> Iterable[Finding]:
        return [
            context.hazard_finding(site, severity, rule_id) for site in context.hazards if site.hazard.code == rule_id
        ]

    return Rule((rule_id,), check)
