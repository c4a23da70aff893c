"""`pinrec templates lint`: every rule a Pinpoint template must pass, as errors and warnings with file and line.

Each rule is a module in rules/ and an entry in registry.py; context.py holds what they read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from campaign_tools.channels.base import Part
from campaign_tools.templates.authoring import author_part
from campaign_tools.templates.build import BuiltTemplate, build_template
from campaign_tools.templates.errors import AuthoringError
from campaign_tools.templates.lint.context import LintContext
from campaign_tools.templates.lint.registry import RULES
from campaign_tools.templates.lint.report import Finding, LintReport, Severity
from campaign_tools.templates.manifest import TemplateSource
from transformer.config import PinrecConfig
from transformer.errors import PinrecError

__all__ = ["AUTHORING", "BUILD", "Finding", "LintReport", "Severity", "lint_template"]

AUTHORING = "authoring"
"""The rule id of a build that stopped at an authoring error: the only finding then."""
BUILD = "build"
"""The rule id of a build that failed (its guarded email pipeline, or altogether)."""
_SEVERITY_ORDER = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.NOTE: 2}


def lint_template(
    source: TemplateSource, config: PinrecConfig | None = None, renderer: Any | None = None
) -> LintReport:
    """Build the template and run every rule; a build that fails is one error finding with its location."""
    from campaign_tools.templates.build import make_renderer

    renderer = renderer if renderer is not None else make_renderer()
    first: list[Finding] = []
    try:
        built = build_template(source, config, renderer)
    except AuthoringError as error:
        file = f"{source.name}/{error.file.name}" if error.file else source.name
        return LintReport(source.name, [Finding(file, error.line, Severity.ERROR, AUTHORING, error.message)], None)
    except PinrecError as error:
        # The guarded email pipeline could not render or check a sample: report it, then lint the unguarded build
        # so every other rule still runs.
        try:
            built = build_template(source, config, renderer, guarded=False)
        except PinrecError as again:
            return LintReport(source.name, [Finding(source.name, None, Severity.ERROR, BUILD, str(again))], None)
        first.append(Finding(source.name, None, Severity.ERROR, BUILD, str(error)))
    context = LintContext(built, _author_all(source, built), renderer)
    found = _in_walk_order(finding for rule in RULES for finding in rule.check(context))
    findings = list(dict.fromkeys([*first, *found]))  # the first of equal findings stays
    findings.sort(key=lambda item: (_SEVERITY_ORDER[item.severity], item.file, item.line or 0))
    return LintReport(source.name, findings, built)


def _in_walk_order(findings: Iterable[Finding]) -> list[Finding]:
    """Stable: findings made at the same place keep registry order, and each rule's own order."""
    return sorted(findings, key=lambda finding: finding.place)


def _author_all(source: TemplateSource, built: BuiltTemplate) -> dict[Part, str]:
    return {part: author_part(source, part, built.attributes) for part in source.files}
