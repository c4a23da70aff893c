"""render-error: every sample (and the worst case) renders in every part."""

from __future__ import annotations

from collections.abc import Iterator

from campaign_tools.templates.lint.context import LintContext
from campaign_tools.templates.lint.report import Finding, Severity
from campaign_tools.templates.lint.rules import Rule

ID = "render-error"


def check(context: LintContext) -> Iterator[Finding]:
    for rendering in context.renderings:
        if rendering.error is not None:
            yield context.finding(
                rendering.place,
                Severity.ERROR,
                ID,
                f"rendering for sample {rendering.sample_id} failed: {rendering.error.reason}",
                part=rendering.part,
                line=rendering.error.line,
            )


RULE = Rule((ID,), check)
