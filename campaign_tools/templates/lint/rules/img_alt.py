"""img-alt: every image in the email has alt text."""

from __future__ import annotations

import re
from collections.abc import Iterator

from campaign_tools.channels import email as email_channel
from campaign_tools.templates.lint.context import LintContext, Stage
from campaign_tools.templates.lint.markup import attribute
from campaign_tools.templates.lint.report import Finding, Severity
from campaign_tools.templates.lint.rules import Rule

ID = "img-alt"
_IMG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)


def check(context: LintContext) -> Iterator[Finding]:
    html = context.built.parts.get(email_channel.HTML)
    if html is None:
        return
    for match in _IMG.finditer(html):
        if not re.search(r"\balt\s*=", match.group(0)):
            yield context.finding(
                (Stage.EMAIL_MARKUP,),
                Severity.ERROR,
                ID,
                'an image has no alt text (use alt="" for a decorative one)',
                part=email_channel.HTML,
                line=html.count("\n", 0, match.start()) + 1,
                snippet=attribute(match.group(0), "src"),
            )


RULE = Rule((ID,), check)
