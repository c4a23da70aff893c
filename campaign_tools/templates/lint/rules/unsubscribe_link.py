"""unsubscribe-link: the email has a link tagged `ses:tags="unsubscribeLinkTag:…"`, and not on `<mj-button>`,
where MJML drops the attribute."""

from __future__ import annotations

import re
from collections.abc import Iterator

from campaign_tools.channels import email as email_channel
from campaign_tools.templates.lint.context import LintContext, Stage
from campaign_tools.templates.lint.report import Finding, Severity
from campaign_tools.templates.lint.rules import Rule

ID = "unsubscribe-link"
_UNSUBSCRIBE = re.compile(r"""ses:tags\s*=\s*["'][^"']*unsubscribeLinkTag:""", re.IGNORECASE)
_MJ_BUTTON_TAGGED = re.compile(r"<mj-button\b[^>]*ses:tags", re.IGNORECASE)


def check(context: LintContext) -> Iterator[Finding]:
    html = context.built.parts.get(email_channel.HTML)
    if html is None:
        return
    if not _UNSUBSCRIBE.search(html):
        yield context.finding(
            (Stage.EMAIL_MARKUP,),
            Severity.ERROR,
            ID,
            'no unsubscribe link: add a link with ses:tags="unsubscribeLinkTag:NAME" (the unsubscribe() function '
            "writes one)",
            part=email_channel.HTML,
            line=1,
        )
    authored = context.authored[email_channel.HTML]
    on_button = _MJ_BUTTON_TAGGED.search(authored)
    if on_button:
        yield context.finding(
            (Stage.EMAIL_MARKUP,),
            Severity.ERROR,
            ID,
            "ses:tags on <mj-button> is dropped by MJML: put the unsubscribe link in an <mj-text>",
            part=email_channel.HTML,
            line=authored.count("\n", 0, on_button.start()) + 1,
            snippet="ses:tags",
        )


RULE = Rule((ID,), check)
