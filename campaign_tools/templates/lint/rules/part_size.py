"""part-size: each channel's parts within what Pinpoint accepts: a limit on all of a channel's parts together
(email 600,000 characters, SMS 1,600) and on single parts (each push field 4,000)."""

from __future__ import annotations

from collections.abc import Iterator

from campaign_tools.templates.lint.context import LintContext, Stage
from campaign_tools.templates.lint.report import Finding, Severity
from campaign_tools.templates.lint.rules import Rule

ID = "part-size"


def check(context: LintContext) -> Iterator[Finding]:
    place = (Stage.PART_SIZES,)
    parts = context.built.parts
    for channel in context.manifest.channel_objects:
        present = [part for part in channel.parts if part in parts]
        total = sum(len(parts[part]) for part in present)
        limit = channel.template_character_limit
        if limit is not None and total > limit:
            largest = max(present, key=lambda part: len(parts[part]))
            yield context.finding(
                place,
                Severity.ERROR,
                ID,
                f"{channel.title} template is {total:,} characters; Pinpoint accepts {limit:,}",
                part=largest,
            )
        for part in present:
            if part.character_limit is not None and len(parts[part]) > part.character_limit:
                yield context.finding(
                    place,
                    Severity.ERROR,
                    ID,
                    f"{channel.title} {part.key} is {len(parts[part]):,} characters; Pinpoint accepts "
                    f"{part.character_limit:,}",
                    part=part,
                )


RULE = Rule((ID,), check)
