"""unknown-default: a DefaultSubstitutions key that matches no variable Pinpoint fills."""

from __future__ import annotations

from collections.abc import Iterator

from campaign_tools.templates.lint.context import LintContext, Stage
from campaign_tools.templates.lint.report import Finding, Severity
from campaign_tools.templates.lint.rules import Rule
from campaign_tools.templates.paths import describe_path

ID = "unknown-default"


def check(context: LintContext) -> Iterator[Finding]:
    names = context.built.attributes.names
    for key in context.built.default_substitutions:
        info = describe_path(key, names)
        if not info.known and not info.is_list:
            yield context.finding(
                (Stage.DEFAULTS,),
                Severity.WARNING,
                ID,
                f"DefaultSubstitutions key {key!r} matches no variable Pinpoint fills: {info.problem}",
            )


RULE = Rule((ID,), check)
