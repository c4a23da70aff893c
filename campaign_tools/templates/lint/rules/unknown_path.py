"""unknown-path / undeclared-attribute: a variable Pinpoint does not fill, or a recommendation attribute the
recommender does not declare (one decision: the path is not known)."""

from __future__ import annotations

from collections.abc import Iterator

from campaign_tools.templates.lint.context import LintContext
from campaign_tools.templates.lint.report import Finding, Severity
from campaign_tools.templates.lint.rules import Rule

UNKNOWN_PATH = "unknown-path"
UNDECLARED_ATTRIBUTE = "undeclared-attribute"


def check(context: LintContext) -> Iterator[Finding]:
    for site in context.path_uses:
        info = site.info
        if not info.known:
            rule = UNDECLARED_ATTRIBUTE if info.recommendation else UNKNOWN_PATH
            yield context.use_finding(site, Severity.ERROR, rule, info.problem or f"unknown variable {site.use.path}")


RULE = Rule((UNKNOWN_PATH, UNDECLARED_ATTRIBUTE), check)
