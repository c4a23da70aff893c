"""bare-list: a list attribute printed whole instead of one value (`.[N]`) or all of them (`join`)."""

from __future__ import annotations

from collections.abc import Iterator

from campaign_tools.templates.lint.context import LintContext
from campaign_tools.templates.lint.report import Finding, Severity
from campaign_tools.templates.lint.rules import Rule

ID = "bare-list"


def check(context: LintContext) -> Iterator[Finding]:
    # The renderer's lint_hazards reports bare lists too; this rule reports them from the paths, with the declared
    # shape, and the hazards' bare-list entries are left unreported.
    for site in context.known_path_uses:
        if site.info.is_list and site.use.printed:
            yield context.use_finding(
                site,
                Severity.ERROR,
                ID,
                f"{site.use.path} is a list: print one value with .[N] or all with join "
                "(Pinpoint's Handlebars.java prints whole lists differently from handlebars.js)",
            )


RULE = Rule((ID,), check)
