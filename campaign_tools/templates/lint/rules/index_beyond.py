"""index-beyond: a recommendation index at or past RecommendationsPerMessage, which is always empty."""

from __future__ import annotations

from collections.abc import Iterator

from campaign_tools.templates.lint.context import LintContext
from campaign_tools.templates.lint.report import Finding, Severity
from campaign_tools.templates.lint.rules import Rule
from campaign_tools.templates.paths import RECOMMENDATION_ITEMS, RECOMMENDATIONS, split_path

ID = "index-beyond"


def check(context: LintContext) -> Iterator[Finding]:
    limit = context.manifest.items_per_message
    for site in context.known_path_uses:
        index = site.info.index
        if index is not None and _is_recommendation_list(site.use.path) and index >= limit:
            yield context.use_finding(
                site,
                Severity.ERROR,
                ID,
                f"{site.use.path}: index {index} is beyond RecommendationsPerMessage ({limit}); it is always empty",
            )


def _is_recommendation_list(path: str) -> bool:
    return split_path(path)[0] in (RECOMMENDATIONS, RECOMMENDATION_ITEMS)


RULE = Rule((ID,), check)
