"""sms-opt-out: the SMS text tells the reader how to opt out."""

from __future__ import annotations

import re
from collections.abc import Iterator

from campaign_tools.channels import sms as sms_channel
from campaign_tools.templates.lint.context import LintContext, Stage
from campaign_tools.templates.lint.report import Finding, Severity
from campaign_tools.templates.lint.rules import Rule

ID = "sms-opt-out"
OPT_OUT = re.compile(r"\b(STOP|UNSUBSCRIBE|OPT-?OUT|CANCEL|END|QUIT)\b")


def check(context: LintContext) -> Iterator[Finding]:
    if context.sms_literal is not None and not OPT_OUT.search(context.sms_literal):
        yield context.finding(
            (Stage.SMS_TEXT,),
            Severity.WARNING,
            ID,
            'the SMS has no opt-out instruction (e.g. "Reply STOP to opt out")',
            file=context.relative(context.source.files[sms_channel.BODY]),
            line=1,
        )


RULE = Rule((ID,), check)
