"""numeric-string-comparison: gt/gte/lt/lte (or eq/neq) between an endpoint attribute, always a string, and a number
literal: Pinpoint compares "9" and "17" as text, or fails on a string against a number (found by lint_hazards)."""

from __future__ import annotations

from campaign_tools.templates.lint.report import Severity
from campaign_tools.templates.lint.rules import hazard_rule

ID = "numeric-string-comparison"
RULE = hazard_rule(ID, Severity.WARNING)
