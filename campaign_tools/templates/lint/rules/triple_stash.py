"""triple-stash: `{{{…}}}` prints without HTML escaping. An error on item or user data in an HTML part (found
from the paths, naming the path); otherwise the renderer's hazard, a warning in HTML and a note in text parts."""

from __future__ import annotations

from collections.abc import Iterator

from campaign_tools.templates.lint.context import HazardSite, LintContext
from campaign_tools.templates.lint.report import Finding, Severity
from campaign_tools.templates.lint.rules import Rule
from campaign_tools.templates.paths import RECOMMENDATION_ITEMS, RECOMMENDATIONS

ID = "triple-stash"
ITEM_DATA_ROOTS = (RECOMMENDATIONS, RECOMMENDATION_ITEMS, "Attributes", "User")


def check(context: LintContext) -> Iterator[Finding]:
    for site in context.known_path_uses:
        use = site.use
        if use.triple and _root(use.path) in ITEM_DATA_ROOTS and site.part.markup:
            yield context.use_finding(
                site,
                Severity.ERROR,
                ID,
                f"{{{{{{{use.path}}}}}}} prints item or user data unescaped into HTML: use {{{{…}}}}",
            )
    for hazard in context.hazards:
        if hazard.hazard.code != ID or _reported_with_path(context, hazard):
            continue
        severity = Severity.WARNING if hazard.part.markup else Severity.NOTE
        yield context.hazard_finding(hazard, severity, ID)


def _reported_with_path(context: LintContext, hazard: HazardSite) -> bool:
    """Item or user data on the hazard's line of an HTML part: reported by path above (or as an unknown path)."""
    return hazard.part.markup and any(
        use.part is hazard.part
        and use.use.triple
        and use.use.line == hazard.hazard.line
        and _root(use.use.path) in ITEM_DATA_ROOTS
        for use in context.path_uses
    )


def _root(path: str) -> str:
    return path.split(".", maxsplit=1)[0]


RULE = Rule((ID,), check)
