"""html-lang: the email's `<html>` declares its language."""

from __future__ import annotations

import re
from collections.abc import Iterator

from campaign_tools.channels import email as email_channel
from campaign_tools.templates.lint.context import LintContext, Stage
from campaign_tools.templates.lint.markup import attribute
from campaign_tools.templates.lint.report import Finding, Severity
from campaign_tools.templates.lint.rules import Rule

ID = "html-lang"
_HTML_TAG = re.compile(r"<html\b[^>]*>", re.IGNORECASE)


def check(context: LintContext) -> Iterator[Finding]:
    html = context.built.parts.get(email_channel.HTML)
    if html is None:
        return
    html_tag = _HTML_TAG.search(html)
    lang = attribute(html_tag.group(0), "lang") if html_tag else None
    if not lang or lang.lower() == "und":
        yield context.finding(
            (Stage.EMAIL_MARKUP,),
            Severity.ERROR,
            ID,
            'the email\'s <html> has no language (lang attribute; MJML writes lang="und" unless <mjml lang> is set)',
            part=email_channel.HTML,
            line=1,
        )


RULE = Rule((ID,), check)
