"""sms-gsm7: characters outside GSM-7 make an SMS UCS-2 (70 characters a segment): a warning for the SMS text
itself, a note for a sample whose data does it. Both suggest replacements."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from campaign_tools.channels import sms as sms_channel
from campaign_tools.templates.lint.context import LintContext, Stage
from campaign_tools.templates.lint.report import Finding, Severity
from campaign_tools.templates.lint.rules import Rule

if TYPE_CHECKING:
    from campaign_tools.rendering import NonGsmChar

ID = "sms-gsm7"


def check(context: LintContext) -> Iterator[Finding]:
    yield from _in_the_text(context)
    for rendering, info in context.rendered_sms:
        if not rendering.worst_case and info.non_gsm_chars:
            yield context.finding(
                rendering.place,
                Severity.NOTE,
                ID,
                f"SMS for {rendering.sample_id} is UCS-2 because of its data: {_describe(info.non_gsm_chars)}",
                part=sms_channel.BODY,
            )


def _in_the_text(context: LintContext) -> Iterator[Finding]:
    from campaign_tools.rendering import sms_encoding

    if context.sms_literal is None:
        return
    path = context.source.files[sms_channel.BODY]
    source_text = path.read_text(encoding="utf-8")
    for char in sms_encoding(context.sms_literal).non_gsm_chars:
        at = source_text.find(char.char)
        yield context.finding(
            (Stage.SMS_TEXT,),
            Severity.WARNING,
            ID,
            "the SMS text itself is outside GSM-7, so every message is UCS-2 (70 characters a segment): "
            f"{_describe([char])}",
            file=context.relative(path),
            line=source_text.count("\n", 0, at) + 1 if at >= 0 else None,
        )


def _describe(chars: Iterable[NonGsmChar]) -> str:
    described = []
    for char in chars:
        shown = f"{char.char!r} (U+{ord(char.char[0]):04X})"
        described.append(f"{shown} -> {char.replacement!r}" if char.replacement else f"{shown}: no GSM-7 equivalent")
    return "; ".join(described)


RULE = Rule((ID,), check)
