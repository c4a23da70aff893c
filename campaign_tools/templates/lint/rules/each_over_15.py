"""each-over-15: `each` over a custom attribute, which can hold more values than Pinpoint's `each` visits."""

from __future__ import annotations

from collections.abc import Iterator

from campaign_tools.templates.lint.context import LintContext
from campaign_tools.templates.lint.report import Finding, Severity
from campaign_tools.templates.lint.rules import Rule
from campaign_tools.templates.paths import CUSTOM_LIST_MAPS, split_path

ID = "each-over-15"
EACH_LIMIT = 15


def check(context: LintContext) -> Iterator[Finding]:
    for site in context.known_path_uses:
        path = site.use.path
        if site.use.block == "each" and site.info.is_list and _unbounded_list(path):
            yield context.use_finding(
                site,
                Severity.WARNING,
                ID,
                f"each over {path}: a custom attribute can hold more than {EACH_LIMIT} values and "
                f"Pinpoint's each stops at {EACH_LIMIT}",
            )


def _unbounded_list(path: str) -> bool:
    dotted = ".".join(split_path(path))
    return any(dotted.startswith(prefix + ".") for prefix in CUSTOM_LIST_MAPS)


RULE = Rule((ID,), check)
