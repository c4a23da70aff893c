"""sms-worst-case: the SMS with every variable at its maximum length, in GSM-7 and if any value is not."""

from __future__ import annotations

from collections.abc import Iterator

from campaign_tools.channels import sms as sms_channel
from campaign_tools.templates.lint.context import LintContext
from campaign_tools.templates.lint.report import Finding, Severity
from campaign_tools.templates.lint.rules import Rule
from campaign_tools.templates.manifest import ASSUMED_MAX_LENGTH

ID = "sms-worst-case"


def check(context: LintContext) -> Iterator[Finding]:
    from campaign_tools.rendering import sms_encoding

    budget = sms_channel.max_segments(context.manifest.settings_for(sms_channel.CHANNEL))
    for rendering, info in context.rendered_sms:
        if not rendering.worst_case or rendering.text is None:
            continue
        ucs2 = sms_encoding(rendering.text + "\u2019")  # one character outside GSM-7 anywhere in the data
        yield context.finding(
            rendering.place,
            Severity.WARNING if info.segments > budget else Severity.NOTE,
            ID,
            f"SMS worst case (every variable at its maximum length, from {context.built.attributes.source}, "
            f"else {ASSUMED_MAX_LENGTH} characters): {info.characters} characters, {info.segments} "
            f"{info.encoding} segment(s); {ucs2.segments} if any value has a character outside GSM-7 "
            f"(budget: {budget})",
            part=sms_channel.BODY,
        )


RULE = Rule((ID,), check)
