"""email-size: each rendered sample's email stays under the size Gmail shows unclipped; a note gives the largest."""

from __future__ import annotations

from collections.abc import Iterator

from campaign_tools.channels import email as email_channel
from campaign_tools.templates.lint.context import LintContext, Stage
from campaign_tools.templates.lint.report import Finding, Severity
from campaign_tools.templates.lint.rules import Rule

ID = "email-size"
EMAIL_SIZE_BUDGET = 90 * 1024
"""Rendered per-recipient HTML budget: Gmail clips at ~102 KB, and Pinpoint adds tracking to links and a pixel."""


def check(context: LintContext) -> Iterator[Finding]:
    sizes: list[tuple[int, str]] = []
    for rendering in context.renderings:
        if rendering.part is not email_channel.HTML or rendering.text is None:
            continue
        size = len(rendering.text.encode("utf-8"))
        if size > EMAIL_SIZE_BUDGET:
            yield context.finding(
                rendering.place,
                Severity.WARNING if rendering.worst_case else Severity.ERROR,
                ID,
                f"rendered email for {rendering.sample_id} is {size / 1024:.1f} KB, over the "
                f"{EMAIL_SIZE_BUDGET // 1024} KB budget (Gmail clips at ~102 KB)",
                part=email_channel.HTML,
            )
        if not rendering.worst_case:
            sizes.append((size, rendering.sample_id))
    if sizes:
        size, sample_id = max(sizes)
        yield context.finding(
            (Stage.SUMMARY,),
            Severity.NOTE,
            ID,
            f"largest rendered email: {size / 1024:.1f} KB ({sample_id})",
            part=email_channel.HTML,
        )


RULE = Rule((ID,), check)
