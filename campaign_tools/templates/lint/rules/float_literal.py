"""float-literal: a decimal literal argument, a Java double in Pinpoint (found by lint_hazards)."""

from __future__ import annotations

from campaign_tools.templates.lint.report import Severity
from campaign_tools.templates.lint.rules import hazard_rule

ID = "float-literal"
RULE = hazard_rule(ID, Severity.WARNING)
