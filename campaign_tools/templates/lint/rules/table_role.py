"""table-role: layout tables carry `role="presentation"`, or screen readers announce them as data."""

from __future__ import annotations

import re
from collections.abc import Iterator

from campaign_tools.channels import email as email_channel
from campaign_tools.templates.lint.context import LintContext, Stage
from campaign_tools.templates.lint.report import Finding, Severity
from campaign_tools.templates.lint.rules import Rule

ID = "table-role"
_TABLE = re.compile(r"<table\b[^>]*>", re.IGNORECASE)


def check(context: LintContext) -> Iterator[Finding]:
    html = context.built.parts.get(email_channel.HTML)
    if html is None:
        return
    for match in _TABLE.finditer(html):
        if "role=" not in match.group(0):
            yield context.finding(
                (Stage.EMAIL_MARKUP,),
                Severity.WARNING,
                ID,
                'a layout table has no role="presentation": screen readers announce it as data',
                part=email_channel.HTML,
                line=html.count("\n", 0, match.start()) + 1,
            )


RULE = Rule((ID,), check)
