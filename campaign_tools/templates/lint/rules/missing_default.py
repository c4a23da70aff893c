"""missing-default: a printed recommendation variable without a DefaultSubstitutions entry.

A variable used only as an `{{#if}}` condition needs none: without one the block hides when the value is missing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping

from campaign_tools.templates.lint.context import LintContext
from campaign_tools.templates.lint.report import Finding, Severity
from campaign_tools.templates.lint.rules import Rule
from campaign_tools.templates.paths import RECOMMENDATIONS, split_path

ID = "missing-default"


def check(context: LintContext) -> Iterator[Finding]:
    defaults = context.built.default_substitutions
    for site in context.known_path_uses:
        attribute, path = site.info.recommendation, site.use.path
        condition_only = site.use.block == "if"
        if attribute is not None and not condition_only and not _has_default(path, defaults):
            yield context.use_finding(
                site,
                Severity.ERROR,
                ID,
                f"{path} has no DefaultSubstitutions entry: Pinpoint's test sends (and any endpoint without it) "
                f'print nothing; add "{RECOMMENDATIONS}.{attribute}" to [default_substitutions]',
            )


def _has_default(path: str, defaults: Mapping[str, str]) -> bool:
    segments = split_path(path)
    keys = {".".join(split_path(key)) for key in defaults}
    without_indexes = [segment for segment in segments if not re.fullmatch(r"\[\d+\]", segment)]
    return ".".join(segments) in keys or ".".join(without_indexes) in keys


RULE = Rule((ID,), check)
