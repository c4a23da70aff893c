"""sms-segments: each sample's SMS, its characters, encoding and segments against the template's budget."""

from __future__ import annotations

from collections.abc import Iterator

from campaign_tools.channels import sms as sms_channel
from campaign_tools.templates.lint.context import LintContext
from campaign_tools.templates.lint.report import Finding, Severity
from campaign_tools.templates.lint.rules import Rule

ID = "sms-segments"


def check(context: LintContext) -> Iterator[Finding]:
    budget = sms_channel.max_segments(context.manifest.settings_for(sms_channel.CHANNEL))
    for rendering, info in context.rendered_sms:
        if rendering.worst_case:
            continue
        yield context.finding(
            rendering.place,
            Severity.WARNING if info.segments > budget else Severity.NOTE,
            ID,
            f"SMS for {rendering.sample_id}: {info.characters} characters, {info.encoding}, {info.segments} "
            f"segment(s) (budget: {budget})",
            part=sms_channel.BODY,
        )


RULE = Rule((ID,), check)
