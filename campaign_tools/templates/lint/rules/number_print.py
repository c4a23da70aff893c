"""number-print: a printed number, which Pinpoint (Java) may print as 2.0 (found by lint_hazards)."""

from __future__ import annotations

from collections.abc import Iterator

from campaign_tools.templates.lint.context import LintContext
from campaign_tools.templates.lint.report import Finding, Severity
from campaign_tools.templates.lint.rules import Rule

ID = "number-print"


def check(context: LintContext) -> Iterator[Finding]:
    for site in context.hazards:
        if site.hazard.code == ID:
            yield context.hazard_finding(site, Severity.WARNING, ID)


RULE = Rule((ID,), check)
