"""number-print: a printed metric, a Java double that Pinpoint may print as 3.0 (found by lint_hazards)."""

from __future__ import annotations

from campaign_tools.templates.lint.report import Severity
from campaign_tools.templates.lint.rules import hazard_rule

ID = "number-print"
RULE = hazard_rule(ID, Severity.WARNING)
