"""part-size: each part within what Pinpoint accepts (email 600,000 characters, SMS 1,600, each push field 4,000)."""

from __future__ import annotations

from collections.abc import Iterator

from campaign_tools.templates.lint.context import LintContext, Stage
from campaign_tools.templates.lint.report import Finding, Severity
from campaign_tools.templates.lint.rules import Rule
from campaign_tools.templates.manifest import Part

ID = "part-size"
EMAIL_TEMPLATE_LIMIT = 600_000
SMS_TEMPLATE_LIMIT = 1_600
PUSH_PART_LIMIT = 4_000


def check(context: LintContext) -> Iterator[Finding]:
    place = (Stage.PART_SIZES,)
    parts = context.built.parts
    email = sum(len(parts.get(part, "")) for part in (Part.EMAIL_SUBJECT, Part.EMAIL_HTML, Part.EMAIL_TEXT))
    if email > EMAIL_TEMPLATE_LIMIT:
        yield context.finding(
            place,
            Severity.ERROR,
            ID,
            f"email template is {email:,} characters; Pinpoint accepts {EMAIL_TEMPLATE_LIMIT:,}",
            part=Part.EMAIL_HTML,
        )
    if len(parts.get(Part.SMS_BODY, "")) > SMS_TEMPLATE_LIMIT:
        yield context.finding(
            place,
            Severity.ERROR,
            ID,
            f"SMS template is {len(parts[Part.SMS_BODY]):,} characters; Pinpoint accepts {SMS_TEMPLATE_LIMIT:,}",
            part=Part.SMS_BODY,
        )
    for part in (Part.PUSH_TITLE, Part.PUSH_BODY, Part.PUSH_URL):
        if len(parts.get(part, "")) > PUSH_PART_LIMIT:
            yield context.finding(
                place,
                Severity.ERROR,
                ID,
                f"push {part.value} is {len(parts[part]):,} characters; Pinpoint accepts {PUSH_PART_LIMIT:,}",
                part=part,
            )


RULE = Rule((ID,), check)
